/**
 * The API of a client model: its methods with their arguments, the replies that answer them, what each call
 * resolves with, and the names the generated client's functions get (docs/client-methods.md). A method's
 * event must be its own, and no function may take a name the engine or JavaScript already gives a meaning.
 */
import { checkAttributes, flagAttribute, integerAttribute, required, requiredName } from "./attributes.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import { documentation } from "./docs.js";
import { ENGINE_EVENTS } from "./event-sources.js";
import type { ArgIR, MessageIR, MethodIR, ReplyIR } from "./ir.js";
import { camelCase, isReservedWord, lowerSnake, pascalCase, upperSnake } from "./names.js";
import { CLIENT_ENGINE_MEMBERS, javascriptMeaning } from "./reserved-names.js";
import type { ModelElement } from "./element.js";

const ARG_TYPES: ReadonlyMap<string, string> = new Map([
  ["integer", "number"], ["string", "string"], ["longstr", "string"], ["strings", "string[]"], ["hash", "Map<string, string>"],
  ["chunk", "Uint8Array"], ["frame", "Uint8Array"], ["uuid", "Uint8Array"], ["msg", "Uint8Array[]"], ["boolean", "boolean"],
]);

function readArgs(element: ModelElement, diagnostics: Diagnostics): ArgIR[] {
  const args: ArgIR[] = [];
  for (const child of element.children) {
    if (child.name !== "field") {
      if (child.name !== "accept") diagnostics.error(child.at, `<${child.name}> is not allowed in <${element.name}>`);
      continue;
    }
    checkAttributes(child, ["name", "type", "size"], diagnostics);
    const name = requiredName(child, diagnostics);
    const type = child.attributes.get("type")?.value.trim() ?? "string";
    let tsType = ARG_TYPES.get(type);
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

/** The `<reply>` elements of a client model. */
export function readReplies(elements: readonly ModelElement[], diagnostics: Diagnostics): ReplyIR[] {
  const replies: ReplyIR[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "failure"], diagnostics);
    const name = requiredName(element, diagnostics);
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
export interface PlacedMethod {
  readonly ir: MethodIR;
  readonly at: Location;
}

/** The `<method>` elements of a client model, each checked against the replies and the protocol's events. */
export function readMethods(
  elements: readonly ModelElement[], replies: readonly ReplyIR[], messageByEvent: ReadonlyMap<string, MessageIR>, diagnostics: Diagnostics,
): PlacedMethod[] {
  const methods: PlacedMethod[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "return", "immediate", "virtual"], diagnostics);
    const nameAttribute = requiredName(element, diagnostics);
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
      if (!replies.some((candidate) => candidate.name === key)) diagnostics.unresolved(reply.at, `method ${event} accepts reply ${key}, which is not defined`);
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
    const lifecycle = event === "constructor" || event === "destructor";
    const returnAttribute = element.attributes.get("return");
    if (lifecycle && returnAttribute !== undefined) {
      // create() resolves with the client and close() with nothing: a value to return has nowhere to go.
      diagnostics.warning(returnAttribute.at, `return on the ${event} has no effect: ${event === "constructor" ? "create() resolves with the client itself" : "close() resolves with nothing"}; an action can keep the value on the client`);
    }
    const returns = lifecycle ? undefined : methodResult(element, name, replies.filter((reply) => accepts.includes(reply.name)), diagnostics);
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
function methodResult(element: ModelElement, method: string, accepted: readonly ReplyIR[], diagnostics: Diagnostics): MethodIR["returns"] {
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
    if (failures.length > 0) {
      diagnostics.error(at, `method ${method} returns ${key}, which only failure replies have (${failures.join(", ")}); a failure reply rejects the call instead`);
    } else {
      diagnostics.unresolved(at, `method ${method} returns ${key}, which no accepted reply has`);
    }
    return undefined;
  }
  const types = new Set(carriers.flatMap((reply) => reply.fields.filter((field) => field.key === key).map((field) => field.tsType)));
  if (carriers.length < resolving.length) types.add("undefined");
  return { key, tsType: [...types].join(" | ") };
}

/** A function the generated client gets for a `<send>` message. */
export interface SendFunction {
  readonly message: MessageIR;
  readonly functionName: string;
  /** Where the function's name is written: the `method` attribute, else the message's name. */
  readonly at: Location;
}

/** Names of the generated client's API functions: unique, and none that the engine or JavaScript already uses. */
export function checkApiNames(
  methods: readonly PlacedMethod[], sends: readonly SendFunction[], diagnostics: Diagnostics,
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
    else {
      const meaning = javascriptMeaning(functionName);
      if (meaning !== undefined) diagnostics.error(at, `${what} would be the client's ${functionName}(), ${meaning}; rename it`);
    }
    taken.set(functionName, what);
  }
}
