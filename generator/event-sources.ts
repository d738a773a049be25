/**
 * What can raise each event of a state machine, and what handles each message and method: warnings for
 * handlers that can never run (`<event name="GTE">` beside message GET) and for messages and method calls
 * that no state handles, so a model that checks also does what its author meant (`docs/client-methods.md`).
 *
 * Sources of events: protocol messages, method calls of a client (except immediate ones), the engine's own
 * events, and actions (`ctx.next`, `ctx.raise`, wakeups, `sendEvent`). The model does not say which events
 * actions raise, so any other name counts as raised by an action, unless it is a near miss of a name that
 * has another source: then it is almost certainly a misspelling.
 */
import type { Diagnostics, Location } from "./diagnostics.js";
import type { MessageIR, MethodIR } from "./ir.js";
import { lowerSnake } from "./names.js";
import { nearMisses } from "./suggest.js";

/** Events the engines raise themselves, by machine kind (method events come on top for clients). */
export const ENGINE_EVENTS: Readonly<Record<"server" | "client", readonly string[]>> = {
  server: ["expired", "malformed", "exception"],
  client: ["expired", "heartbeat", "malformed", "exception"],
};

/** A handler as written in one state (inherited copies are not repeated). */
export interface WrittenHandler {
  /** Normalised event name, or `*`. */
  readonly event: string;
  /** Where the event's name is written. */
  readonly at: Location;
}

/** What the checks need to know of a machine model. */
export interface EventSourceModel {
  readonly kind: "server" | "client";
  readonly name: string;
  readonly handlers: readonly WrittenHandler[];
  /** The protocol's messages; null when the protocol did not load (then nothing is said about messages). */
  readonly messages: readonly MessageIR[] | null;
  /** Where the model names its protocol: message warnings point there. */
  readonly protocolAt: Location;
  readonly methods: readonly { readonly ir: MethodIR; readonly at: Location }[];
}

/** Something that raises an event, for "did you mean" hints. */
interface Source {
  readonly event: string;
  /** `message GET`, `method subscribe`, `engine event expired`. */
  readonly label: string;
}

/** Reports dead events, unhandled messages and unhandled method events as warnings. */
export function checkEventSources(model: EventSourceModel, diagnostics: Diagnostics): void {
  // A part that could not be read may handle or raise any of them.
  if (diagnostics.incomplete) return;
  const sources = sourcesOf(model);
  const bySource = new Map(sources.map((source) => [source.event, source]));
  const immediate = new Map(model.methods.filter((method) => method.ir.immediate).map((method) => [method.ir.event, method.ir]));
  const firstHandler = new Map<string, WrittenHandler>();
  for (const handler of model.handlers) if (!firstHandler.has(handler.event)) firstHandler.set(handler.event, handler);
  const wildcard = firstHandler.has("*");

  // Events no message, method or engine timer raises, which look like a name that one does raise.
  const misspelt: { handler: WrittenHandler; meant: Source[] }[] = [];
  for (const handler of firstHandler.values()) {
    if (handler.event === "*" || bySource.has(handler.event)) continue;
    const method = immediate.get(handler.event);
    if (method !== undefined) {
      diagnostics.warning(handler.at, `event ${handler.event} never happens: method ${method.name} is immediate, so calling it raises no event`);
      continue;
    }
    const meant = nearMisses(handler.event, sources, (source) => source.event);
    if (meant.length === 0) continue;
    misspelt.push({ handler, meant });
    diagnostics.warning(handler.at, `event ${handler.event} is not a message, a method or an engine event, so only an action could raise it; ` +
      `did you mean ${meant.map((source) => source.label).join(" or ")}?`);
  }
  const misspellingsOf = (event: string): string => {
    const found = misspelt.filter((entry) => entry.meant.some((source) => source.event === event));
    return found.map((entry) => `; event ${entry.handler.event} (line ${entry.handler.at.line}) looks like a misspelling of it`).join("");
  };
  const fate = (dropped: string): string => (wildcard ? 'only "*" handlers see it' : dropped);

  const peer = model.kind === "server" ? "client" : "server";
  for (const message of model.messages ?? []) {
    const event = lowerSnake(message.key);
    if (firstHandler.has(event)) continue;
    const hint = misspellingsOf(event);
    if (message.role !== peer && hint === "") continue;
    const sender = message.role === peer ? ` (role="${peer}": the ${peer} sends it)` : "";
    diagnostics.warning(model.protocolAt, `no state of ${model.name} handles message ${message.key}${sender}; ${fate(`the ${model.kind} drops it`)}${hint}`);
  }
  for (const { ir: method, at } of model.methods) {
    if (method.immediate || firstHandler.has(method.event)) continue;
    const dropped = method.accepts.length > 0 ? "the event is dropped and every call times out" : "the event is dropped";
    diagnostics.warning(at, `method ${method.name} raises event ${method.event}, which no state handles; ${fate(dropped)}${misspellingsOf(method.event)}`);
  }
}

function sourcesOf(model: EventSourceModel): Source[] {
  return [
    ...(model.messages ?? []).map((message) => ({ event: lowerSnake(message.key), label: `message ${message.key}` })),
    ...model.methods.filter((method) => !method.ir.immediate).map((method) => ({ event: method.ir.event, label: `method ${method.ir.name}` })),
    ...ENGINE_EVENTS[model.kind].map((event) => ({ event, label: `engine event ${event}` })),
  ];
}
