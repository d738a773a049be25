/**
 * Names and action descriptions of a state-machine model, shared by the engine emitter and the skeleton
 * emitter: both take them from here, so a skeleton always names the types and methods the engine exports.
 */
import type { ActionIR, MachineIR } from "./ir.js";

/** The names of the types a generated engine module exports. */
export interface MachineTypeNames {
  readonly stateType: string;
  readonly eventType: string;
  /** The events actions may raise: all but the protocol messages. */
  readonly internalEventType: string;
  readonly contextType: string;
  readonly actionsType: string;
  readonly argsType: string;
  readonly repliesType: string;
}

/** The exported type names of the engine module of `model` (`HelloServerActions`, ...). */
export function machineTypeNames(model: MachineIR): MachineTypeNames {
  return {
    stateType: `${model.typeName}State`,
    eventType: `${model.typeName}Event`,
    internalEventType: `${model.typeName}InternalEvent`,
    contextType: `${model.typeName}Context`,
    actionsType: `${model.typeName}Actions`,
    argsType: `${model.typeName}Args`,
    repliesType: `${model.typeName}Replies`,
  };
}

/** One user action as the actions interface declares it. */
export interface ActionView {
  /** Method name in the actions interface. */
  readonly method: string;
  /** Its TSDoc: the action's name and every place it runs. */
  readonly docLines: readonly string[];
  /** Union of the message types its `ctx.request` has, or "" for the whole protocol union. */
  readonly request: string;
}

/** `- state \`ready\`, event \`ping\``, or `- state \`greeting\`, entering` for before/after blocks. */
function usageText(action: ActionIR): string[] {
  return action.usages.map((usage) => `- state \`${usage.state}\`, ${usage.event.startsWith("(") ? usage.event.slice(1, -1) : `event \`${usage.event}\``}`);
}

/** How the actions interface declares one action. */
export function actionView(action: ActionIR): ActionView {
  return {
    method: action.method,
    docLines: [`Action "${action.name}", run in:`, ...usageText(action)],
    request: action.requestTypes === null || action.requestTypes.length === 0 ? "" : action.requestTypes.join(" | "),
  };
}

/** Every user action of `model`, in model order. */
export function actionViews(model: MachineIR): ActionView[] {
  return model.actions.map(actionView);
}

/**
 * Whether an action can run before any message arrived, when `ctx.request` is still undefined: a client's
 * first event is its constructor; a server's context starts with the message that created it, or with a
 * `malformed` event when the model handles those.
 */
export function requestBeforeAnyMessage(model: MachineIR): boolean {
  return model.kind === "client" || model.events.some((event) => event.name === "malformed");
}
