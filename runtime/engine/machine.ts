/**
 * The state machine as data, and the algorithm that runs one event on one context (`spec/models.md` §3.7).
 * Generated engines describe their model with a {@link MachineTable}; servers and clients share the executor.
 */

/** One step of an action list. */
export type Step =
  /** Built-in `send`: encode the context's reply as this message (normalised key) and send it. */
  | { readonly send: string }
  /** Built-in `terminate`: end the context once the event is done. */
  | { readonly terminate: true }
  /** A user action: the method of that name on the actions object. */
  | { readonly call: string };

/** What a state does on one event. */
export interface HandlerTable {
  readonly next?: string;
  readonly steps: readonly Step[];
}

/** One state, with its superstates' handlers already copied in. */
export interface StateTable {
  readonly name: string;
  /** Handlers by event name (normalised); `*` is the wildcard. */
  readonly handlers: Readonly<Record<string, HandlerTable>>;
  readonly before: readonly Step[];
  readonly after: readonly Step[];
}

/** A whole machine. The first state is the initial one. */
export interface MachineTable {
  readonly name: string;
  readonly states: readonly StateTable[];
  /** The model's `max_message_size`: the largest frame a peer may send, in octets (the engine's default otherwise). */
  readonly maxMessageSize?: number;
}

/** The event that ends a context. */
export const TERMINATE = "terminate";
/** Internal events one event may chain before the executor decides the model loops and stops it. */
export const MAX_CHAINED_EVENTS = 1000;

/** The wildcard handler's key. */
export const WILDCARD = "*";

/** The event name a protocol message raises: its normalised name in lower case. */
export function messageEvent(messageKey: string): string {
  return messageKey.toLowerCase();
}

/** Machine state carried by every context: where it is and what its actions asked for. */
export class MachineState<Event extends string> {
  /** Current state name. */
  state: string;
  /** Event being handled. */
  event = "";
  /** Set by `next()`: the internal event to run after the current action list. */
  pendingNext: string | undefined;
  /** Set by `raise()`: skips the remaining actions and runs this event in the unchanged state. */
  pendingException: string | undefined;
  /** Set when an action failed and the model has no event for it: the event ends where it is. */
  aborted = false;
  /**
   * Set once the context has ended (its peer left, it expired, the engine closed): an event still running on
   * it, waiting for an action's promise, runs no further step and changes no state.
   */
  stopped = false;

  constructor(initial: string) {
    this.state = initial;
  }

  /** Continues with `event` once the current action list is done (the last call wins). */
  next(event: Event): void {
    this.pendingNext = event;
  }

  /** Stops the current action list and the state change, and continues with `event` in this state. */
  raise(event: Event): void {
    this.pendingException = event;
  }
}

/** What the executor needs from an engine. */
export interface StepRunner<Context extends MachineState<string>> {
  /** Built-in send of the context's reply. */
  send(context: Context, message: string): void;
  /** Calls a user action; may return a promise, which is awaited. */
  call(context: Context, action: string): unknown;
  /** Runs when a context reaches `terminate`. */
  terminate(context: Context): void;
  /** An event the current state does not handle (the C engines abort here; we log and drop it). */
  unhandled(context: Context, event: string): void;
  /** A user action failed; returns the event to raise instead, if the model has one. */
  failed(context: Context, action: string, error: unknown): string | undefined;
  /**
   * Whether {@link StepRunner.trace} wants to hear about every step (verbose mode). A plain property that the
   * engine sets when its verbosity changes: it is read at every step.
   */
  tracing: boolean;
  /** Verbose tracing of states, events and actions. */
  trace(context: Context, what: string): void;
}

/** Looks up handlers quickly. */
export class Machine {
  readonly initial: string;
  private readonly states = new Map<string, StateTable>();
  /** Every event name some state handles. */
  readonly events: ReadonlySet<string>;

  constructor(readonly table: MachineTable) {
    if (table.states.length === 0) throw new Error(`machine ${table.name} has no states`);
    this.initial = table.states[0].name;
    const events = new Set<string>();
    for (const state of table.states) {
      this.states.set(state.name, state);
      for (const event of Object.keys(state.handlers)) events.add(event);
    }
    this.events = events;
  }

  /** Whether any state handles `event` (decides which timers an engine arms). */
  handles(event: string): boolean {
    return this.events.has(event);
  }

  state(name: string): StateTable {
    const state = this.states.get(name);
    if (state === undefined) throw new Error(`machine ${this.table.name} has no state ${name}`);
    return state;
  }

  handler(state: string, event: string): HandlerTable | undefined {
    const handlers = this.state(state).handlers;
    return Object.prototype.hasOwnProperty.call(handlers, event) ? handlers[event] : handlers[WILDCARD];
  }
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * Runs `event` and every internal event it leads to on one context (`spec/models.md` §3.7). Returns whether
 * the context terminated. It runs synchronously as long as the actions do: only an action that returns a
 * promise makes the rest of the event asynchronous, so most events cost no promise at all.
 */
export function execute<Context extends MachineState<string>>(
  machine: Machine, runner: StepRunner<Context>, context: Context, event: string, alreadyChained = 0,
): boolean | Promise<boolean> {
  let next: string | undefined = event;
  let chained = alreadyChained;
  while (next !== undefined) {
    if (++chained > MAX_CHAINED_EVENTS) {
      runner.failed(context, `event ${next}`, new Error(`more than ${MAX_CHAINED_EVENTS} events chained without waiting: the model loops`));
      return false;
    }
    context.event = next;
    context.pendingNext = undefined;
    context.pendingException = undefined;
    context.aborted = false;
    const handler = machine.handler(context.state, next);
    if (handler === undefined) {
      runner.unhandled(context, next);
      return false;
    }
    if (runner.tracing) runner.trace(context, `${context.state}: ${next}`);
    const running = runHandler(machine, runner, context, handler);
    if (running !== undefined) {
      return running.then(() => {
        const after = afterHandler(runner, context);
        return after === undefined ? false : after === TERMINATE ? true : execute(machine, runner, context, after, chained);
      });
    }
    next = afterHandler(runner, context);
    if (next === TERMINATE) return true;
  }
  return false;
}

/** What follows a handler: the next event (`terminate` after terminating the context), or nothing. */
function afterHandler<Context extends MachineState<string>>(runner: StepRunner<Context>, context: Context): string | undefined {
  if (context.aborted || context.stopped) return undefined;
  const next = context.pendingException ?? context.pendingNext;
  if (next === TERMINATE) runner.terminate(context);
  return next;
}

/** A handler's actions, then for a transition the old state's `after`, the state change and the new state's `before`. */
function runHandler<Context extends MachineState<string>>(machine: Machine, runner: StepRunner<Context>, context: Context, handler: HandlerTable): Promise<void> | undefined {
  const running = runSteps(runner, context, handler.steps, 0);
  if (running !== undefined) return running.then(() => transition(machine, runner, context, handler));
  return transition(machine, runner, context, handler);
}

function transition<Context extends MachineState<string>>(machine: Machine, runner: StepRunner<Context>, context: Context, handler: HandlerTable): Promise<void> | undefined {
  const next = handler.next;
  if (next === undefined) return undefined;
  const leaving = runSteps(runner, context, machine.state(context.state).after, 0);
  if (leaving !== undefined) return leaving.then(() => enter(machine, runner, context, next));
  return enter(machine, runner, context, next);
}

function enter<Context extends MachineState<string>>(machine: Machine, runner: StepRunner<Context>, context: Context, next: string): Promise<void> | undefined {
  if (context.pendingException === undefined && !context.aborted && !context.stopped) {
    context.state = next;
    if (runner.tracing) runner.trace(context, `-> ${next}`);
  }
  return runSteps(runner, context, machine.state(context.state).before, 0);
}

/** Runs `steps` from `from`; returns a promise only when an action returned one. */
function runSteps<Context extends MachineState<string>>(runner: StepRunner<Context>, context: Context, steps: readonly Step[], from: number): Promise<void> | undefined {
  for (let i = from; i < steps.length; i++) {
    if (context.pendingException !== undefined || context.aborted || context.stopped) return undefined;
    const step = steps[i];
    try {
      if ("send" in step) {
        if (runner.tracing) runner.trace(context, `    send ${step.send}`);
        runner.send(context, step.send);
      } else if ("terminate" in step) {
        if (runner.tracing) runner.trace(context, "    terminate");
        context.pendingNext = TERMINATE;
      } else {
        if (runner.tracing) runner.trace(context, `    ${step.call}`);
        const result = runner.call(context, step.call);
        if (isPromise(result)) {
          return Promise.resolve(result).then(
            () => runSteps(runner, context, steps, i + 1),
            (error: unknown) => {
              stepFailed(runner, context, step.call, error);
              return runSteps(runner, context, steps, i + 1);
            },
          );
        }
      }
    } catch (error) {
      stepFailed(runner, context, "send" in step ? `send ${step.send}` : "terminate" in step ? "terminate" : step.call, error);
    }
  }
  return undefined;
}

/** Without an exception event in the model the event ends here, in the current state. */
function stepFailed<Context extends MachineState<string>>(runner: StepRunner<Context>, context: Context, step: string, error: unknown): void {
  const offered = runner.failed(context, step, error);
  // An action failing while `exception` itself is handled ends the event: raising it again would loop.
  const raised = offered === "exception" && context.event === "exception" ? undefined : offered;
  if (raised === undefined) context.aborted = true;
  else context.pendingException = raised;
}
