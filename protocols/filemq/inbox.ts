/**
 * The subscriber's inbox on disk (`filemq.md` §11.2, §11.3, §12.1). A file arrives under a temporary dot-name
 * in its target's directory and is renamed into place once complete, so a reader never sees a partial file
 * and a shorter rewrite leaves no stale tail. Every virtual path is validated, parent directories are
 * created without following symbolic links, and the resolved directory must lie inside the inbox. A digest
 * cache (`.cache`, with each file's size and modification time) lets a restarted subscriber tell the
 * publisher what it already has. Digests are computed when they are needed (for the entries an ICANHAZ
 * carries, just before it is due), not while files arrive, and stay valid while a file's size and
 * modification time do.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fdatasync, fstatSync, openSync, realpathSync, renameSync, unlinkSync, write, writeSync } from "node:fs";
import { lstat, mkdir, readFile, readdir, realpath, rm, rmdir, stat, unlink, writeFile, rename } from "node:fs/promises";
import { promisify } from "node:util";
import { join, sep } from "node:path";
import type { Logger } from "../../runtime/engine/index.js";
import { digestFile, stillValid, type FileStamp } from "./digests.js";
import { MAX_PATH_OCTETS, pathProblem, relativeKey, segmentsOf } from "./paths.js";

/** Name of the digest cache at the inbox root (a dot-file: never published, never written by a peer). */
export const CACHE_FILE = ".cache";
/** Temporary files of transfers in progress: `.fmq-<hex>.part`, in the target's directory. */
const TEMPORARY = /^\.fmq-[0-9a-f]+\.part$/;
/** At most this many cache entries travel in one ICANHAZ (its dictionary has a one-octet count). */
export const MAX_CACHE_ENTRIES = 255;
/**
 * Chunks up to this size are written with a synchronous call: for a small write the thread-pool round trip
 * of an asynchronous one costs far more than the write (a few microseconds on a local disk); larger chunks
 * go through the thread pool so the event loop never waits long.
 */
export const SYNC_IO_LIMIT = 256 * 1024;
/** Large chunks written in the background at once, at most. */
const WRITES_AHEAD = 4;
/** A file being received is flushed to disk in the background every this many octets. */
const FLUSH_EVERY = 64 * 1024 * 1024;
const writeAsync = (descriptor: number, chunk: Uint8Array, offset: number, length: number, position: number): Promise<number> =>
  promisify(write)(descriptor, chunk, offset, length, position).then((result) => result.bytesWritten);
const datasyncAsync = promisify(fdatasync);
/** How long cache changes wait before they are written, so that many small files cost one write. */
const CACHE_SAVE_DELAY_MS = 1000;

/** A virtual path the inbox refuses to write (§12.1). */
export class PathRefused extends Error {
  constructor(readonly filename: string, readonly reason: string) {
    super(`refused ${JSON.stringify(filename)}: ${reason}`);
    this.name = "PathRefused";
  }
}

/** Options of {@link Inbox.open}. */
export interface InboxOptions {
  readonly logger: Logger;
  /** Flush each file to disk before renaming it into place (default true). */
  readonly fsync?: boolean;
}

/** A file delivered into the inbox. */
export interface Delivered {
  readonly filename: string;
  readonly path: string;
  readonly size: number;
}

/** What the cache knows of a file: its stamp, and its digest once computed. */
type CacheEntry = FileStamp & { digest?: string };

/** The subscriber's inbox: a directory that mirrors what the subscriptions receive. */
export class Inbox {
  /** Cache entries by path relative to the root, `/`-separated. */
  private readonly cache = new Map<string, CacheEntry>();
  /** Directories (relative, `/`-separated) checked to be real directories inside the inbox. */
  private readonly checked = new Set<string>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  /** Aborted by close(): a digest being computed stops reading. */
  private readonly stopping = new AbortController();
  /** Digests being computed: close() waits for them to stop, so that no file of the inbox stays open. */
  private readonly digesting = new Set<Promise<unknown>>();

  private constructor(
    /** The inbox directory, resolved (no symbolic links). */
    readonly root: string,
    private readonly options: InboxOptions,
  ) {}

  /**
   * Opens (creating it if needed) an inbox: removes temporary files a killed subscriber left behind and
   * brings the digest cache up to date with what is on disk (a digest whose file's size or modification
   * time changed is dropped, to be computed again when needed).
   */
  static async open(directory: string, options: InboxOptions): Promise<Inbox> {
    await mkdir(directory, { recursive: true });
    const inbox = new Inbox(await realpath(directory), options);
    await inbox.loadCache();
    await inbox.refresh();
    return inbox;
  }

  /** The local path a valid virtual filename maps to (FILEMQ/1: the inbox plus the path). */
  localPath(filename: string): string {
    return join(this.root, ...segmentsOf(filename));
  }

  /**
   * The RESYNC cache for a subscription: `key → digest` for files under the subscription path, keys relative
   * to it, at most 255 entries of at most 255 octets each; when there are more, the largest files' entries go
   * (they save the most transfer). Only digests already known and still valid (the file's size and
   * modification time unchanged) are given: {@link Inbox.prepareDigests} computes the others beforehand, and
   * a file changed since gets sent again, which is safe.
   */
  async cacheFor(subscription: string): Promise<Map<string, string>> {
    const cache = new Map<string, string>();
    for (const { relative, key, entry } of this.candidates(subscription)) {
      if (entry.digest !== undefined && (await this.stampValid(relative, entry))) cache.set(key, entry.digest);
    }
    return cache;
  }

  /**
   * Computes the digests {@link Inbox.cacheFor} will give for a subscription that are not known yet, or no
   * longer valid. Files are read in chunks, so the event loop goes on meanwhile; a file of gigabytes takes
   * seconds, which is why this runs before an ICANHAZ is due, not while it is being made.
   */
  async prepareDigests(subscription: string): Promise<void> {
    for (const { relative, entry } of this.candidates(subscription)) {
      if (this.stopping.signal.aborted) return;
      if (entry.digest === undefined || !(await this.stampValid(relative, entry))) await this.digest(relative);
    }
  }

  /** The files of the inbox under a subscription, as virtual paths. */
  filesUnder(subscription: string): string[] {
    return [...this.cache.keys()].map((relative) => `/${relative}`).filter((vpath) => vpath.startsWith(subscription));
  }

  /** The cache entries an ICANHAZ for the subscription carries: under its path, the largest files' first. */
  private candidates(subscription: string): { relative: string; key: string; entry: CacheEntry }[] {
    const candidates: { relative: string; key: string; entry: CacheEntry }[] = [];
    for (const [relative, entry] of this.cache) {
      const vpath = `/${relative}`;
      if (!vpath.startsWith(subscription)) continue;
      const key = relativeKey(subscription, vpath);
      if (Buffer.byteLength(`${key}=${"0".repeat(40)}`, "utf8") > MAX_PATH_OCTETS) continue;
      candidates.push({ relative, key, entry });
    }
    candidates.sort((a, b) => b.entry.size - a.entry.size);
    return candidates.slice(0, MAX_CACHE_ENTRIES);
  }

  /** Whether the file still has the size and modification time of its entry. */
  private async stampValid(relative: string, entry: CacheEntry): Promise<boolean> {
    const current = await stat(join(this.root, ...relative.split("/"))).catch(() => undefined);
    return current !== undefined && stillValid(entry, current);
  }

  /** Computes and records a file's digest; undefined if the file is gone. */
  private async digest(relative: string): Promise<string | undefined> {
    const path = join(this.root, ...relative.split("/"));
    const signal = this.stopping.signal;
    let reading: Promise<string> | undefined;
    try {
      const before = await stat(path);
      reading = digestFile(path, signal);
      this.digesting.add(reading);
      const digest = await reading;
      const stamp = { size: before.size, mtimeMs: before.mtimeMs };
      // A file that changed while it was read gets no digest: it will be sent again, which is safe.
      if (!stillValid(stamp, await stat(path))) return undefined;
      this.cache.set(relative, { ...stamp, digest });
      this.scheduleSave();
      return digest;
    } catch {
      // Stopped by close(), the file is still there: its entry stays, for a later run to compute.
      if (!signal.aborted) this.cache.delete(relative);
      return undefined;
    } finally {
      if (reading !== undefined) this.digesting.delete(reading);
    }
  }

  /** Starts receiving a file: checks its path, prepares its directory and opens a temporary file there. */
  async begin(filename: string): Promise<InboxFile> {
    const directory = await this.directoryFor(filename);
    const target = join(directory, segmentsOf(filename).at(-1) ?? "");
    const temporary = join(directory, `.fmq-${randomBytes(8).toString("hex")}.part`);
    // Opening, closing and renaming are quick metadata calls, made synchronously for the same reason.
    const descriptor = openSync(temporary, "wx");
    return new InboxFile(this, filename, target, temporary, descriptor);
  }

  /** Deletes a file the publisher deleted; false if it was not there. Empty directories left behind go too. */
  async remove(filename: string): Promise<boolean> {
    const problem = pathProblem(filename, "filename");
    if (problem !== undefined) throw new PathRefused(filename, problem);
    const segments = segmentsOf(filename);
    const target = join(this.root, ...segments);
    await this.checkInside(filename, join(this.root, ...segments.slice(0, -1)), false);
    const info = await lstat(target).catch(() => undefined);
    this.forget(segments.join("/"));
    if (info === undefined) return false;
    if (info.isDirectory()) throw new PathRefused(filename, "it is a directory in the inbox");
    await unlink(target);
    await this.prune(segments.slice(0, -1));
    return true;
  }

  /** Stops computing digests, writes the cache now and stops; further changes are not recorded. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopping.abort();
    await Promise.allSettled(this.digesting);
    clearTimeout(this.saveTimer);
    await this.saving;
    await this.saveCache();
    this.closed = true;
  }

  /** @internal A transfer completed: record the new file's stamp (its digest is computed when needed). */
  recorded(filename: string, entry: CacheEntry): void {
    this.cache.set(filename.slice(1), entry);
    this.scheduleSave();
  }

  /** @internal Whether files are flushed before being renamed into place. */
  get fsync(): boolean {
    return this.options.fsync ?? true;
  }

  /** @internal A file the publisher replaced by a directory (or the reverse) is out of the way now. */
  forget(relative: string): void {
    if (this.cache.delete(relative)) this.scheduleSave();
    this.uncheck(relative);
    const prefix = `${relative}/`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }

  /**
   * The directory a file goes into, created as needed. A symbolic link on the way is refused (it could lead
   * anywhere); a plain file on the way is stale (the publisher has a directory there now) and is removed.
   */
  private async directoryFor(filename: string): Promise<string> {
    const problem = pathProblem(filename, "filename");
    if (problem !== undefined) throw new PathRefused(filename, problem);
    const segments = segmentsOf(filename);
    const parent = segments.slice(0, -1).join("/");
    if (this.checked.has(parent)) {
      // Checked before, but anyone may have swapped a directory on the way for a link since: one realpath
      // call tells (the root is resolved, so any link on the way changes the answer).
      const directory = join(this.root, ...segments.slice(0, -1));
      if (resolvedPath(directory) === directory) return directory;
      this.uncheck(parent);
    }
    let directory = this.root;
    for (const [index, segment] of segments.slice(0, -1).entries()) {
      directory = join(directory, segment);
      let info = await lstat(directory).catch(() => undefined);
      if (info !== undefined && !info.isDirectory() && !info.isSymbolicLink()) {
        this.options.logger.log("info", `replacing file ${segments.slice(0, index + 1).join("/")} by a directory`);
        await unlink(directory);
        this.forget(segments.slice(0, index + 1).join("/"));
        info = undefined;
      }
      if (info === undefined) {
        await mkdir(directory).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "EEXIST") throw error;
        });
        info = await lstat(directory);
      }
      if (info.isSymbolicLink()) throw new PathRefused(filename, `${segments.slice(0, index + 1).join("/")} is a symbolic link`);
      if (!info.isDirectory()) throw new PathRefused(filename, `${segments.slice(0, index + 1).join("/")} is not a directory`);
    }
    await this.checkInside(filename, directory, true);
    this.checked.add(parent);
    return directory;
  }

  /** Refuses a directory whose resolved path is outside the inbox (a link swapped in meanwhile, say). */
  private async checkInside(filename: string, directory: string, mustExist: boolean): Promise<void> {
    let resolved: string;
    try {
      resolved = await realpath(directory);
    } catch (error) {
      if (!mustExist && (error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    if (resolved !== this.root && !resolved.startsWith(this.root + sep)) throw new PathRefused(filename, "it resolves outside the inbox");
  }

  /** Removes directories emptied by a delete, up to (not including) the root. */
  private async prune(directories: string[]): Promise<void> {
    for (let depth = directories.length; depth > 0; depth--) {
      try {
        await rmdir(join(this.root, ...directories.slice(0, depth)));
      } catch {
        return;
      }
      this.uncheck(directories.slice(0, depth).join("/"));
    }
  }

  /** A directory is gone or replaced: it and everything under it must be checked again before use. */
  private uncheck(relative: string): void {
    this.checked.delete(relative);
    const prefix = `${relative}/`;
    for (const directory of this.checked) if (directory.startsWith(prefix)) this.checked.delete(directory);
  }

  private async loadCache(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.root, CACHE_FILE), "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      const match = /^([0-9A-F]{40}|-) (\d+) (\d+(?:\.\d+)?) (.+)$/.exec(line);
      if (match) this.cache.set(match[4], { size: Number(match[2]), mtimeMs: Number(match[3]), ...(match[1] !== "-" ? { digest: match[1] } : {}) });
    }
  }

  /** Walks the inbox: stale temporary files go, changed files lose their digest, vanished ones are forgotten. */
  private async refresh(): Promise<void> {
    const seen = new Set<string>();
    const walk = async (directory: string, prefix: string): Promise<void> => {
      for (const entry of await readdir(directory, { withFileTypes: true })) {
        const path = join(directory, entry.name);
        if (entry.name.startsWith(".")) {
          if (entry.isFile() && TEMPORARY.test(entry.name)) await unlink(path).catch(() => undefined);
          continue;
        }
        const relative = prefix + entry.name;
        if (entry.isDirectory()) await walk(path, `${relative}/`);
        else if (entry.isFile()) {
          seen.add(relative);
          const info = await stat(path);
          const stamp = { size: info.size, mtimeMs: info.mtimeMs };
          if (!stillValid(this.cache.get(relative), stamp)) this.cache.set(relative, stamp);
        }
      }
    };
    await walk(this.root, "");
    for (const relative of [...this.cache.keys()]) if (!seen.has(relative)) this.cache.delete(relative);
    await this.saveCache();
  }

  private scheduleSave(): void {
    if (this.closed || this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saving = this.saving.then(() => this.saveCache());
    }, CACHE_SAVE_DELAY_MS);
  }

  /**
   * Writes the cache atomically: a temporary file renamed over the old one. The cache only saves transfers,
   * so a failure (a full disk) is a warning, and the temporary file goes (the old cache stays).
   */
  private async saveCache(): Promise<void> {
    if (this.closed) return;
    const lines = [...this.cache].map(([relative, entry]) => `${entry.digest ?? "-"} ${entry.size} ${entry.mtimeMs} ${relative}\n`);
    const temporary = join(this.root, `.fmq-${randomBytes(8).toString("hex")}.part`);
    try {
      await writeFile(temporary, lines.join(""));
      await rename(temporary, join(this.root, CACHE_FILE));
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      this.options.logger.log("warn", `digest cache not saved: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The path with every symbolic link resolved, or undefined if it does not exist. */
function resolvedPath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/**
 * Work left running in the background: its failure is thrown where it is awaited (the next write, or the
 * commit), and until then it must not count as unhandled, which would end the process (a full disk, say).
 */
function background<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

/** One file being received: written in order into its temporary file, then renamed into place. */
export class InboxFile {
  /** Octets written so far: the offset the next chunk must have. */
  written = 0;
  private finished = false;
  private readonly pending: Promise<void>[] = [];
  /** Octets written when the last background flush started. */
  private flushed = 0;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly inbox: Inbox,
    /** The virtual filename. */
    readonly filename: string,
    /** Where the file goes once complete. */
    readonly target: string,
    private readonly temporary: string,
    private readonly descriptor: number,
  ) {}

  /** Appends a chunk. */
  async write(chunk: Uint8Array): Promise<void> {
    const position = this.written;
    this.written += chunk.length;
    if (chunk.length <= SYNC_IO_LIMIT) {
      for (let done = 0; done < chunk.length;) done += writeSync(this.descriptor, chunk, done, chunk.length - done, position + done);
      return;
    }
    // Large chunks are written in the background, a few at a time at their own offsets, so the next chunk
    // can arrive meanwhile; at most WRITES_AHEAD chunks are held in memory waiting for the disk.
    this.pending.push(background(this.writeAt(chunk, position)));
    if (this.pending.length >= WRITES_AHEAD) await this.pending.shift();
    // A big file is flushed as it grows, so the flush before the rename has little left to do.
    if (this.inbox.fsync && this.written - this.flushed >= FLUSH_EVERY && this.syncing === undefined) {
      this.flushed = this.written;
      this.syncing = background(datasyncAsync(this.descriptor).finally(() => (this.syncing = undefined)));
    }
  }

  private async writeAt(chunk: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < chunk.length;) done += await writeAsync(this.descriptor, chunk, done, chunk.length - done, position + done);
  }

  /** Waits for the writes and the flush still in flight; the first failure, if any, is thrown. */
  private async flush(): Promise<void> {
    const pending: Promise<void>[] = this.pending.splice(0);
    if (this.syncing !== undefined) pending.push(this.syncing);
    const results = await Promise.allSettled(pending);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** The file is complete: flush it, rename it over its target and record its stamp. */
  async commit(): Promise<Delivered> {
    this.finished = true;
    let mtimeMs: number;
    try {
      await this.flush();
      if (this.inbox.fsync) await datasyncAsync(this.descriptor);
      mtimeMs = fstatSync(this.descriptor).mtimeMs;
    } catch (error) {
      throw this.discard(error);
    } finally {
      closeSync(this.descriptor);
    }
    try {
      renameSync(this.temporary, this.target);
    } catch (error) {
      if (!["EISDIR", "ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw this.discard(error);
      try {
        // The publisher replaced a directory by this file: the directory is stale.
        await rm(this.target, { recursive: true, force: true });
        this.inbox.forget(this.filename.slice(1));
        renameSync(this.temporary, this.target);
      } catch (again) {
        throw this.discard(again);
      }
    }
    this.inbox.recorded(this.filename, { size: this.written, mtimeMs });
    return { filename: this.filename, path: this.target, size: this.written };
  }

  /** Gives the transfer up: the temporary file goes, the target is untouched. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.flush().catch(() => undefined);
    try {
      closeSync(this.descriptor);
    } catch {
      // Already closed.
    }
    this.discard(undefined);
  }

  /** Removes the temporary file; returns the error that made it necessary. */
  private discard(error: unknown): unknown {
    try {
      unlinkSync(this.temporary);
    } catch {
      // Gone already.
    }
    return error;
  }
}
