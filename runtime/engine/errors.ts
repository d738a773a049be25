/** Errors engines give to callers. */

/** A call did not complete within its timeout. */
export class TimeoutError extends Error {
  constructor(readonly operation: string, readonly timeoutMs: number) {
    super(`${operation} timed out after ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** The client's state machine terminated; no further calls are possible. */
export class ClientTerminated extends Error {
  constructor(readonly operation: string) {
    super(`${operation}: the client has terminated`);
    this.name = "ClientTerminated";
  }
}

/** The engine was closed while the call was pending. */
export class EngineClosed extends Error {
  constructor(readonly operation: string) {
    super(`${operation}: the engine was closed`);
    this.name = "EngineClosed";
  }
}

/**
 * A client's send queue already holds `sendQueueLimit` messages: this one was not queued, and is not sent.
 * Thrown by the send that found the queue full (`ctx.send`, the model's `send`, a `<send>` method), so the
 * sender learns it: in an action it is an action failure, which the model's `exception` event can handle.
 */
export class SendQueueFull extends Error {
  constructor(
    /** The message that was not sent. */
    readonly operation: string,
    /** The queue's limit (`sendQueueLimit`). */
    readonly limit: number,
  ) {
    super(`${operation} not sent: the send queue holds ${limit} messages waiting for the server (sendQueueLimit)`);
    this.name = "SendQueueFull";
  }
}

/** A method's call was answered with a failure reply (`FAILURE`, `ERROR` or a reply marked failure="1"). */
export class MethodFailed extends Error {
  constructor(
    readonly operation: string,
    readonly reply: string,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {
    super(`${operation} failed: ${reply}${typeof fields.reason === "string" && fields.reason ? ` (${fields.reason})` : ""}`);
    this.name = "MethodFailed";
  }
}

/** The longest a Node timer can wait (2^31 − 1 ms, about 24.8 days): a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Checks a caller-supplied timeout: finite and positive (a call never waits forever), and one a timer can wait. */
export function checkTimeout(operation: string, timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
    throw new RangeError(`${operation}: timeout must be a number of ms above 0 and at most ${MAX_TIMER_MS}, not ${timeoutMs}`);
  }
  return timeoutMs;
}

/** Checks a timer period an action sets (wakeup, heartbeat, expiry): 0 or more ms, at most what a timer can wait. */
export function checkTimerDelay(operation: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new RangeError(`${operation}: delay must be a number of ms from 0 to ${MAX_TIMER_MS}, not ${ms}`);
  }
  return ms;
}

/** The text of anything thrown, for messages and logs. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * An action, or a built-in step (`send MESSAGE`), failed while the machine handled an event; `cause` is what
 * it threw (an `EncodeError` naming message and field when a `send` could not encode the actions' values).
 * Engines log it, give it to the `onActionFailed` option, raise the model's `exception` event where there is
 * one, and reject a client call that waited on the event with it.
 */
export class ActionFailed extends Error {
  constructor(
    /** The action's method name, or `send MESSAGE` for the built-in send. */
    readonly action: string,
    /** The event being handled. */
    readonly event: string,
    /** The state the machine was in. */
    readonly state: string,
    cause: unknown,
  ) {
    super(`action ${action} failed (state ${state}, event ${event}): ${errorText(cause)}`, { cause });
    this.name = "ActionFailed";
  }
}

/** What an engine asked of ZeroMQ when it refused. */
export type SocketOperation = "open" | "bind" | "connect" | "handshake";

/**
 * ZeroMQ refused to open a socket (`EMFILE`: the context's socket limit, see `maxSockets`), to bind or connect
 * one (`EINVAL`: not an endpoint; `ENOTFOUND`: a host name that does not resolve), or the server refused the
 * security handshake. `cause` is the original error, `code` its code.
 */
export class SocketError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly operation: SocketOperation,
    /** The endpoint, for bind and connect. */
    readonly endpoint: string | undefined,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const what = operation === "open" ? "cannot open a ZeroMQ socket"
      : operation === "handshake" ? `handshake with ${JSON.stringify(endpoint)} refused` : `cannot ${operation} ${JSON.stringify(endpoint)}`;
    const hint = code === "EMFILE" ? "; the ZeroMQ context's socket limit (maxSockets) or the process's open-file limit is reached" : "";
    super(`${what}: ${errorText(cause)}${code !== undefined && !errorText(cause).includes(code) ? ` (${code})` : ""}${hint}`, { cause });
    this.name = "SocketError";
    this.code = code;
  }
}
