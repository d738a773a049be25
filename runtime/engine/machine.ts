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
}

/** The event that ends a context. */
export const TERMINATE = "terminate";
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
  /** Verbose tracing, when on. */
  trace?(context: Context, what: string): void;
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
 * Runs `event` and every internal event it leads to on one context. Returns true when the context
 * terminated. Synchronous action lists complete without awaiting anything.
 */
export async function execute<Context extends MachineState<string>>(
  machine: Machine, runner: StepRunner<Context>, context: Context, event: string,
): Promise<boolean> {
  let next: string | undefined = event;
  while (next !== undefined) {
    const current: string = next;
    next = undefined;
    context.event = current;
    context.pendingNext = undefined;
    context.pendingException = undefined;
    context.aborted = false;
    const handler = machine.handler(context.state, current);
    if (handler === undefined) {
      runner.unhandled(context, current);
      return false;
    }
    runner.trace?.(context, `${context.state}: ${current}`);
    await runSteps(runner, context, handler.steps);
    if (handler.next !== undefined) {
      await runSteps(runner, context, machine.state(context.state).after);
      if (context.pendingException === undefined && !context.aborted) {
        context.state = handler.next;
        runner.trace?.(context, `-> ${handler.next}`);
      }
      await runSteps(runner, context, machine.state(context.state).before);
    }
    if (context.aborted) return false;
    next = context.pendingException ?? context.pendingNext;
    if (next === TERMINATE) {
      runner.terminate(context);
      return true;
    }
  }
  return false;
}

async function runSteps<Context extends MachineState<string>>(runner: StepRunner<Context>, context: Context, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    if (context.pendingException !== undefined || context.aborted) return;
    const name = "send" in step ? `send ${step.send}` : "terminate" in step ? "terminate" : step.call;
    runner.trace?.(context, `    ${name}`);
    try {
      if ("send" in step) runner.send(context, step.send);
      else if ("terminate" in step) context.pendingNext = TERMINATE;
      else {
        const result = runner.call(context, step.call);
        if (isPromise(result)) await result;
      }
    } catch (error) {
      // Without an exception event in the model the event ends here, in the current state.
      const raised = runner.failed(context, name, error);
      if (raised === undefined) context.aborted = true;
      else context.pendingException = raised;
    }
  }
}
