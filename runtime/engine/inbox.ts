/**
 * A client's messages for the application (`ctx.deliver`), kept in order until it reads them with `recv()` or
 * `messages()`. A reader that gives up (timeout, abort) leaves the line, so the next message goes to one still
 * waiting; once the client ends, readers are told and what was delivered before can still be read.
 */
import { EngineClosed, TimeoutError } from "./errors.js";

export class Inbox<M> {
  private readonly delivered: M[] = [];
  /** Readers waiting, each told the next message, or undefined when the client ended. */
  private readonly readers: ((message: M | undefined) => void)[] = [];
  private ended = false;

  /** Hands a message to the longest-waiting reader, or keeps it. */
  push(message: M): void {
    const reader = this.readers.shift();
    if (reader !== undefined) reader(message);
    else this.delivered.push(message);
  }

  /** The client ended: waiting readers are told, later ones get what is left and then the end. */
  end(): void {
    this.ended = true;
    for (const reader of this.readers.splice(0)) reader(undefined);
  }

  /** The next message; rejects with `TimeoutError` after `timeoutMs`, with `EngineClosed` once the client ended. */
  recv(timeoutMs: number, signal: AbortSignal | undefined): Promise<M> {
    const message = this.delivered.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.ended) return Promise.reject(new EngineClosed("recv"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const reader = (value: M | undefined): void => {
        done();
        if (value === undefined) reject(new EngineClosed("recv"));
        else resolve(value);
      };
      const leave = (error: unknown): void => {
        done();
        const index = this.readers.indexOf(reader);
        if (index >= 0) this.readers.splice(index, 1);
        reject(error);
      };
      const timer = setTimeout(() => leave(new TimeoutError("recv", timeoutMs)), timeoutMs);
      const onAbort = (): void => leave(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.readers.push(reader);
    });
  }

  /** Every message, as they come, until the client ends. */
  async *messages(): AsyncGenerator<M, void, undefined> {
    for (;;) {
      const message = this.delivered.shift();
      if (message !== undefined) {
        yield message;
        continue;
      }
      if (this.ended) return;
      const next = await new Promise<M | undefined>((resolve) => this.readers.push(resolve));
      if (next === undefined) return;
      yield next;
    }
  }
}
