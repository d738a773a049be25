/**
 * One subscriber's side of the publisher (`filemq.md` §6, §10.2): its subscriptions, the patches queued for
 * it (at most one per virtual path), the credit it granted, its CHEEZBURGER sequence, and the file being
 * sent. {@link Outbox.step} is "get next patch": it decides what the next CHEEZBURGER is, builds it from the
 * current patch only, and never spends credit the subscriber did not grant. Files are read one chunk at a
 * time, so memory stays bounded whatever their size.
 */
import { closeSync, openSync, read, readSync } from "node:fs";
import { promisify } from "node:util";
import { FMQ_MSG_FILE_CREATE, FMQ_MSG_FILE_DELETE, type Cheezburger } from "../../generated/filemq/fmq_msg.js";
import type { Patch, PublishedFile } from "./catalog.js";
import { CHUNK_SIZE } from "./flow.js";

/** The fields of a CHEEZBURGER. */
export type CheezburgerFields = Omit<Cheezburger, "message">;

/** What "get next patch" found to do. */
export type DispatchStep =
  /** A chunk of the file being sent (empty at its end), whose size was `size` when it was last scanned. */
  | { readonly event: "send_chunk"; readonly fields: CheezburgerFields; readonly size: number }
  | { readonly event: "send_delete"; readonly fields: CheezburgerFields }
  /** The current patch was dropped (its file is gone): look at the next one. */
  | { readonly event: "next_patch" }
  /** The next chunk needs more credit than is left. */
  | { readonly event: "no_credit" }
  /** Nothing is queued. */
  | { readonly event: "finished" };

/** Credit totals beyond this are refused: they could not be counted exactly. */
export const MAX_CREDIT = Number.MAX_SAFE_INTEGER;

/** The file being sent. */
interface OpenFile {
  readonly file: PublishedFile;
  descriptor: number | undefined;
  offset: number;
  size: number;
  /** The next chunk, being read ahead while the previous one travels (one chunk at most). */
  ahead: { readonly offset: number; readonly data: Promise<Buffer> } | undefined;
  /** A read in flight: the descriptor stays open until it is done. */
  reading: Promise<unknown> | undefined;
}

/** One subscriber's queue, credit and transfer. */
export class Outbox {
  /** Subscribed paths, coalesced: none is a prefix of another. */
  readonly subscriptions: string[] = [];
  /** Credit granted and not used yet, in octets of file content. */
  credit = 0;
  /** Sequence number of the next CHEEZBURGER. */
  sequence = 0n;
  private readonly queue = new Map<string, Patch>();
  private current: OpenFile | undefined;

  /** Patches queued, not counting the file being sent. */
  get queued(): number {
    return this.queue.size;
  }

  /** Whether anything is left to send. */
  get idle(): boolean {
    return this.current === undefined && this.queue.size === 0;
  }

  /**
   * Adds a subscription. A path under an existing subscription adds nothing; subscriptions under the new
   * path are replaced by it.
   */
  subscribe(path: string): void {
    if (this.subscriptions.some((existing) => path.startsWith(existing))) return;
    for (let i = this.subscriptions.length - 1; i >= 0; i--) if (this.subscriptions[i].startsWith(path)) this.subscriptions.splice(i, 1);
    this.subscriptions.push(path);
  }

  /** Whether some subscription's path is a prefix of `vpath`. */
  wants(vpath: string): boolean {
    return this.subscriptions.some((path) => vpath.startsWith(path));
  }

  /** Queues a patch; a patch already queued for the same path is replaced where it stands. */
  queuePatch(patch: Patch): void {
    this.queue.set(patch.vpath, patch);
  }

  /** Adds granted credit; false (nothing added) when the total would be beyond {@link MAX_CREDIT}. */
  addCredit(octets: bigint): boolean {
    const total = BigInt(this.credit) + octets;
    if (total > BigInt(MAX_CREDIT)) return false;
    this.credit = Number(total);
    return true;
  }

  /** Get next patch (§10.2). */
  async step(): Promise<DispatchStep> {
    if (this.current === undefined) {
      const patch = this.queue.values().next().value;
      if (patch === undefined) return { event: "finished" };
      this.queue.delete(patch.vpath);
      if (patch.op === "delete") {
        return { event: "send_delete", fields: this.cheezburger(FMQ_MSG_FILE_DELETE, patch.vpath, 0, 0, EMPTY) };
      }
      // The size the scan found: a file that grows meanwhile gets a new patch once its change is stable.
      this.current = { file: patch.file, descriptor: undefined, offset: 0, size: patch.file.size, ahead: undefined, reading: undefined };
    }
    const current = this.current;
    if (current.descriptor === undefined) {
      try {
        current.descriptor = openSync(current.file.path, "r");
      } catch {
        // Gone (or unreadable) since the scan: a later scan sends its delete.
        await this.closeCurrent();
        return { event: "next_patch" };
      }
    }
    const wanted = Math.min(CHUNK_SIZE, current.size - current.offset);
    if (wanted > 0) {
      if (wanted > this.credit) return { event: "no_credit" };
      const chunk = await this.readChunk(current, current.descriptor, wanted);
      if (chunk.length > 0) {
        const fields = this.cheezburger(FMQ_MSG_FILE_CREATE, current.file.vpath, current.offset, 0, chunk);
        current.offset += chunk.length;
        this.credit -= chunk.length;
        // Large files: the next chunk is read from disk while this one travels.
        const next = Math.min(CHUNK_SIZE, current.size - current.offset);
        if (next > SYNC_IO_LIMIT) current.ahead = { offset: current.offset, data: this.track(current, readAsync(current.descriptor, next, current.offset)) };
        return { event: "send_chunk", fields, size: current.size };
      }
      // The file got shorter since it was opened: it ends here.
    }
    const end = this.cheezburger(FMQ_MSG_FILE_CREATE, current.file.vpath, current.offset, 1, EMPTY);
    await this.closeCurrent();
    return { event: "send_chunk", fields: end, size: current.size };
  }

  /** Forgets everything: subscriptions, queue, credit, sequence, and the file being sent (a new session). */
  async reset(): Promise<void> {
    this.subscriptions.length = 0;
    this.queue.clear();
    this.credit = 0;
    this.sequence = 0n;
    await this.closeCurrent();
  }

  private cheezburger(operation: number, filename: string, offset: number, eof: number, chunk: Uint8Array): CheezburgerFields {
    return { sequence: this.sequence++, operation, filename, offset: BigInt(offset), eof, headers: new Map(), chunk };
  }

  /** The chunk at the file's offset: the one read ahead if there is one, else read now. */
  private async readChunk(current: OpenFile, descriptor: number, wanted: number): Promise<Buffer> {
    const ahead = current.ahead;
    current.ahead = undefined;
    if (ahead !== undefined && ahead.offset === current.offset) return ahead.data;
    await ahead?.data.catch(() => undefined);
    if (wanted > SYNC_IO_LIMIT) return this.track(current, readAsync(descriptor, wanted, current.offset));
    const buffer = Buffer.allocUnsafe(wanted);
    return buffer.subarray(0, readSync(descriptor, buffer, 0, wanted, current.offset));
  }

  /** Remembers a read in flight on the file, so that its descriptor is closed only after it. */
  private track<T>(current: OpenFile, read: Promise<T>): Promise<T> {
    current.reading = read;
    return read;
  }

  private async closeCurrent(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    // A read still in flight must finish before its descriptor can be closed (and reused).
    await current?.reading?.catch(() => undefined);
    if (current?.descriptor !== undefined) closeSync(current.descriptor);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Reads up to this size are synchronous: opening, closing and small reads cost microseconds, far less than
 * a thread-pool round trip each; a whole chunk goes through the thread pool so the event loop never waits long.
 */
const SYNC_IO_LIMIT = 256 * 1024;
const readAsync = (descriptor: number, length: number, position: number): Promise<Buffer> => {
  const buffer = Buffer.allocUnsafe(length);
  return promisify(read)(descriptor, buffer, 0, length, position).then((result) => buffer.subarray(0, result.bytesRead));
};
