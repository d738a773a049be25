/**
 * SHA-1 digests of files, as FILEMQ/1 compares them for RESYNC (40 upper-case hex digits), read from disk in
 * bounded chunks so that hashing a file of any size takes little memory.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** A digest as FILEMQ/1 writes it. */
export type Digest = string;

/** The digest of a file's current contents, read in chunks of 1 MiB; `signal` stops the reading (and rejects). */
export async function digestFile(path: string, signal?: AbortSignal): Promise<Digest> {
  const hash = createHash("sha1");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal !== undefined ? { signal } : {}) })) hash.update(chunk as Buffer);
  return hash.digest("hex").toUpperCase();
}

/** Whether two digests are equal; FILEMQ/1 peers may write hex in either case. */
export function sameDigest(a: string, b: string): boolean {
  return a.length === b.length && a.toUpperCase() === b.toUpperCase();
}

/** What a digest was computed from: a digest stays valid while size and modification time are unchanged. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/** Whether a stamped digest still describes a file with this stamp. */
export function stillValid(entry: FileStamp | undefined, stamp: FileStamp): boolean {
  return entry !== undefined && entry.size === stamp.size && entry.mtimeMs === stamp.mtimeMs;
}
