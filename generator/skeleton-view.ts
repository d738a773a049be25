/**
 * Prepares a machine IR for the skeleton template: for every action, its documentation (the same as the
 * engine's actions interface gives it) and the hints its body starts with, all read from the model: what
 * `ctx.request` is, which message is sent after it from which fields, which method call it runs for and
 * which replies answer that call. The template only lays these out.
 */
import type { ActionIR, MachineIR, MessageIR, MethodIR, ReplyIR, StepIR } from "./ir.js";
import { actionView, machineTypeNames, requestBeforeAnyMessage, type ActionView } from "./machine-view.js";
import { camelCase } from "./names.js";

/** Options of the skeleton view. */
export interface SkeletonViewOptions {
  /** Module specifier of the generated engine module, as seen from the skeleton file. */
  readonly engineImport: string;
}

/** One action of the skeleton. */
export interface ActionSkeleton extends ActionView {
  /** Comment lines opening its body. */
  readonly hints: readonly string[];
  /**
   * Whether doing nothing would be wrong in a way nobody notices: a message goes out with unset fields, or a
   * caller waits for a reply until its timeout. Such bodies throw; the others log a warning.
   */
  readonly mustAct: boolean;
}

/** One action list of the model, with where it runs. */
interface StepList {
  /** Normalised event name, or `(entering)` / `(leaving)` for before / after blocks. */
  readonly event: string;
  readonly steps: readonly StepIR[];
}

/** Every action list of the model as written (inherited copies left out, as in the actions' documentation). */
function stepLists(model: MachineIR): StepList[] {
  return model.states.flatMap((state) => [
    ...state.handlers.filter((handler) => handler.definedIn === state.name).map((handler) => ({ event: handler.event, steps: handler.steps })),
    { event: "(entering)", steps: state.before },
    { event: "(leaving)", steps: state.after },
  ]);
}

/** Messages sent after `action` in the same list that have fields to fill (constants fill themselves). */
function messagesSentAfter(action: ActionIR, lists: readonly StepList[]): MessageIR[] {
  const sent = new Map<string, MessageIR>();
  for (const list of lists) {
    const at = list.steps.findIndex((step) => step.kind === "call" && step.action === action.name);
    if (at < 0) continue;
    for (const step of list.steps.slice(at + 1)) {
      if (step.kind === "send" && settableFields(step.message).length > 0) sent.set(step.message.key, step.message);
    }
  }
  return [...sent.values()];
}

function settableFields(message: MessageIR): string[] {
  return message.fields.filter((field) => field.value === undefined).map((field) => field.key);
}

function requestHint(action: ActionIR, model: MachineIR): string {
  const types = action.requestTypes ?? [];
  if (types.length === 0) {
    const sender = model.kind === "client" ? "the last message from the server" : "the last message this client sent";
    const last = requestBeforeAnyMessage(model) ? `${sender}, if any yet` : sender;
    return `\`ctx.request\` is ${last}, not necessarily one that raised this event.`;
  }
  const messages = types.map((type) => model.protocols.flatMap((link) => link.codec.messages).find((message) => message.typeName === type)).filter((message) => message !== undefined);
  if (messages.length === 1) {
    const fields = messages[0].fields.map((field) => field.key);
    return `\`ctx.request\` is the ${messages[0].key} that raised the event${fields.length > 0 ? ` (fields: ${fields.join(", ")})` : ""}.`;
  }
  return `\`ctx.request\` is the message that raised the event: ${messages.map((message) => message.key).join(" or ")} (see \`ctx.request.message\`).`;
}

/** TypeScript expressions of an empty value of each method-argument and reply-field type. */
const EMPTY_VALUES: Readonly<Record<string, string>> = {
  number: "0", bigint: "0n", boolean: "false", string: '""', "string[]": "[]", "Map<string, string>": "new Map()",
  Uint8Array: "new Uint8Array(0)", "Uint8Array[]": "[]",
};

/** `ctx.reply("SUCCESS", { greeting: "" });`: a call that type-checks, to start from. */
function replyExample(reply: ReplyIR): string {
  const fields = reply.fields.map((field) => `${field.key}: ${EMPTY_VALUES[field.tsType] ?? `/* ${field.tsType} */`}`);
  return `ctx.reply(${JSON.stringify(reply.name)}, ${fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`});`;
}

/** The client methods whose events `action` runs on. */
function methodsOf(action: ActionIR, model: MachineIR): MethodIR[] {
  return model.methods.filter((method) => action.usages.some((usage) => usage.event === method.event));
}

/**
 * The replies an action is likely to give: those the method calls it runs for wait for, and those its name
 * announces (zproto's convention: `signal success` answers with SUCCESS, even on a later protocol message).
 */
function repliesOf(action: ActionIR, methods: readonly MethodIR[], model: MachineIR): ReplyIR[] {
  const accepted = new Set(methods.flatMap((method) => method.accepts));
  const named = (reply: ReplyIR): boolean => `_${action.name}_`.includes(`_${reply.name.toLowerCase()}_`);
  return model.replies.filter((reply) => accepted.has(reply.name) || named(reply));
}

function callHint(method: MethodIR): string {
  const args = method.args.length > 0 ? ` (\`ctx.args\`: ${method.args.map((arg) => arg.key).join(", ")})` : "";
  const waits = method.accepts.length > 0 ? `the call waits for reply ${method.accepts.join(" or ")}` : "the call waits for no reply";
  return `Runs for method \`${method.name}\`${args}; ${waits}.`;
}

type CallStep = Extract<StepIR, { readonly kind: "call" }>;

/**
 * Whether `action` is the first one `constructor` runs: the client engine has no socket until an action
 * connects one, and `constructor` is the first event there is.
 */
function opensSession(action: ActionIR, lists: readonly StepList[]): boolean {
  const firstCall = (steps: readonly StepIR[]): CallStep | undefined => steps.find((step): step is CallStep => step.kind === "call");
  return lists.some((list) => list.event === "constructor" && firstCall(list.steps)?.action === action.name);
}

/** Connecting, and arming the timers whose events the model handles. */
function sessionHints(model: MachineIR): string[] {
  const handled = new Set(model.events.map((event) => event.name));
  return [
    "Nothing is connected yet: `ctx.connect(endpoint)` before the first message is sent.",
    ...(handled.has("heartbeat") ? ["`ctx.setHeartbeat(ms)` arms the `heartbeat` event this model handles."] : []),
    ...(handled.has("expired") ? ["`ctx.setExpiry(ms)` arms the `expired` event this model handles."] : []),
  ];
}

function actionSkeleton(action: ActionIR, model: MachineIR, lists: readonly StepList[]): ActionSkeleton {
  const isClient = model.kind === "client";
  const methods = isClient ? methodsOf(action, model) : [];
  const replies = isClient ? repliesOf(action, methods, model) : [];
  const opens = isClient && opensSession(action, lists);
  const sent = messagesSentAfter(action, lists);
  const outgoing = isClient ? "ctx.outgoing" : "ctx.reply";
  const hints = [
    requestHint(action, model),
    ...(action.usages.some((usage) => usage.event === "malformed") ? ["On `malformed`, `ctx.error` is the decoding error."] : []),
    ...methods.map(callHint),
    ...sent.map((message) => `${message.key} is sent after this action, with the fields of \`${outgoing}\`: ${settableFields(message).join(", ")}.`),
    ...(opens ? sessionHints(model) : []),
    ...(replies.length > 0 ? ["Answer the waiting call, here or in a later action, with one of:", ...replies.map((reply) => `  ${replyExample(reply)}`)] : []),
  ];
  return { ...actionView(action), hints, mustAct: sent.length > 0 || opens || replies.length > 0 };
}

/** The example engine construction the skeleton's header shows. */
function usage(model: MachineIR, actionsValue: string): string {
  if (model.kind === "server") return `\`new ${model.typeName}(${actionsValue})\`, then \`bind(endpoint)\``;
  const constructorMethod = model.methods.find((method) => method.event === "constructor");
  const args = [...(constructorMethod?.args.map((arg) => arg.key) ?? []), actionsValue];
  return `\`await ${model.typeName}.create(${args.join(", ")})\`, then \`close()\``;
}

/** Everything the skeleton template shows. */
export function skeletonView(model: MachineIR, options: SkeletonViewOptions) {
  const lists = stepLists(model);
  const actionsValue = `${camelCase(model.name)}Actions`;
  return {
    source: model.source,
    engineImport: options.engineImport,
    title: model.title || model.className,
    className: model.className,
    kind: model.kind,
    actionsType: machineTypeNames(model).actionsType,
    actionsValue,
    usage: usage(model, actionsValue),
    clientDoc: model.kind === "server"
      ? "What the server keeps for each connected client, as `ctx.client`."
      : "What the client keeps for its connection to the server, as `ctx.client`.",
    terminatedHook: model.kind === "server"
      ? "`clientTerminated(ctx, ending)` runs when a client's context ends; `ending.reason` says why."
      : "`terminated(ctx)` runs when the machine terminates or the client closes.",
    replies: model.replies.map(replyExample),
    actions: model.actions.map((action) => actionSkeleton(action, model, lists)),
  };
}
