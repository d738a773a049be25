/**
 * Bounding asynchronous API calls: every engine call settles within a finite time (`spec/models.md` §4.6,
 * which applies to server APIs too, §3.8).
 */
import { TimeoutError, checkTimeout } from "./errors.js";

/** Options of one bounded call. */
export interface CallOptions {
  /** Milliseconds before the call rejects with `TimeoutError`; finite and above 0. */
  readonly timeout?: number;
  /** Rejects the call with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
}

/** Options of a client's `close()`. */
export interface CloseOptions extends CallOptions {
  /**
   * What becomes of messages still queued when the timeout runs out: `"warn"` (the default) drops them and logs
   * their count as a warning; `"drop"` drops them with only a debug record, for a caller whose last messages are
   * a courtesy (a goodbye to a server that may be gone) or who has already reported the server unreachable.
   */
  readonly unsent?: "warn" | "drop";
  /**
   * How long, in ms, messages still queued after the destructor may wait to be handed to ZeroMQ, within the
   * timeout (default: all that remains of it). Over a live connection ZeroMQ takes them at once, so a short
   * wait tells a server that is gone from one that is slow, and a client whose server died closes promptly
   * even when its timeout is long for the sake of the destructor (a handler finishing its work, say).
   */
  readonly sendTimeout?: number;
}

/**
 * Settles as `work` does, unless `timeoutMs` passes first (rejects with `TimeoutError`) or `signal` aborts
 * (rejects with its reason). The work itself is not cancelled: what it does after the deadline stays done,
 * and its late failure is swallowed because nobody is waiting for it any more.
 */
export function withDeadline<T>(operation: string, timeoutMs: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    checkTimeout(operation, timeoutMs);
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      settle();
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      settle();
      reject(new TimeoutError(operation, timeoutMs));
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}
