/**
 * Checks a server or client state-machine model and normalises it into {@link MachineIR}
 * (`spec/models.md` §3, §4): superstates resolved recursively, names normalised, every reference checked.
 */
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { checkAttributes, flagAttribute, integerAttribute, required } from "./attributes.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import { documentation } from "./docs.js";
import type { ActionIR, ArgIR, CodecIR, EventIR, HandlerIR, MachineIR, MessageIR, MethodIR, ReplyIR, StateIR, StepIR } from "./ir.js";
import { camelCase, isReservedWord, lowerSnake, pascalCase, upperSnake } from "./names.js";
import type { XmlElement } from "./xml.js";
import { MAX_MESSAGE_SIZE_LIMIT, MIN_MESSAGE_SIZE_LIMIT } from "../runtime/engine/limits.js";

/** Loads the codec model a machine names. */
export type CodecLoader = (path: string, from: Location) => CodecIR | null;

const COMMON_ATTRIBUTES = ["name", "title", "script", "protocol_class", "protocol_dir", "package_dir", "source_dir", "project_header", "export_macro", "max_message_size"];
const ENGINE_EVENTS = { server: ["expired", "malformed", "exception"], client: ["expired", "heartbeat", "malformed", "exception"] };
/** Hook and engine member names an action method must not take. */
const RESERVED_METHODS = new Set(["createClient", "clientTerminated", "constructor", "toString", "valueOf", "hasOwnProperty"]);

interface RawState {
  readonly element: XmlElement;
  readonly name: string;
  readonly inherits?: { readonly name: string; readonly at: Location };
  readonly handlers: (HandlerIR & { readonly at: Location })[];
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
  if (protocolClass === undefined) return null;
  const protocolDir = root.attributes.get("protocol_dir")?.value ?? "";
  const protocolPath = locateProtocol(path, protocolDir, protocolClass.value.trim());
  const protocol = loadCodec(protocolPath, protocolClass.at);
  if (protocol === null) return null;
  const messages = new Map(protocol.messages.map((message) => [message.key, message]));
  const messageByEvent = new Map(protocol.messages.map((message) => [lowerSnake(message.key), message]));

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
  const methods = kind === "client" ? readMethods(methodElements, replies, diagnostics) : [];
  const sends = sendElements.flatMap((element) => element.children.flatMap((child) => {
    const message = messageReference(child, messages, diagnostics);
    if (message === undefined) return [];
    const method = child.attributes.get("method")?.value;
    return [{ message, functionName: camelCase(method ?? message.name) }];
  }));
  const receives = recvElements.flatMap((element) => element.children.flatMap((child) => messageReference(child, messages, diagnostics) ?? []));

  const maxMessageSize = integerAttribute(root, "max_message_size", MIN_MESSAGE_SIZE_LIMIT, MAX_MESSAGE_SIZE_LIMIT, undefined, diagnostics);
  const engineEvents = new Set<string>([...ENGINE_EVENTS[kind], ...methods.map((method) => method.event)]);
  const events = collectEvents(resolved, messageByEvent, engineEvents);
  const actions = collectActions(resolved, messageByEvent, diagnostics, root.at);
  if (diagnostics.errors.length > errorsBefore) return null;

  let protocolImport = relative(dirname(path), protocolPath).replace(/\\/g, "/").replace(/\.xml$/, ".js");
  if (!protocolImport.startsWith(".")) protocolImport = `./${protocolImport}`;
  return {
    kind, source, name, className: lowerSnake(name), typeName: pascalCase(name),
    title: root.attributes.get("title")?.value ?? "", doc: documentation(root), license,
    protocol, protocolImport, states: resolved, events, actions, methods, replies, sends, receives,
    ...(maxMessageSize !== undefined ? { maxMessageSize } : {}),
  };
}

function locateProtocol(modelPath: string, protocolDir: string, protocolClass: string): string {
  const base = dirname(resolve(modelPath));
  const candidates = [join(base, protocolDir, `${protocolClass}.xml`), join(base, `${protocolClass}.xml`)];
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0];
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

function readState(element: XmlElement, messages: ReadonlyMap<string, MessageIR>, spellings: Spellings, diagnostics: Diagnostics): RawState {
  checkAttributes(element, ["name", "inherit"], diagnostics);
  const nameAttribute = required(element, "name", diagnostics);
  const name = spellings.note(nameAttribute?.value ?? "unnamed", nameAttribute?.at ?? element.at, "state");
  const inherit = element.attributes.get("inherit");
  const handlers: (HandlerIR & { at: Location })[] = [];
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
    if (eventAttribute === undefined) continue;
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
    });
  }
  return {
    element, name, handlers, before, after,
    ...(inherit !== undefined ? { inherits: { name: spellings.note(inherit.value, inherit.at, "state"), at: inherit.at } } : {}),
  };
}

function readSteps(element: XmlElement, messages: ReadonlyMap<string, MessageIR>, spellings: Spellings, diagnostics: Diagnostics): StepIR[] {
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

function messageReference(element: XmlElement, messages: ReadonlyMap<string, MessageIR>, diagnostics: Diagnostics, attribute = "name"): MessageIR | undefined {
  const reference = element.attributes.get(attribute);
  if (reference === undefined) {
    diagnostics.error(element.at, `<${element.name}> needs a ${attribute} attribute naming a protocol message`);
    return undefined;
  }
  const message = messages.get(upperSnake(reference.value.trim()));
  if (message === undefined) diagnostics.error(reference.at, `the protocol has no message ${reference.value}`);
  return message;
}

/** Copies the handlers of the superstates (recursively) after the state's own, skipping events it handles. */
function resolveState(state: RawState, byName: ReadonlyMap<string, RawState>, diagnostics: Diagnostics): StateIR {
  const handlers: HandlerIR[] = state.handlers.map(({ at: _at, ...handler }) => handler);
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
        const { at: _at, ...copy } = handler;
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
    if (name === undefined) continue;
    let tsType = ARG_TYPES[type];
    if (type === "number") {
      const size = integerAttribute(child, "size", 1, 8, 4, diagnostics) ?? 4;
      if (![1, 2, 4, 8].includes(size)) diagnostics.error(child.attributes.get("size")?.at ?? child.at, `number size must be 1, 2, 4 or 8`);
      tsType = size === 8 ? "bigint" : "number";
    }
    if (tsType === undefined) {
      diagnostics.error(child.attributes.get("type")?.at ?? child.at, `argument ${name.value} has unknown type "${type}"`);
      continue;
    }
    args.push({ name: lowerSnake(name.value), key: camelCase(name.value), tsType, doc: documentation(child) });
  }
  return args;
}

function readReplies(elements: readonly XmlElement[], diagnostics: Diagnostics): ReplyIR[] {
  const replies: ReplyIR[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "failure"], diagnostics);
    const name = required(element, "name", diagnostics);
    if (name === undefined) continue;
    const key = upperSnake(name.value.trim());
    if (replies.some((reply) => reply.name === key)) diagnostics.error(name.at, `reply ${key} is defined twice`);
    const failure = element.attributes.has("failure") ? flagAttribute(element, "failure", diagnostics) : key === "FAILURE" || key === "ERROR";
    replies.push({ name: key, typeName: `${pascalCase(key)}Reply`, doc: documentation(element), fields: readArgs(element, diagnostics), failure });
  }
  return replies;
}

function readMethods(elements: readonly XmlElement[], replies: readonly ReplyIR[], diagnostics: Diagnostics): MethodIR[] {
  const methods: MethodIR[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "return", "immediate", "virtual"], diagnostics);
    const name = required(element, "name", diagnostics);
    if (name === undefined) continue;
    const event = lowerSnake(name.value.trim());
    if (methods.some((method) => method.event === event)) diagnostics.error(name.at, `method ${event} is defined twice`);
    const accepts: string[] = [];
    for (const accept of element.children.filter((child) => child.name === "accept")) {
      const reply = required(accept, "reply", diagnostics);
      if (reply === undefined) continue;
      const key = upperSnake(reply.value.trim());
      if (!replies.some((candidate) => candidate.name === key)) diagnostics.error(reply.at, `method ${event} accepts reply ${key}, which is not defined`);
      accepts.push(key);
    }
    const returnAttribute = element.attributes.get("return");
    let returns: MethodIR["returns"];
    if (returnAttribute !== undefined) {
      const key = camelCase(returnAttribute.value);
      const field = replies.filter((reply) => accepts.includes(reply.name)).flatMap((reply) => reply.fields).find((candidate) => candidate.key === key);
      if (field === undefined) diagnostics.error(returnAttribute.at, `method ${event} returns ${returnAttribute.value}, which no accepted reply has`);
      else returns = { key, tsType: field.tsType };
    }
    const immediate = flagAttribute(element, "immediate", diagnostics);
    let functionName = event === "constructor" ? "connect" : event === "destructor" ? "destroy" : camelCase(name.value);
    if (isReservedWord(functionName)) functionName += "Method";
    methods.push({ name: name.value.trim(), event, functionName, doc: documentation(element), args: readArgs(element, diagnostics), accepts, ...(returns ? { returns } : {}), immediate });
  }
  return methods;
}
