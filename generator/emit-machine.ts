/** Emits the TypeScript engine module of a server or client state-machine model. */
import type { MachineIR, StepIR } from "./ir.js";
import { tidy } from "./emit-codec.js";
import { docLines, docSingle, tsLiteral } from "./literal.js";
import { actionViews, machineTypeNames, requestBeforeAnyMessage } from "./machine-view.js";
import { messageTypeNames, protocolImports } from "./machine-protocols.js";
import { render } from "./templates.js";
import type { MachineTable, Step } from "../runtime/engine/machine.js";

/** Options of engine emission. */
export interface MachineEmitOptions {
  /** Module specifier of the engine runtime. */
  readonly runtimeImport: string;
  /** Module specifier of the wire runtime: a machine that speaks several protocols builds a union codec with it. */
  readonly wireImport: string;
}

function stepData(step: StepIR): Step {
  if (step.kind === "send") return { send: step.message.key };
  if (step.kind === "terminate") return { terminate: true };
  return { call: step.method };
}

/** The machine table the engine runs, as data (generated modules embed it as a literal). */
export function machineTable(model: MachineIR): MachineTable {
  return {
    name: model.className,
    states: model.states.map((state) => ({
      name: state.name,
      handlers: Object.fromEntries(state.handlers.map((handler) => [
        handler.event,
        { ...(handler.next !== undefined ? { next: handler.next } : {}), steps: handler.steps.map(stepData) },
      ])),
      before: state.before.map(stepData),
      after: state.after.map(stepData),
    })),
    ...(model.maxMessageSize !== undefined ? { maxMessageSize: model.maxMessageSize } : {}),
  };
}

function quoted(names: readonly string[]): string {
  return names.length === 0 ? "never" : names.map((name) => JSON.stringify(name)).join(" | ");
}

/** The engine module's source text. */
export function emitMachine(model: MachineIR, options: MachineEmitOptions): string {
  const messageTypes = new Set<string>();
  for (const action of model.actions) for (const type of action.requestTypes ?? []) messageTypes.add(type);
  for (const send of model.sends) messageTypes.add(send.message.typeName);
  const failures = new Set(model.replies.filter((reply) => reply.failure).map((reply) => reply.name));
  const requestMayBeUndefined = requestBeforeAnyMessage(model);
  const names = messageTypeNames(model);
  const view = {
    source: model.source,
    runtimeImport: options.runtimeImport,
    protocolImports: protocolImports(model, messageTypes, options.wireImport),
    title: model.title || model.className,
    docLines: docLines(model.doc),
    className: model.className,
    typeName: model.typeName,
    ...names,
    ...machineTypeNames(model),
    states: quoted(model.states.map((state) => state.name)),
    events: quoted(model.events.map((event) => event.name)),
    internalEvents: quoted(model.events.filter((event) => event.kind !== "message").map((event) => event.name)),
    requestMayBeUndefined,
    defaultRequest: requestMayBeUndefined ? `${names.union} | undefined` : names.union,
    actions: actionViews(model),
    table: tsLiteral(machineTable(model)),
    isServer: model.kind === "server",
    isClient: model.kind === "client",
    args: [...new Map(model.methods.flatMap((method) => method.args).map((arg) => [arg.key, { ...arg, docSingle: docSingle(arg.doc, 2), docLines: docLines(arg.doc) }])).values()],
    replies: model.replies.map((reply) => ({
      ...reply,
      docSingle: docSingle(reply.doc, 2), docLines: docLines(reply.doc),
      fields: reply.fields.map((field) => ({ ...field, docSingle: docSingle(field.doc, 4), docLines: docLines(field.doc) })),
    })),
    methodTable: tsLiteral(Object.fromEntries(model.methods.map((method) => [method.event, {
      event: method.event,
      accepts: method.accepts,
      failures: method.accepts.filter((reply) => failures.has(reply)),
      ...(method.returns !== undefined ? { returns: method.returns.key } : {}),
      ...(method.immediate ? { immediate: true } : {}),
    }]))),
    constructorMethod: model.methods.find((method) => method.event === "constructor"),
    methods: model.methods.filter((method) => method.event !== "constructor" && method.event !== "destructor").map((method) => ({
      ...method,
      docLines: docLines(method.doc),
      params: method.args.map((arg) => `${arg.key}: ${arg.tsType}`).join(", "),
      argsObject: method.args.length === 0 ? "{}" : `{ ${method.args.map((arg) => arg.key).join(", ")} }`,
      resultType: method.returns?.tsType ?? "void",
    })),
    sends: model.sends.map((send) => ({ functionName: send.functionName, key: send.message.key, typeName: send.message.typeName, name: send.message.name })),
  };
  const constructorMethod = view.constructorMethod;
  const extra = {
    createParams: constructorMethod === undefined ? "" : constructorMethod.args.map((arg) => `${arg.key}: ${arg.tsType}, `).join(""),
    createArgs: constructorMethod === undefined ? "{}" : constructorMethod.args.length === 0 ? "{}" : `{ ${constructorMethod.args.map((arg) => arg.key).join(", ")} }`,
    createDocLines: constructorMethod === undefined ? [] : docLines(constructorMethod.doc),
  };
  return tidy(render(model.kind === "server" ? "server.ts.hbs" : "client.ts.hbs", { ...view, ...extra }));
}
