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

/** Checks a caller-supplied timeout: finite and positive (a call never waits forever). */
export function checkTimeout(operation: string, timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`${operation}: timeout must be a finite number of ms above 0, not ${timeoutMs}`);
  return timeoutMs;
}
