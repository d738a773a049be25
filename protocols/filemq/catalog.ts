/**
 * What a publisher serves (`filemq.md` §11.1): its mounts (a directory published under a virtual path) and
 * the files in them that it announced. A scan compares the tree with what was announced and yields patches:
 * a create for a new or changed file once it is stable (not modified for the stability age), a delete for an
 * announced file that vanished. Files and directories whose names start with `.` are never published.
 * Digests, needed only to compare with a subscriber's cache, are computed on demand and remembered while a
 * file's size and modification time stay the same.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { digestFile, stillValid, type Digest, type StampedDigest } from "./digests.js";
import { joinVirtual, pathProblem } from "./paths.js";

/** A directory published under a virtual path. */
export interface Mount {
  /** The directory. */
  readonly location: string;
  /** Its virtual path: `/` or `/logs`, say. */
  readonly alias: string;
}

/** A file as a scan found it. */
export interface PublishedFile {
  /** Virtual path: the mount's alias joined with the path relative to the mount. */
  readonly vpath: string;
  /** Where it is on disk. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** One change to send to subscribers. */
export type Patch =
  | { readonly op: "create"; readonly vpath: string; readonly file: PublishedFile }
  | { readonly op: "delete"; readonly vpath: string };

/** What the catalog knows of one virtual path. */
interface Entry {
  /** As the last scan found it. */
  file: PublishedFile;
  /** Size and modification time when it was last announced (a create patch made); undefined: never. */
  announced: { readonly size: number; readonly mtimeMs: number } | undefined;
}

/** Result of a scan. */
export interface ScanResult {
  /** Deletes first, then creates, each in path order. */
  readonly patches: readonly Patch[];
  /** When the earliest file that is not stable yet will be: rescanning then announces it. */
  readonly nextStableAt: number | undefined;
}

/** Stat calls in flight at once during a scan. */
const SCAN_PARALLELISM = 64;

/** The publisher's files. */
export class Catalog {
  private readonly entries = new Map<string, Entry>();
  private readonly digests = new Map<string, StampedDigest>();
  private readonly mountList: Mount[] = [];
  /** Files whose virtual path no subscriber would accept (§12.1), reported once each. */
  private readonly unpublishable = new Set<string>();

  constructor(
    /** A file is stable once not modified for this long (ms). */
    private readonly stableAgeMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** The mounts, in the order added. */
  get mounts(): readonly Mount[] {
    return this.mountList;
  }

  /** Publishes a directory under a virtual path; its files are announced by the next scan. */
  addMount(location: string, alias: string): void {
    this.mountList.push({ location: resolve(location), alias });
  }

  /** Announced files whose virtual path starts with `prefix` (plain string prefix, as spec 19 has it). */
  *filesUnder(prefix: string): Iterable<PublishedFile> {
    for (const entry of this.entries.values()) if (entry.announced !== undefined && entry.file.vpath.startsWith(prefix)) yield entry.file;
  }

  /** An announced file. */
  file(vpath: string): PublishedFile | undefined {
    const entry = this.entries.get(vpath);
    return entry?.announced !== undefined ? entry.file : undefined;
  }

  /** The SHA-1 of a file's contents, computed once per size and modification time. */
  async digest(file: PublishedFile): Promise<Digest> {
    const known = this.digests.get(file.path);
    if (stillValid(known, file) && known !== undefined) return known.digest;
    const digest = await digestFile(file.path);
    this.digests.set(file.path, { size: file.size, mtimeMs: file.mtimeMs, digest });
    return digest;
  }

  /** Compares the mounts' trees with what was announced. */
  async scan(now = Date.now()): Promise<ScanResult> {
    const found = new Map<string, PublishedFile>();
    for (const mount of this.mountList) {
      for (const file of await listMount(mount, this.warn)) {
        const problem = pathProblem(file.vpath, "filename");
        if (problem !== undefined) {
          if (!this.unpublishable.has(file.vpath)) this.warn(`${file.path} is not published: its virtual path ${problem}`);
          this.unpublishable.add(file.vpath);
        } else if (found.has(file.vpath)) this.warn(`${file.path} is hidden by another mount's ${file.vpath}`);
        else found.set(file.vpath, file);
      }
    }
    const deletes: Patch[] = [];
    const creates: Patch[] = [];
    for (const [vpath, entry] of this.entries) {
      if (found.has(vpath)) continue;
      this.entries.delete(vpath);
      this.digests.delete(entry.file.path);
      if (entry.announced !== undefined) deletes.push({ op: "delete", vpath });
    }
    let nextStableAt: number | undefined;
    for (const [vpath, file] of found) {
      let entry = this.entries.get(vpath);
      if (entry === undefined) {
        entry = { file, announced: undefined };
        this.entries.set(vpath, entry);
      } else {
        entry.file = file;
      }
      const stableAt = file.mtimeMs + this.stableAgeMs;
      if (stableAt > now) {
        nextStableAt = Math.min(nextStableAt ?? stableAt, stableAt);
        continue;
      }
      if (entry.announced !== undefined && stillValid(entry.announced, file)) continue;
      entry.announced = { size: file.size, mtimeMs: file.mtimeMs };
      creates.push({ op: "create", vpath, file });
    }
    const byPath = (a: Patch, b: Patch): number => (a.vpath < b.vpath ? -1 : a.vpath > b.vpath ? 1 : 0);
    return { patches: [...deletes.sort(byPath), ...creates.sort(byPath)], nextStableAt };
  }
}

/** Every regular file under a mount (symbolic links to files included), dot-entries skipped. */
async function listMount(mount: Mount, warn: (message: string) => void): Promise<PublishedFile[]> {
  const files: PublishedFile[] = [];
  const pending: { path: string; relative: string }[] = [];
  const walk = async (directory: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      // A directory removed during the scan simply has no files; a mount that is missing is worth a word.
      if (prefix === "" || (error as NodeJS.ErrnoException).code !== "ENOENT") warn(`cannot read ${directory}: ${(error as Error).message}`);
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = join(directory, entry.name);
      const relative = prefix + entry.name;
      // Directory links are not followed (they could loop); file links are published as files.
      if (entry.isDirectory()) await walk(path, `${relative}/`);
      else if (entry.isFile() || entry.isSymbolicLink()) pending.push({ path, relative });
    }
  };
  await walk(mount.location, "");
  for (let start = 0; start < pending.length; start += SCAN_PARALLELISM) {
    const batch = pending.slice(start, start + SCAN_PARALLELISM);
    const stats = await Promise.all(batch.map(({ path }) => stat(path).catch(() => undefined)));
    for (const [index, info] of stats.entries()) {
      if (info === undefined || !info.isFile()) continue;
      const { path, relative } = batch[index];
      files.push({ vpath: joinVirtual(mount.alias, relative), path, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return files;
}
