/**
 * What a publisher serves (`filemq.md` §11.1): its mounts (a directory published under a virtual path) and
 * the files in them that it announced. A scan compares the tree with what was announced and yields patches:
 * a create for a new or changed file once it is stable (not modified for the stability age), a delete for an
 * announced file that vanished. Files and directories whose names start with `.` are never published.
 * Digests, needed only to compare with a subscriber's cache, are computed on demand and remembered while a
 * file's size and modification time stay the same.
 */
import { lstatSync, readdirSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { digestFile, stillValid, type Digest, type FileStamp } from "./digests.js";
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
  /** When the earliest file that is not stable yet will be: {@link Catalog.recheck} then announces it. */
  readonly nextStableAt: number | undefined;
}

/** A place in a mount that changed: a file or a directory (relative path, `""` for the whole mount). */
export interface Change {
  readonly mount: Mount;
  readonly relative: string;
}

/** Entries a scan looks at before it lets other work run. */
const SCAN_BATCH = 256;

/** Patches being collected by one scan. */
class Collector {
  readonly deletes: Patch[] = [];
  readonly creates: Patch[] = [];
  nextStableAt: number | undefined;

  constructor(readonly now: number) {}

  result(): ScanResult {
    const byPath = (a: Patch, b: Patch): number => (a.vpath < b.vpath ? -1 : a.vpath > b.vpath ? 1 : 0);
    return { patches: [...this.deletes.sort(byPath), ...this.creates.sort(byPath)], nextStableAt: this.nextStableAt };
  }
}

/**
 * The publisher's files. A full {@link Catalog.scan} looks at every mount; {@link Catalog.update} looks only
 * at the places file watching reported; {@link Catalog.recheck} looks again at files that were not stable.
 */
export class Catalog {
  private readonly entries = new Map<string, Entry>();
  private readonly digests = new Map<string, FileStamp & { readonly digest: Promise<Digest> }>();
  private readonly mountList: Mount[] = [];
  /** Files whose virtual path no subscriber would accept (§12.1), reported once each. */
  private readonly unpublishable = new Set<string>();
  /** Files seen but not stable yet. */
  private readonly unstable = new Set<string>();
  /** Mount directories found missing, reported once until they are there again. */
  private readonly missing = new Set<string>();

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

  /** Whether a file is there under this virtual path, announced or not yet stable. */
  has(vpath: string): boolean {
    return this.entries.has(vpath);
  }

  /**
   * The SHA-1 of a file's contents, computed once per size and modification time, however many subscribers
   * ask at once (all of them do when they come back after a publisher restart).
   */
  digest(file: PublishedFile): Promise<Digest> {
    const known = this.digests.get(file.path);
    if (known !== undefined && stillValid(known, file)) return known.digest;
    const entry = { size: file.size, mtimeMs: file.mtimeMs, digest: digestFile(file.path) };
    this.digests.set(file.path, entry);
    // A failure is not remembered: the next request tries again.
    entry.digest.catch(() => {
      if (this.digests.get(file.path) === entry) this.digests.delete(file.path);
    });
    return entry.digest;
  }

  /** Compares every mount's tree with what was announced. */
  async scan(now = Date.now()): Promise<ScanResult> {
    const collector = new Collector(now);
    const found = new Map<string, PublishedFile>();
    for (const mount of this.mountList) {
      if (!this.present(mount)) continue;
      for (const file of await listFiles(mount, mount.location, "", this.warn)) {
        if (found.has(file.vpath)) this.warnHidden(file);
        else found.set(file.vpath, file);
      }
    }
    for (const vpath of [...this.entries.keys()]) if (!found.has(vpath)) this.forget(vpath, collector);
    for (const file of found.values()) this.consider(file, collector);
    return collector.result();
  }

  /**
   * Looks again at the places that changed: a file that is there is considered, one that is gone deleted,
   * and a directory compared as a whole with what is known under it.
   */
  async update(changes: Iterable<Change>, now = Date.now()): Promise<ScanResult> {
    const collector = new Collector(now);
    for (const { mount, relative } of changes) {
      if (relative.split(sep).some((segment) => segment.startsWith("."))) continue;
      const path = relative === "" ? mount.location : join(mount.location, relative);
      const vpath = relative === "" ? mount.alias : joinVirtual(mount.alias, relative.split(sep).join("/"));
      const info = lstatSync(path, { throwIfNoEntry: false });
      if (info?.isDirectory()) {
        const files = await listFiles(mount, path, relative === "" ? "" : `${relative.split(sep).join("/")}/`, this.warn);
        const found = new Set(files.map((file) => file.vpath));
        for (const known of this.known(path)) if (!found.has(known)) this.forget(known, collector);
        for (const file of files) this.consider(file, collector);
        continue;
      }
      const file = info === undefined ? undefined : fileAt(path, vpath);
      if (file !== undefined) this.consider(file, collector);
      else for (const known of this.known(path)) this.forget(known, collector);
    }
    return collector.result();
  }

  /** Looks again at the files that were not stable at the last look. */
  async recheck(now = Date.now()): Promise<ScanResult> {
    const collector = new Collector(now);
    for (const vpath of [...this.unstable]) {
      const entry = this.entries.get(vpath);
      this.unstable.delete(vpath);
      if (entry === undefined) continue;
      const file = fileAt(entry.file.path, vpath);
      if (file === undefined) this.forget(vpath, collector);
      else this.consider(file, collector);
    }
    return collector.result();
  }

  /** Whether a mount's directory is there; said once when it is not (its files, if any were, go as deletes). */
  private present(mount: Mount): boolean {
    if (statSync(mount.location, { throwIfNoEntry: false })?.isDirectory() === true) {
      this.missing.delete(mount.location);
      return true;
    }
    if (!this.missing.has(mount.location)) this.warn(`${mount.location} is not a directory: nothing is published from it until it is one`);
    this.missing.add(mount.location);
    return false;
  }

  /** Known files at or under a physical path. */
  private known(path: string): string[] {
    const under = path + sep;
    return [...this.entries.values()].filter((entry) => entry.file.path === path || entry.file.path.startsWith(under)).map((entry) => entry.file.vpath);
  }

  /** A file found: announced (a create) once stable and new or changed since it was last announced. */
  private consider(file: PublishedFile, collector: Collector): void {
    let entry = this.entries.get(file.vpath);
    if (entry === undefined) {
      const problem = pathProblem(file.vpath, "filename");
      if (problem !== undefined) {
        if (!this.unpublishable.has(file.vpath)) this.warn(`${file.path} is not published: its virtual path ${problem}`);
        this.unpublishable.add(file.vpath);
        return;
      }
      entry = { file, announced: undefined };
      this.entries.set(file.vpath, entry);
    } else if (entry.file.path !== file.path) {
      this.warnHidden(file);
      return;
    }
    entry.file = file;
    const stableAt = file.mtimeMs + this.stableAgeMs;
    if (stableAt > collector.now) {
      this.unstable.add(file.vpath);
      collector.nextStableAt = Math.min(collector.nextStableAt ?? stableAt, stableAt);
      return;
    }
    this.unstable.delete(file.vpath);
    if (entry.announced !== undefined && stillValid(entry.announced, file)) return;
    entry.announced = { size: file.size, mtimeMs: file.mtimeMs };
    collector.creates.push({ op: "create", vpath: file.vpath, file });
  }

  /** A file gone: a delete, if it was announced. */
  private forget(vpath: string, collector: Collector): void {
    const entry = this.entries.get(vpath);
    if (entry === undefined) return;
    this.entries.delete(vpath);
    this.unstable.delete(vpath);
    this.digests.delete(entry.file.path);
    if (entry.announced !== undefined) collector.deletes.push({ op: "delete", vpath });
  }

  private warnHidden(file: PublishedFile): void {
    if (this.unpublishable.has(file.path)) return;
    this.unpublishable.add(file.path);
    this.warn(`${file.path} is hidden by another mount's ${file.vpath}`);
  }
}

/** A regular file (or a link to one) as published, or undefined. */
function fileAt(path: string, vpath: string): PublishedFile | undefined {
  const info = statSync(path, { throwIfNoEntry: false });
  return info?.isFile() ? { vpath, path, size: info.size, mtimeMs: info.mtimeMs } : undefined;
}

/**
 * Every regular file under a directory of a mount (symbolic links to files included), dot-entries skipped.
 * The listing uses synchronous calls in small batches with a yield between them: a scan then costs a few
 * milliseconds at a time on the event loop and nothing on libuv's thread pool, which the transfers need.
 */
async function listFiles(mount: Mount, top: string, topPrefix: string, warn: (message: string) => void): Promise<PublishedFile[]> {
  const files: PublishedFile[] = [];
  const directories: { path: string; prefix: string }[] = [{ path: top, prefix: topPrefix }];
  let budget = SCAN_BATCH;
  while (directories.length > 0) {
    const { path: directory, prefix } = directories.pop()!;
    let entries;
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch (error) {
      // A directory removed during the scan simply has no files.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") warn(`cannot read ${directory}: ${(error as Error).message}`);
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = join(directory, entry.name);
      const relative = prefix + entry.name;
      // Directory links are not followed (they could loop); file links are published as files.
      if (entry.isDirectory()) directories.push({ path, prefix: `${relative}/` });
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const file = fileAt(path, joinVirtual(mount.alias, relative));
        if (file !== undefined) files.push(file);
      }
      if (--budget === 0) {
        budget = SCAN_BATCH;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  return files;
}
