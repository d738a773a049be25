/**
 * Checks a server or client state-machine model and normalises it into {@link MachineIR}
 * (`spec/models.md` §3, §4): superstates resolved recursively, names normalised, every reference checked.
 */
import { checkAttributes, flagAttribute, integerAttribute, required } from "./attributes.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import { documentation } from "./docs.js";
import { ENGINE_EVENTS, checkEventSources, type WrittenHandler } from "./event-sources.js";
import type { ActionIR, ArgIR, EventIR, HandlerIR, MachineIR, MessageIR, MethodIR, ReplyIR, StateIR, StepIR } from "./ir.js";
import { loadProtocols, type CodecLoader } from "./machine-protocols.js";
import { camelCase, isReservedWord, lowerSnake, pascalCase, upperSnake } from "./names.js";
import type { XmlElement } from "./xml.js";
import { MAX_MESSAGE_SIZE_LIMIT, MIN_MESSAGE_SIZE_LIMIT } from "../runtime/engine/limits.js";

export type { CodecLoader } from "./machine-protocols.js";

const COMMON_ATTRIBUTES = ["name", "title", "script", "protocol_class", "protocol_dir", "package_dir", "source_dir", "project_header", "export_macro", "max_message_size"];
/** Hook and engine member names an action method must not take. */
const RESERVED_METHODS = new Set(["createClient", "clientTerminated", "constructor", "toString", "valueOf", "hasOwnProperty"]);
/**
 * Members of the runtime's ClientEngine (fields and methods, private ones too): an API method of the same
 * name would replace or clash with them. A test keeps this list in step with the engine.
 */
export const CLIENT_ENGINE_MEMBERS: ReadonlySet<string> = new Set([
  "logger", "connected", "config", "context", "machine", "runner", "queue", "limiter", "socket", "outgoing",
  "endpoints", "closing", "calls", "delivered", "heartbeatTimer", "expiryTimer",
  "wakeupTimer", "defaultTimeout", "terminatedFlag", "closed", "handlesMalformed", "codec", "methods", "actions", "options",
  "state", "terminated", "construct", "call", "replyToCaller", "sendEvent", "deliverToApplication", "recv", "messages",
  "sendMessage", "connectTo", "reopen", "armHeartbeat", "armExpiry", "armWakeup", "close", "shutdown", "terminate", "notifyTerminated",
  "disarm", "open", "dropSocket", "receiveLoop", "received", "run", "traceMessage", "socketOptions", "firstFailure",
  "connectionFailed", "watchHandshakes", "eventDone", "silentPeriods",
]);

/** A handler as written: `at` is where a bad `next` is reported, `eventAt` where the event is named. */
type RawHandler = HandlerIR & { readonly at: Location; readonly eventAt: Location };

interface RawState {
  readonly element: XmlElement;
  readonly name: string;
  readonly inherits?: { readonly name: string; readonly at: Location };
  readonly handlers: RawHandler[];
  readonly before: StepIR[];
  readonly after: StepIR[];
}

/** Builds the IR of a machine model; null when it has errors. */
export function buildMachineModel(
  root: XmlElement, kind: "server" | "client", path: string, source: string, loadCodec: CodecLoader, diagnostics: Diagnostics,
): MachineIR | null {
  const errorsBefore = diagnostics.errors.length;
  checkAttributes(root, kind === "server" ? COMMON_ATTRIBUTES : [...COMMON_ATTRIBUTES, "virtual"], diagnostics);
  const name = required(root, "name", diagnostics)?.value.trim() ?? "unnamed";
  const protocolClass = required(root, "protocol_class", diagnostics);
  // Without its protocols the machine is still checked, all but its references to messages.
  const protocols = protocolClass === undefined ? null : loadProtocols(path, protocolClass, root.attributes.get("protocol_dir")?.value ?? "", loadCodec, diagnostics);
  const allMessages = protocols?.flatMap((link) => link.codec.messages) ?? null;
  const messages = allMessages === null ? null : new Map(allMessages.map((message) => [message.key, message]));
  const messageByEvent = new Map(allMessages?.map((message) => [lowerSnake(message.key), message]) ?? []);

  const spellings = new Spellings(diagnostics);
  const states: RawState[] = [];
  const methodElements: XmlElement[] = [];
  const replyElements: XmlElement[] = [];
  const sendElements: XmlElement[] = [];
  const recvElements: XmlElement[] = [];
  let license = "";
  for (const child of root.children) {
    switch (child.name) {
      case "state": states.push(readState(child, messages, spellings, diagnostics)); break;
      case "license": license += (license ? "\n\n" : "") + documentation(child); break;
      case "method": case "reply": case "send": case "recv":
        if (kind === "server") diagnostics.error(child.at, `<${child.name}> belongs in client models, not server models`);
        else ({ method: methodElements, reply: replyElements, send: sendElements, recv: recvElements })[child.name].push(child);
        break;
      case "custom": diagnostics.error(child.at, "<custom> pastes C code and is not supported; extend the generated class in TypeScript instead"); break;
      default: diagnostics.error(child.at, `<${child.name}> is not part of a ${kind} model`);
    }
  }
  if (states.length === 0) diagnostics.error(root.at, "a state machine needs at least one <state>");
  const byName = new Map<string, RawState>();
  for (const state of states) {
    if (byName.has(state.name)) diagnostics.error(state.element.at, `state ${state.name} is defined twice`);
    else byName.set(state.name, state);
  }
  const resolved = states.map((state) => resolveState(state, byName, diagnostics));
  for (const state of states) {
    for (const handler of state.handlers) {
      if (handler.next !== undefined && !byName.has(handler.next)) diagnostics.error(handler.at, `next state ${handler.next} does not exist`);
    }
  }

  const replies = kind === "client" ? readReplies(replyElements, diagnostics) : [];
  const placedMethods = kind === "client" ? readMethods(methodElements, replies, messageByEvent, diagnostics) : [];
  const methods = placedMethods.map((method) => method.ir);
  const sends = sendElements.flatMap((element) => {
    checkAttributes(element, [], diagnostics);
    return element.children.flatMap((child) => {
      checkAttributes(child, ["name", "method"], diagnostics);
      const message = messageReference(child, messages, diagnostics);
      if (message === undefined) return [];
      const method = child.attributes.get("method");
      return [{ message, functionName: camelCase(method?.value ?? message.name), at: method?.at ?? child.attributes.get("name")?.at ?? child.at }];
    });
  });
  const receives = recvElements.flatMap((element) => {
    checkAttributes(element, ["virtual"], diagnostics);
    flagAttribute(element, "virtual", diagnostics);
    return element.children.flatMap((child) => {
      checkAttributes(child, ["name"], diagnostics);
      return messageReference(child, messages, diagnostics) ?? [];
    });
  });
  checkApiNames(placedMethods, sends, diagnostics);

  const maxMessageSize = integerAttribute(root, "max_message_size", MIN_MESSAGE_SIZE_LIMIT, MAX_MESSAGE_SIZE_LIMIT, undefined, diagnostics);
  const engineEvents = new Set<string>([...ENGINE_EVENTS[kind], ...methods.map((method) => method.event)]);
  const events = collectEvents(resolved, messageByEvent, engineEvents);
  const actions = collectActions(resolved, messageByEvent, diagnostics, root.at);
  const handlers: WrittenHandler[] = states.flatMap((state) => state.handlers.map((handler) => ({ event: handler.event, at: handler.eventAt })));
  checkEventSources({
    kind, name, handlers, messages: allMessages, protocolAt: protocolClass?.at ?? root.at, methods: placedMethods,
  }, diagnostics);
  if (diagnostics.errors.length > errorsBefore || protocols === null) return null;
  return {
    kind, source, name, className: lowerSnake(name), typeName: pascalCase(name),
    title: root.attributes.get("title")?.value ?? "", doc: documentation(root), license,
    protocol: protocols[0].codec, protocolImport: protocols[0].importPath, protocols,
    states: resolved, events, actions, methods, replies,
    sends: sends.map(({ message, functionName }) => ({ message, functionName })), receives,
    ...(maxMessageSize !== undefined ? { maxMessageSize } : {}),
  };
}

/** Remembers how each normalised name was written, to warn when one item is spelled several ways. */
class Spellings {
  private readonly seen = new Map<string, string>();

  constructor(private readonly diagnostics: Diagnostics) {}

  note(written: string, at: Location, what: string): string {
    const normalised = lowerSnake(written.trim());
    const first = this.seen.get(`${what}:${normalised}`);
    if (first === undefined) this.seen.set(`${what}:${normalised}`, written);
    else if (first !== written && normalised !== "*") {
      this.diagnostics.warning(at, `${what} "${written}" is also spelled "${first}"; both mean ${normalised}`);
    }
    return normalised;
  }
}

function readState(element: XmlElement, messages: ReadonlyMap<string, MessageIR> | null, spellings: Spellings, diagnostics: Diagnostics): RawState {
  checkAttributes(element, ["name", "inherit"], diagnostics);
  const nameAttribute = required(element, "name", diagnostics);
  const name = spellings.note(nameAttribute?.value ?? "unnamed", nameAttribute?.at ?? element.at, "state");
  const inherit = element.attributes.get("inherit");
  const handlers: RawHandler[] = [];
  const before: StepIR[] = [];
  const after: StepIR[] = [];
  for (const child of element.children) {
    if (child.name === "before" || child.name === "after") {
      (child.name === "before" ? before : after).push(...readSteps(child, messages, spellings, diagnostics));
      continue;
    }
    if (child.name !== "event") {
      diagnostics.error(child.at, `<${child.name}> is not allowed in <state>; only <event>, <before> and <after>`);
      continue;
    }
    checkAttributes(child, ["name", "next"], diagnostics);
    const eventAttribute = required(child, "name", diagnostics);
    if (eventAttribute === undefined) {
      // Still check what the nameless handler does.
      readSteps(child, messages, spellings, diagnostics);
      continue;
    }
    let written = eventAttribute.value.trim();
    if (written === "$other") {
      diagnostics.warning(eventAttribute.at, 'event "$other" is the Guide-era spelling of "*"');
      written = "*";
    }
    const event = written === "*" ? "*" : spellings.note(written, eventAttribute.at, "event");
    if (event === "terminate") diagnostics.error(eventAttribute.at, "terminate is a reserved event; use the terminate action");
    if (handlers.some((handler) => handler.event === event)) diagnostics.error(eventAttribute.at, `state ${name} handles event ${event} twice`);
    const next = child.attributes.get("next");
    handlers.push({
      event,
      ...(next !== undefined ? { next: spellings.note(next.value, next.at, "state") } : {}),
      steps: readSteps(child, messages, spellings, diagnostics),
      definedIn: name,
      at: next?.at ?? eventAttribute.at,
      eventAt: eventAttribute.at,
    });
  }
  return {
    element, name, handlers, before, after,
    ...(inherit !== undefined ? { inherits: { name: spellings.note(inherit.value, inherit.at, "state"), at: inherit.at } } : {}),
  };
}

function readSteps(element: XmlElement, messages: ReadonlyMap<string, MessageIR> | null, spellings: Spellings, diagnostics: Diagnostics): StepIR[] {
  const steps: StepIR[] = [];
  for (const child of element.children) {
    if (child.name !== "action") {
      diagnostics.error(child.at, `<${child.name}> is not allowed in <${element.name}>; only <action>`);
      continue;
    }
    checkAttributes(child, ["name", "message"], diagnostics);
    const nameAttribute = required(child, "name", diagnostics);
    if (nameAttribute === undefined) continue;
    const action = spellings.note(nameAttribute.value, nameAttribute.at, "action");
    if (action === "send") {
      const message = messageReference(child, messages, diagnostics, "message");
      if (message !== undefined) steps.push({ kind: "send", message });
    } else if (action === "terminate") {
      steps.push({ kind: "terminate" });
    } else {
      let method = camelCase(action);
      if (isReservedWord(method)) method += "Action";
      if (RESERVED_METHODS.has(method)) diagnostics.error(nameAttribute.at, `action "${nameAttribute.value}" would be named ${method}, which the engine uses; rename it`);
      steps.push({ kind: "call", action, method });
    }
  }
  return steps;
}

/** The message `element` names; undefined after reporting it, or when the protocol is unknown (`messages` null). */
function messageReference(element: XmlElement, messages: ReadonlyMap<string, MessageIR> | null, diagnostics: Diagnostics, attribute = "name"): MessageIR | undefined {
  const reference = element.attributes.get(attribute);
  if (reference === undefined) {
    diagnostics.error(element.at, `<${element.name}> needs a ${attribute} attribute naming a protocol message`);
    return undefined;
  }
  if (messages === null) return undefined;
  const message = messages.get(upperSnake(reference.value.trim()));
  if (message === undefined) diagnostics.error(reference.at, `the protocol has no message ${reference.value}`);
  return message;
}

/** Copies the handlers of the superstates (recursively) after the state's own, skipping events it handles. */
function resolveState(state: RawState, byName: ReadonlyMap<string, RawState>, diagnostics: Diagnostics): StateIR {
  const handlers: HandlerIR[] = state.handlers.map(({ at: _at, eventAt: _eventAt, ...handler }) => handler);
  const seen = new Set([state.name]);
  let parent = state.inherits;
  while (parent !== undefined) {
    const superstate = byName.get(parent.name);
    if (superstate === undefined) {
      if (parent === state.inherits) diagnostics.error(parent.at, `superstate ${parent.name} does not exist`);
      break;
    }
    if (seen.has(superstate.name)) {
      if (parent === state.inherits) diagnostics.error(parent.at, `state ${state.name} inherits from itself through ${[...seen].join(" -> ")}`);
      break;
    }
    seen.add(superstate.name);
    for (const handler of superstate.handlers) {
      if (!handlers.some((own) => own.event === handler.event)) {
        const { at: _at, eventAt: _eventAt, ...copy } = handler;
        handlers.push(copy);
      }
    }
    parent = superstate.inherits;
  }
  return {
    name: state.name, doc: documentation(state.element), handlers, before: state.before, after: state.after,
    ...(state.inherits !== undefined ? { inherits: state.inherits.name } : {}),
  };
}

function collectEvents(states: readonly StateIR[], messageByEvent: ReadonlyMap<string, MessageIR>, engineEvents: ReadonlySet<string>): EventIR[] {
  const events = new Map<string, EventIR>();
  for (const state of states) {
    for (const handler of state.handlers) {
      if (handler.event === "*" || events.has(handler.event)) continue;
      const message = messageByEvent.get(handler.event);
      events.set(handler.event, message !== undefined ? { name: handler.event, kind: "message", message }
        : { name: handler.event, kind: engineEvents.has(handler.event) ? "engine" : "internal" });
    }
  }
  return [...events.values()];
}

function collectActions(states: readonly StateIR[], messageByEvent: ReadonlyMap<string, MessageIR>, diagnostics: Diagnostics, at: Location): ActionIR[] {
  const actions = new Map<string, { method: string; usages: { state: string; event: string }[]; types: Set<string> | null }>();
  const use = (steps: readonly StepIR[], state: string, event: string): void => {
    for (const step of steps) {
      if (step.kind !== "call") continue;
      let action = actions.get(step.action);
      if (action === undefined) {
        action = { method: step.method, usages: [], types: new Set() };
        actions.set(step.action, action);
      }
      if (!action.usages.some((usage) => usage.state === state && usage.event === event)) action.usages.push({ state, event });
      const message = messageByEvent.get(event);
      if (message === undefined) action.types = null;
      else action.types?.add(message.typeName);
    }
  };
  for (const state of states) {
    for (const handler of state.handlers) if (handler.definedIn === state.name) use(handler.steps, state.name, handler.event);
    use(state.before, state.name, "(entering)");
    use(state.after, state.name, "(leaving)");
  }
  const methods = new Map<string, string>();
  for (const [name, action] of actions) {
    const other = methods.get(action.method);
    if (other !== undefined) diagnostics.error(at, `actions "${other}" and "${name}" would both be named ${action.method}`);
    methods.set(action.method, name);
  }
  return [...actions].map(([name, action]) => ({
    name, method: action.method, usages: action.usages, requestTypes: action.types === null ? null : [...action.types],
  }));
}

const ARG_TYPES: Record<string, string> = {
  integer: "number", string: "string", longstr: "string", strings: "string[]", hash: "Map<string, string>",
  chunk: "Uint8Array", frame: "Uint8Array", uuid: "Uint8Array", msg: "Uint8Array[]", boolean: "boolean",
};

function readArgs(element: XmlElement, diagnostics: Diagnostics): ArgIR[] {
  const args: ArgIR[] = [];
  for (const child of element.children) {
    if (child.name !== "field") {
      if (child.name !== "accept") diagnostics.error(child.at, `<${child.name}> is not allowed in <${element.name}>`);
      continue;
    }
    checkAttributes(child, ["name", "type", "size"], diagnostics);
    const name = required(child, "name", diagnostics);
    const type = child.attributes.get("type")?.value.trim() ?? "string";
    let tsType = ARG_TYPES[type];
    if (type === "number") {
      const size = integerAttribute(child, "size", 1, 8, 4, diagnostics) ?? 4;
      if (![1, 2, 4, 8].includes(size)) diagnostics.error(child.attributes.get("size")?.at ?? child.at, `number size must be 1, 2, 4 or 8`);
      tsType = size === 8 ? "bigint" : "number";
    }
    if (tsType === undefined) {
      diagnostics.error(child.attributes.get("type")?.at ?? child.at, `argument ${name?.value ?? "(unnamed)"} has unknown type "${type}"`);
      continue;
    }
    if (name !== undefined) args.push({ name: lowerSnake(name.value), key: camelCase(name.value), type, tsType, doc: documentation(child) });
  }
  return args;
}

function readReplies(elements: readonly XmlElement[], diagnostics: Diagnostics): ReplyIR[] {
  const replies: ReplyIR[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "failure"], diagnostics);
    const name = required(element, "name", diagnostics);
    const failure = flagAttribute(element, "failure", diagnostics);
    const fields = readArgs(element, diagnostics);
    if (name === undefined) continue;
    const key = upperSnake(name.value.trim());
    if (replies.some((reply) => reply.name === key)) diagnostics.error(name.at, `reply ${key} is defined twice`);
    replies.push({
      name: key, typeName: `${pascalCase(key)}Reply`, doc: documentation(element), fields,
      failure: element.attributes.has("failure") ? failure : key === "FAILURE" || key === "ERROR",
    });
  }
  return replies;
}

/** A method with where its name is written. */
interface PlacedMethod {
  readonly ir: MethodIR;
  readonly at: Location;
}

function readMethods(
  elements: readonly XmlElement[], replies: readonly ReplyIR[], messageByEvent: ReadonlyMap<string, MessageIR>, diagnostics: Diagnostics,
): PlacedMethod[] {
  const methods: PlacedMethod[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "return", "immediate", "virtual"], diagnostics);
    const nameAttribute = required(element, "name", diagnostics);
    const name = nameAttribute?.value.trim() ?? "(unnamed)";
    const event = lowerSnake(name);
    const at = nameAttribute?.at ?? element.at;
    if (nameAttribute !== undefined) checkMethodEvent(name, event, at, methods, messageByEvent, diagnostics);
    const accepts: string[] = [];
    for (const accept of element.children.filter((child) => child.name === "accept")) {
      checkAttributes(accept, ["reply"], diagnostics);
      const reply = required(accept, "reply", diagnostics);
      if (reply === undefined) continue;
      const key = upperSnake(reply.value.trim());
      if (!replies.some((candidate) => candidate.name === key)) diagnostics.error(reply.at, `method ${event} accepts reply ${key}, which is not defined`);
      accepts.push(key);
    }
    const args = readArgs(element, diagnostics);
    const immediate = flagAttribute(element, "immediate", diagnostics);
    if (immediate && accepts.length === 0) {
      diagnostics.error(element.attributes.get("immediate")!.at, `immediate method ${name} raises no event and accepts no reply, so it does nothing`);
    }
    if (immediate && args.length > 0) {
      diagnostics.error(element.attributes.get("immediate")!.at, `immediate method ${name} raises no event, so no action would see its arguments (${args.map((arg) => arg.name).join(", ")})`);
    }
    const returns = methodResult(element, name, replies.filter((reply) => accepts.includes(reply.name)), diagnostics);
    if (nameAttribute === undefined) continue;
    let functionName = event === "constructor" ? "connect" : event === "destructor" ? "destroy" : camelCase(name);
    if (isReservedWord(functionName)) functionName += "Method";
    methods.push({ at, ir: { name, event, functionName, doc: documentation(element), args, accepts, ...(returns ? { returns } : {}), immediate } });
  }
  return methods;
}

/**
 * A method raises the event of its name: that event must be its own, or the machine could not tell a call
 * from a protocol message or from the engine's own events (and actions would be typed for the wrong one).
 */
function checkMethodEvent(
  name: string, event: string, at: Location, earlier: readonly PlacedMethod[], messageByEvent: ReadonlyMap<string, MessageIR>, diagnostics: Diagnostics,
): void {
  const message = messageByEvent.get(event);
  if (earlier.some((method) => method.ir.event === event)) diagnostics.error(at, `method ${event} is defined twice`);
  else if (message !== undefined) {
    diagnostics.error(at, `method ${name} would raise event ${event}, which is also the event of protocol message ${message.key}; ` +
      `a state could not tell a call from the message: rename the method`);
  } else if (event === "terminate" || ENGINE_EVENTS.client.includes(event)) {
    diagnostics.error(at, `method ${name} would raise event ${event}, which the engine raises itself: rename the method`);
  }
}

/**
 * What a call resolves with: the field `return` names, or with `virtual="1"` the reply's msg field. Failure
 * replies reject the call, so only the others count; one that lacks the field resolves with undefined, and
 * the type says so.
 */
function methodResult(element: XmlElement, method: string, accepted: readonly ReplyIR[], diagnostics: Diagnostics): MethodIR["returns"] {
  const returnAttribute = element.attributes.get("return");
  const virtualAttribute = element.attributes.get("virtual");
  const virtual = flagAttribute(element, "virtual", diagnostics);
  const resolving = accepted.filter((reply) => !reply.failure);
  let key: string;
  let at: Location;
  if (returnAttribute !== undefined) {
    key = camelCase(returnAttribute.value);
    at = returnAttribute.at;
    const named = resolving.flatMap((reply) => reply.fields).find((field) => field.key === key);
    if (virtual && named !== undefined && named.type !== "msg") {
      diagnostics.warning(virtualAttribute!.at, `virtual="1" on method ${method} has no effect: return names ${returnAttribute.value}, a ${named.type} field, not a msg field`);
    }
  } else if (virtual) {
    at = virtualAttribute!.at;
    const msgFields = [...new Set(resolving.flatMap((reply) => reply.fields).filter((field) => field.type === "msg").map((field) => field.key))];
    if (msgFields.length !== 1) {
      diagnostics.error(at, msgFields.length === 0
        ? `virtual="1" makes method ${method} resolve with the msg field of its reply, but no accepted reply that is not a failure has one`
        : `virtual="1" on method ${method} is ambiguous: its replies have msg fields ${msgFields.join(" and ")}; say which with return`);
      return undefined;
    }
    key = msgFields[0];
  } else {
    return undefined;
  }
  const carriers = resolving.filter((reply) => reply.fields.some((field) => field.key === key));
  if (carriers.length === 0) {
    const failures = accepted.filter((reply) => reply.failure && reply.fields.some((field) => field.key === key)).map((reply) => reply.name);
    diagnostics.error(at, failures.length > 0
      ? `method ${method} returns ${key}, which only failure replies have (${failures.join(", ")}); a failure reply rejects the call instead`
      : `method ${method} returns ${key}, which no accepted reply has`);
    return undefined;
  }
  const types = new Set(carriers.flatMap((reply) => reply.fields.filter((field) => field.key === key).map((field) => field.tsType)));
  if (carriers.length < resolving.length) types.add("undefined");
  return { key, tsType: [...types].join(" | ") };
}

/** Names of the generated client's API methods: unique, and none that the engine itself uses. */
function checkApiNames(
  methods: readonly PlacedMethod[], sends: readonly { readonly message: MessageIR; readonly functionName: string; readonly at: Location }[], diagnostics: Diagnostics,
): void {
  const taken = new Map<string, string>();
  const api = [
    ...methods.filter((method) => method.ir.event !== "constructor" && method.ir.event !== "destructor")
      .map((method) => ({ functionName: method.ir.functionName, what: `method ${method.ir.name}`, at: method.at })),
    ...sends.map((send) => ({ functionName: send.functionName, what: `<send> of ${send.message.key}`, at: send.at })),
  ];
  for (const { functionName, what, at } of api) {
    const other = taken.get(functionName);
    if (other !== undefined) diagnostics.error(at, `${what} would be the client's ${functionName}(), which ${other} already is; rename one`);
    else if (CLIENT_ENGINE_MEMBERS.has(functionName)) diagnostics.error(at, `${what} would be the client's ${functionName}(), which the engine uses; rename it`);
    taken.set(functionName, what);
  }
}
