/**
 * One subscriber's side of the publisher (`filemq.md` §6, §10.2): its subscriptions, the patches queued for
 * it (at most one per virtual path), the credit it granted, its CHEEZBURGER sequence, and the file being
 * sent. {@link Outbox.step} is "get next patch": it decides what the next CHEEZBURGER is, builds it from the
 * current patch only, and never spends credit the subscriber did not grant. Files are read one chunk at a
 * time, so memory stays bounded whatever their size.
 */
import { closeSync, fstatSync, openSync, read, readSync } from "node:fs";
import { promisify } from "node:util";
import { FMQ_MSG_FILE_CREATE, FMQ_MSG_FILE_DELETE, type Cheezburger } from "../../generated/filemq/fmq_msg.js";
import type { Patch, PublishedFile } from "./catalog.js";
import { CHUNK_SIZE, MAX_OUTSTANDING_CREDIT } from "./flow.js";

/** The fields of a CHEEZBURGER. */
export type CheezburgerFields = Omit<Cheezburger, "message">;

/** What "get next patch" found to do. */
export type DispatchStep =
  /** A chunk of the file being sent (empty at its end), whose size was `size` when it was opened. */
  | { readonly event: "send_chunk"; readonly fields: CheezburgerFields; readonly size: number }
  | { readonly event: "send_delete"; readonly fields: CheezburgerFields }
  /** The current patch was dropped (its file is gone): look at the next one. */
  | { readonly event: "next_patch" }
  /** The next chunk needs more credit than is left. */
  | { readonly event: "no_credit" }
  /** Nothing is queued. */
  | { readonly event: "finished" };

/** The file being sent. */
interface OpenFile {
  readonly vpath: string;
  readonly descriptor: number;
  offset: number;
  /** Its size when it was opened: what is sent of it, so that the copy a subscriber gets is one version. */
  readonly size: number;
  /** The next chunk, read while the previous one travels (one chunk at most). */
  ahead: Promise<Buffer> | undefined;
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
  /** The step in flight, if any (settled when none). */
  private stepping: Promise<unknown> = Promise.resolve();
  private closed = false;

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

  /** Adds granted credit; false (nothing added) when the total would be beyond {@link MAX_OUTSTANDING_CREDIT}. */
  addCredit(octets: bigint): boolean {
    const total = BigInt(this.credit) + octets;
    if (total > BigInt(MAX_OUTSTANDING_CREDIT)) return false;
    this.credit = Number(total);
    return true;
  }

  /**
   * Get next patch (§10.2). Steps run one at a time (the engine runs one event per client at a time), and
   * {@link Outbox.reset} waits for the one in flight before it closes the file.
   */
  step(): Promise<DispatchStep> {
    if (this.closed) return Promise.resolve({ event: "finished" });
    const step = this.nextStep();
    this.stepping = step.catch(() => undefined);
    return step;
  }

  private async nextStep(): Promise<DispatchStep> {
    if (this.current === undefined) {
      const patch = this.queue.values().next().value;
      if (patch === undefined) return { event: "finished" };
      this.queue.delete(patch.vpath);
      if (patch.op === "delete") {
        return { event: "send_delete", fields: this.cheezburger(FMQ_MSG_FILE_DELETE, patch.vpath, 0, 0, EMPTY) };
      }
      this.current = openFile(patch.file);
      // Gone (or unreadable) since the scan: a later scan sends its delete.
      if (this.current === undefined) return { event: "next_patch" };
    }
    const current = this.current;
    const wanted = Math.min(CHUNK_SIZE, current.size - current.offset);
    if (wanted > 0) {
      if (wanted > this.credit) return { event: "no_credit" };
      let chunk: Buffer;
      try {
        chunk = await (current.ahead ?? readChunk(current.descriptor, wanted, current.offset));
      } catch {
        // Unreadable now: dropped like a file gone (a subscriber in the middle of it starts over).
        await this.closeCurrent();
        return { event: "next_patch" };
      }
      current.ahead = undefined;
      if (chunk.length > 0) {
        const fields = this.cheezburger(FMQ_MSG_FILE_CREATE, current.vpath, current.offset, 0, chunk);
        current.offset += chunk.length;
        this.credit -= chunk.length;
        // Large files: the next chunk is read from disk while this one travels.
        const next = Math.min(CHUNK_SIZE, current.size - current.offset);
        if (next > SYNC_IO_LIMIT) current.ahead = readAhead(current.descriptor, next, current.offset);
        return { event: "send_chunk", fields, size: current.size };
      }
      // The file got shorter since it was opened (rewritten in place): it ends here.
    }
    const end = this.cheezburger(FMQ_MSG_FILE_CREATE, current.vpath, current.offset, 1, EMPTY);
    await this.closeCurrent();
    return { event: "send_chunk", fields: end, size: current.size };
  }

  /** Forgets everything for a new session: subscriptions, queue, credit, sequence, and the file being sent. */
  async reset(): Promise<void> {
    await this.stepping;
    this.subscriptions.length = 0;
    this.queue.clear();
    this.credit = 0;
    this.sequence = 0n;
    await this.closeCurrent();
  }

  /**
   * The subscriber left, maybe while a step was in flight (its event may even go on for a while): no step
   * does anything from now on, and the file is closed once the step in flight is done with it.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
  }

  private cheezburger(operation: number, filename: string, offset: number, eof: number, chunk: Uint8Array): CheezburgerFields {
    return { sequence: this.sequence++, operation, filename, offset: BigInt(offset), eof, headers: new Map(), chunk };
  }

  private async closeCurrent(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) return;
    // A read ahead still in flight must finish before its descriptor can be closed (and reused).
    await current.ahead?.catch(() => undefined);
    closeSync(current.descriptor);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Opens a file to send, or undefined if it is gone. Its size is taken from the open file, not from the scan:
 * a file replaced since the scan (renamed over, as editors and FileMQ's own subscribers write) is then sent
 * whole, never as the new contents cut to the old size.
 */
function openFile(file: PublishedFile): OpenFile | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(file.path, "r");
  } catch {
    return undefined;
  }
  try {
    return { vpath: file.vpath, descriptor, offset: 0, size: fstatSync(descriptor).size, ahead: undefined };
  } catch {
    closeSync(descriptor);
    return undefined;
  }
}

/**
 * Reads up to this size are synchronous: opening, closing and small reads cost microseconds, far less than
 * a thread-pool round trip each; a whole chunk goes through the thread pool so the event loop never waits long.
 */
const SYNC_IO_LIMIT = 256 * 1024;

/** The chunk at `position`: small ones read at once, large ones in the thread pool. */
function readChunk(descriptor: number, length: number, position: number): Buffer | Promise<Buffer> {
  if (length > SYNC_IO_LIMIT) return readAsync(descriptor, length, position);
  const buffer = Buffer.allocUnsafe(length);
  return buffer.subarray(0, readSync(descriptor, buffer, 0, length, position));
}

/** A read started ahead of need; its failure surfaces when the chunk is taken, or is ignored if it never is. */
function readAhead(descriptor: number, length: number, position: number): Promise<Buffer> {
  const data = readAsync(descriptor, length, position);
  data.catch(() => undefined);
  return data;
}

function readAsync(descriptor: number, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  return promisify(read)(descriptor, buffer, 0, length, position).then((result) => buffer.subarray(0, result.bytesRead));
}
