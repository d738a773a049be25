/**
 * What a subscriber makes of each CHEEZBURGER in one session (`filemq.md` §11.2): the sequence must have no
 * gap, a file's chunks must come in order and one file at a time, an empty chunk ends the file, and a delete
 * removes one. A message that breaks these rules ends the session (the next one resynchronises); a filename
 * that fails validation is refused, and a file the inbox cannot write (disk full, say) fails; either way its
 * chunks are dropped, nothing of it becomes visible, and the session goes on.
 */
import type { Logger } from "../../runtime/engine/index.js";
import { FMQ_MSG_FILE_CREATE, FMQ_MSG_FILE_DELETE, type Cheezburger } from "../../generated/filemq/fmq_msg.js";
import { PathRefused, type Delivered, type Inbox, type InboxFile } from "./inbox.js";
import { pathProblem } from "./paths.js";

/** What became of one CHEEZBURGER. */
export type PatchOutcome =
  /** A chunk of a file was written; `offset` is where the file's data now ends. */
  | { readonly kind: "progress"; readonly filename: string; readonly offset: number }
  /** A file is complete and in place. */
  | ({ readonly kind: "delivered" } & Delivered)
  | { readonly kind: "deleted"; readonly filename: string; readonly path: string; readonly existed: boolean }
  /** Nothing was written: the filename or the operation is not acceptable (logged). */
  | { readonly kind: "refused"; readonly filename: string; readonly reason: string }
  /** The inbox could not write or delete the file (logged); a file being received was given up. */
  | { readonly kind: "failed"; readonly filename: string; readonly reason: string }
  /** A further chunk of a file refused or failed earlier (said once, then). */
  | { readonly kind: "dropped" }
  /** The session must start again. */
  | { readonly kind: "restart"; readonly reason: string };

/** Receives one session's CHEEZBURGERs into an inbox. */
export class Receiver {
  private expected = 0n;
  private file: InboxFile | undefined;
  /** A refused or failed file whose remaining chunks are dropped until its end. */
  private skipping: string | undefined;
  /** The CHEEZBURGER being applied, if any (settled when none). */
  private applying: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inbox: Inbox,
    private readonly logger: Logger,
  ) {}

  /** Whether a file is being received (part of it is on disk, under its temporary name). */
  get busy(): boolean {
    return this.file !== undefined;
  }

  /** Applies one CHEEZBURGER; {@link Receiver.reset} waits for it. */
  accept(message: Cheezburger): Promise<PatchOutcome> {
    const outcome = this.apply(message);
    this.applying = outcome.catch(() => undefined);
    return outcome;
  }

  private async apply(message: Cheezburger): Promise<PatchOutcome> {
    if (message.sequence !== this.expected) return { kind: "restart", reason: `CHEEZBURGER ${message.sequence} where ${this.expected} was due` };
    this.expected++;
    const { filename } = message;
    if (message.operation === FMQ_MSG_FILE_DELETE) return this.delete(filename);
    if (message.operation !== FMQ_MSG_FILE_CREATE) return this.refuse(filename, `unknown operation ${message.operation}`);
    const end = message.chunk.length === 0;
    if (this.skipping !== undefined && this.skipping === filename) {
      if (end) this.skipping = undefined;
      return { kind: "dropped" };
    }
    this.skipping = undefined;
    const problem = pathProblem(filename, "filename");
    if (problem !== undefined) return this.skip(filename, end, this.refuse(filename, problem));
    if (message.offset > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: "restart", reason: `offset ${message.offset} of ${filename} is beyond what a file here can hold` };
    const offset = Number(message.offset);
    if (this.file === undefined) {
      if (offset !== 0) return { kind: "restart", reason: `chunk at offset ${offset} of ${filename}, which was not begun` };
      try {
        this.file = await this.inbox.begin(filename);
      } catch (error) {
        return this.skip(filename, end, error instanceof PathRefused ? this.refuse(filename, error.reason) : this.fail(filename, error));
      }
    } else if (this.file.filename !== filename) {
      return { kind: "restart", reason: `chunk of ${filename} while ${this.file.filename} is not complete` };
    }
    const file = this.file;
    if (offset !== file.written) return { kind: "restart", reason: `chunk of ${filename} at offset ${offset} where ${file.written} was due` };
    try {
      if (!end) {
        await file.write(message.chunk);
        return { kind: "progress", filename, offset: file.written };
      }
      this.file = undefined;
      return { kind: "delivered", ...(await file.commit()) };
    } catch (error) {
      // Nothing of the file becomes visible: its temporary file goes (commit removed it already).
      this.file = undefined;
      await file.abort();
      return this.skip(filename, end, this.fail(filename, error));
    }
  }

  /** Ends the session, after the CHEEZBURGER being applied: a file still open is given up (its temporary file removed). */
  async reset(): Promise<void> {
    await this.applying;
    const file = this.file;
    this.file = undefined;
    this.skipping = undefined;
    this.expected = 0n;
    await file?.abort();
  }

  private async delete(filename: string): Promise<PatchOutcome> {
    if (this.file !== undefined) return { kind: "restart", reason: `delete of ${filename} while ${this.file.filename} is not complete` };
    try {
      const existed = await this.inbox.remove(filename);
      return { kind: "deleted", filename, path: this.inbox.localPath(filename), existed };
    } catch (error) {
      return error instanceof PathRefused ? this.refuse(filename, error.reason) : this.fail(filename, error);
    }
  }

  /** Drops the file's remaining chunks (none after its end). */
  private skip(filename: string, end: boolean, outcome: PatchOutcome): PatchOutcome {
    this.skipping = end ? undefined : filename;
    return outcome;
  }

  private refuse(filename: string, reason: string): PatchOutcome {
    this.logger.log("warn", `refused ${JSON.stringify(filename)} from the server: ${reason}`);
    return { kind: "refused", filename, reason };
  }

  private fail(filename: string, error: unknown): PatchOutcome {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.log("error", `cannot write ${JSON.stringify(filename)} into the inbox: ${reason}`);
    return { kind: "failed", filename, reason };
  }
}
