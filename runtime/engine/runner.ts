/**
 * The step runner both engines give the executor (machine.ts): how a user action is called, how an unhandled
 * event and a failed action are logged, and whether verbose mode traces (the runner's `tracing`, which the
 * engine switches). Only sending, terminating and the trace line differ between a server and a client; they
 * pass those in.
 */
import { ActionFailed, errorText } from "./errors.js";
import type { LogFields, LogLevel } from "./log.js";
import type { MachineState, StepRunner } from "./machine.js";

/** What the runner needs of a context besides its machine state. */
export interface ActionContext extends MachineState<string> {
  failure: ActionFailed | undefined;
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

/** What differs between engines. */
export interface RunnerSetup<C extends ActionContext> {
  /** The user's actions, by name. */
  readonly actions: object;
  /** Whether the model has an `exception` event to raise for a failed action. */
  readonly handlesException: boolean;
  /** Built-in `send` of the context's reply. */
  send(context: C, message: string): void;
  /** The context reached `terminate`. */
  terminate(context: C): void;
  /** A failure, once logged and set as `context.failure` (the engine reports it to `onActionFailed`). */
  failed(failure: ActionFailed): void;
  /** One verbose trace line. */
  trace(context: C, what: string): void;
}

/** The step runner of an engine. */
export function createRunner<C extends ActionContext>(setup: RunnerSetup<C>): StepRunner<C> {
  const actions = setup.actions as Record<string, (context: C) => unknown>;
  return {
    send: setup.send,
    call: (context, name) => {
      const action = actions[name];
      // Reached from untyped code only (generated action interfaces require every action).
      if (typeof action !== "function") throw new TypeError(`the actions object has no method ${name}`);
      return action.call(actions, context);
    },
    terminate: setup.terminate,
    unhandled: (context, event) => context.log("warn", `event ${event} is not handled in state ${context.state}; dropped`, { event }),
    failed: (context, action, error) => {
      const failure = new ActionFailed(action, context.event, context.state, error);
      context.failure = failure;
      context.log("error", `action ${action} failed: ${errorText(error)}`, { event: context.event });
      setup.failed(failure);
      return setup.handlesException ? "exception" : undefined;
    },
    // Verbose mode starts off; the engine switches it (a data property: read at every step).
    tracing: false,
    trace: setup.trace,
  };
}
