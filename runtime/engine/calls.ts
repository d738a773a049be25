/**
 * A client's method calls (docs/engine.md, "Method calls and replies"): they run one at a time in call order,
 * each raises its event and waits, within its timeout, for a reply the model accepts. A reply given while a
 * method's event runs can answer only that call; one given later answers the waiting call once its event ran.
 */
import { MethodFailed, TimeoutError, type ActionFailed } from "./errors.js";
import type { Logger } from "./log.js";

/** What the engine knows of one API method. */
export interface MethodSpec {
  readonly event: string;
  readonly accepts: readonly string[];
  /** Accepted replies that reject the call. */
  readonly failures: readonly string[];
  /** The reply field the call resolves with; without it the call resolves with `undefined`. */
  readonly returns?: string;
  /** Raises no event: only waits for an accepted reply. */
  readonly immediate?: boolean;
}

/** A method call waiting for its reply. */
export interface Waiter {
  readonly method: string;
  readonly spec: MethodSpec;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Its event has started running: from then on replies may answer it. */
  started: boolean;
}

export class MethodCalls<Args> {
  /** The call waiting for a reply, if any. */
  private waiter: Waiter | undefined;
  /** The call whose event is running now; replies during a method's event answer only that call. */
  private executing: Waiter | undefined;
  /** Settles when the last call queued so far has. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly logger: Logger,
    /** Why a call cannot run now (the client closed or terminated), asked when its turn comes. */
    private readonly refusal: (method: string) => Error | undefined,
    /** Queues a method's event, carrying its call and arguments: it may run after the call timed out. */
    private readonly raise: (event: string, call: Waiter, args: Partial<Args>) => void,
  ) {}

  /** Calls a method once the calls before it have settled; the timeout counts from now. */
  call(method: string, spec: MethodSpec, args: Partial<Args>, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    const result = this.chain.then(() => this.dispatch(method, spec, args, deadline, timeoutMs, signal));
    this.chain = result.catch(() => undefined);
    return result;
  }

  private dispatch(method: string, spec: MethodSpec, args: Partial<Args>, deadline: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    const refused = this.refusal(method);
    if (refused !== undefined) return Promise.reject(refused);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new TimeoutError(method, timeoutMs));
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (this.waiter === waiter) this.waiter = undefined;
      };
      const waiter: Waiter = {
        method, spec, started: spec.immediate === true,
        resolve: (value) => { settle(); resolve(value); },
        reject: (error) => { settle(); reject(error); },
      };
      const timer = setTimeout(() => waiter.reject(new TimeoutError(method, timeoutMs)), remaining);
      const onAbort = (): void => waiter.reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (spec.accepts.length > 0) this.waiter = waiter;
      if (!spec.immediate) this.raise(spec.event, waiter, args);
      if (spec.accepts.length === 0) waiter.resolve(undefined);
    });
  }

  /** An action's reply (`ctx.reply`): answers the call it may answer, if that call accepts it; else dropped. */
  reply(name: string, fields: Readonly<Record<string, unknown>>): void {
    const waiter = this.waiter;
    const answerable = this.executing !== undefined ? this.executing === waiter : waiter?.started === true;
    if (waiter === undefined || !answerable || !waiter.spec.accepts.includes(name)) {
      this.logger.log("debug", `reply ${name} discarded: no call waits for it`);
      return;
    }
    if (waiter.spec.failures.includes(name)) waiter.reject(new MethodFailed(waiter.method, name, fields));
    else waiter.resolve(waiter.spec.returns !== undefined ? fields[waiter.spec.returns] : undefined);
  }

  /** An event starts running: a method's own (`call`) or another. */
  eventStarted(call: Waiter | undefined): void {
    this.executing = call;
    if (call !== undefined) call.started = true;
  }

  /**
   * An event (and the `exception` event the model raised for its failure) is done: a call that waited on it
   * and is still unanswered while an action failed ends now, with the failure, rather than at its timeout.
   */
  eventDone(call: Waiter | undefined, failure: ActionFailed | undefined): void {
    this.executing = undefined;
    const waiter = this.waiter;
    if (failure === undefined || waiter === undefined) return;
    if (waiter === call || waiter.started) waiter.reject(failure);
  }

  /**
   * Ends the waiting call with the error `cause` makes for it; with `onlyStarted`, only a call whose event has
   * run (a connection failure concerns no call still queued behind its event).
   */
  rejectWaiting(cause: (method: string) => unknown, onlyStarted = false): void {
    const waiter = this.waiter;
    if (waiter !== undefined && (!onlyStarted || waiter.started)) waiter.reject(cause(waiter.method));
  }
}
