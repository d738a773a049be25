/**
 * Checks a server or client state-machine model and normalises it into {@link MachineIR} (docs/models.md,
 * "State-machine models"): superstates resolved recursively, names normalised, every reference checked. The
 * API of a client model is read by client-methods.ts.
 */
import { checkAttributes, flagAttribute, integerAttribute, required, requiredName } from "./attributes.js";
import { checkApiNames, readMethods, readReplies, type SendFunction } from "./client-methods.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import { documentation } from "./docs.js";
import { ENGINE_EVENTS, checkEventSources, type WrittenHandler } from "./event-sources.js";
import type { ActionIR, EventIR, HandlerIR, MachineIR, MessageIR, StateIR, StepIR } from "./ir.js";
import { loadProtocols, type CodecLoader } from "./machine-protocols.js";
import { camelCase, isReservedWord, lowerSnake, pascalCase, upperSnake } from "./names.js";
import { ENGINE_HOOKS, javascriptMeaning } from "./reserved-names.js";
import type { ModelElement } from "./element.js";
import { MAX_MESSAGE_SIZE_LIMIT, MIN_MESSAGE_SIZE_LIMIT } from "../runtime/engine/limits.js";

export type { CodecLoader } from "./machine-protocols.js";

const COMMON_ATTRIBUTES = ["name", "title", "script", "protocol_class", "protocol_dir", "package_dir", "source_dir", "project_header", "export_macro", "max_message_size"];
/** A handler as written: `at` is where a bad `next` is reported, `eventAt` where the event is named. */
type RawHandler = HandlerIR & { readonly at: Location; readonly eventAt: Location };

interface RawState {
  readonly element: ModelElement;
  readonly name: string;
  readonly inherits?: { readonly name: string; readonly at: Location };
  readonly handlers: RawHandler[];
  readonly before: StepIR[];
  readonly after: StepIR[];
}

/** Builds the IR of a machine model; null when it has errors. */
export function buildMachineModel(
  root: ModelElement, kind: "server" | "client", path: string, source: string, loadCodec: CodecLoader, diagnostics: Diagnostics,
): MachineIR | null {
  const errorsBefore = diagnostics.errors.length;
  checkAttributes(root, kind === "server" ? COMMON_ATTRIBUTES : [...COMMON_ATTRIBUTES, "virtual"], diagnostics);
  const name = requiredName(root, diagnostics)?.value.trim() ?? "unnamed";
  const protocolClass = required(root, "protocol_class", diagnostics);
  // Without its protocols the machine is still checked, all but its references to messages.
  const protocols = protocolClass === undefined ? null : loadProtocols(path, protocolClass, root.attributes.get("protocol_dir")?.value ?? "", loadCodec, diagnostics);
  const allMessages = protocols?.flatMap((link) => link.codec.messages) ?? null;
  const messages = allMessages === null ? null : new Map(allMessages.map((message) => [message.key, message]));
  const messageByEvent = new Map(allMessages?.map((message) => [lowerSnake(message.key), message]) ?? []);

  const spellings = new Spellings(diagnostics);
  const states: RawState[] = [];
  const methodElements: ModelElement[] = [];
  const replyElements: ModelElement[] = [];
  const sendElements: ModelElement[] = [];
  const recvElements: ModelElement[] = [];
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
  if (states.length === 0) diagnostics.unresolved(root.at, "a state machine needs at least one <state>");
  const byName = new Map<string, RawState>();
  for (const state of states) {
    if (byName.has(state.name)) diagnostics.error(state.element.at, `state ${state.name} is defined twice`);
    else byName.set(state.name, state);
  }
  const resolved = states.map((state) => resolveState(state, byName, diagnostics));
  for (const state of states) {
    for (const handler of state.handlers) {
      if (handler.next !== undefined && !byName.has(handler.next)) diagnostics.unresolved(handler.at, `next state ${handler.next} does not exist`);
    }
  }

  const replies = kind === "client" ? readReplies(replyElements, diagnostics) : [];
  const placedMethods = kind === "client" ? readMethods(methodElements, replies, messageByEvent, diagnostics) : [];
  const methods = placedMethods.map((method) => method.ir);
  const sends: SendFunction[] = sendElements.flatMap((element) => {
    checkAttributes(element, [], diagnostics);
    return element.children.flatMap((child) => {
      checkAttributes(child, ["name", "method"], diagnostics);
      const message = messageReference(child, messages, diagnostics);
      if (message === undefined) return [];
      const method = child.attributes.get("method");
      if (method !== undefined && !/[A-Za-z0-9]/.test(method.value)) {
        diagnostics.error(method.at, `method "${method.value}" of <send> has no letter or digit, so no function name can be made of it`);
        return [];
      }
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

function readState(element: ModelElement, messages: ReadonlyMap<string, MessageIR> | null, spellings: Spellings, diagnostics: Diagnostics): RawState {
  checkAttributes(element, ["name", "inherit"], diagnostics);
  const nameAttribute = requiredName(element, diagnostics);
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
    const eventAttribute = requiredName(child, diagnostics, true);
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

function readSteps(element: ModelElement, messages: ReadonlyMap<string, MessageIR> | null, spellings: Spellings, diagnostics: Diagnostics): StepIR[] {
  const steps: StepIR[] = [];
  for (const child of element.children) {
    if (child.name !== "action") {
      diagnostics.error(child.at, `<${child.name}> is not allowed in <${element.name}>; only <action>`);
      continue;
    }
    checkAttributes(child, ["name", "message"], diagnostics);
    const nameAttribute = requiredName(child, diagnostics);
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
      const meaning = ENGINE_HOOKS.has(method) ? "which is a hook the engine calls" : javascriptMeaning(method);
      if (meaning !== undefined) diagnostics.error(nameAttribute.at, `action "${nameAttribute.value}" would be named ${method}, ${meaning}; rename it`);
      steps.push({ kind: "call", action, method });
    }
  }
  return steps;
}

/** The message `element` names; undefined after reporting it, or when the protocol is unknown (`messages` null). */
function messageReference(element: ModelElement, messages: ReadonlyMap<string, MessageIR> | null, diagnostics: Diagnostics, attribute = "name"): MessageIR | undefined {
  const reference = element.attributes.get(attribute);
  if (reference === undefined) {
    diagnostics.error(element.at, `<${element.name}> needs a ${attribute} attribute naming a protocol message`);
    return undefined;
  }
  if (messages === null) return undefined;
  const message = messages.get(upperSnake(reference.value.trim()));
  if (message === undefined) diagnostics.unresolved(reference.at, `the protocol has no message ${reference.value}`);
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
      if (parent === state.inherits) diagnostics.unresolved(parent.at, `superstate ${parent.name} does not exist`);
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
