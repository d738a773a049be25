/**
 * State diagrams of server and client models (`zproto diagram`): Graphviz DOT built from {@link MachineIR},
 * and SVG rendered from it by Graphviz compiled to WebAssembly, so no Graphviz install is needed.
 *
 * The drawing follows UML state charts, because that is the notation a reader is most likely to know:
 * - a black dot points at the initial state (the model's first state); a bull's eye is "terminated";
 * - an edge is a transition, labelled `EVENT / action, action`; message events are the protocol message's
 *   name (upper case), engine and internal events their lower-case name, `*` "any other event";
 * - handlers that stay in the state (no `next`) are listed inside the state's box under a rule, as UML's
 *   internal transitions, instead of self-loops: a state such as `defaults` has several, and a bundle of
 *   loops with long labels is much harder to read than a list. A handler whose `next` is its own state
 *   does leave and re-enter it (running `after` and `before` again), so that one stays a self-loop;
 * - a handler with `terminate` goes to the bull's eye, since the machine stops whatever `next` says;
 * - `before`/`after` actions are the state's `entry /` and `exit /` lines;
 * - inherited handlers are drawn once, on the superstate that defines them, and each state that inherits
 *   has a dashed, hollow-headed `inherit` edge to its superstate; superstates have dashed, grey boxes.
 */
import type { EventIR, HandlerIR, MachineIR, StateIR, StepIR } from "./ir.js";

/** Output formats of {@link renderDiagram}. */
export type DiagramFormat = "svg" | "dot";

/** The formats {@link renderDiagram} accepts, for option checking. */
export const DIAGRAM_FORMATS: readonly DiagramFormat[] = ["svg", "dot"];

// State names are normalised to [a-z0-9_], so ids in parentheses can never clash with a state's id.
const START_NODE = "(start)";
const END_NODE = "(end)";

/**
 * Graphviz in WebAssembly has no fonts: it sizes text with built-in Helvetica/Arial metrics. Naming Arial
 * (rather than Helvetica) makes viewers pick a font with those metrics: every system has Arial or a
 * metric-compatible alias of it (Liberation Sans), whereas librsvg on Linux answers "Helvetica, sans-serif"
 * with the wider DejaVu Sans and the text overflows its boxes.
 */
const FONT = "Arial";

/** Edge and internal-transition labels are wrapped near this many characters, keeping boxes and edges narrow. */
const WRAP = 42;

/** Escapes text for a double-quoted DOT string (`\` would otherwise start a Graphviz escape such as `\N`). */
export function dotString(text: string): string {
  return `"${escapeText(text).replace(/\r\n?|\n/g, "\\n")}"`;
}

/** Left-justified lines as a DOT string: each line ends in `\l`, Graphviz's "end this line, flush left". */
function leftLines(lines: readonly string[]): string {
  return `"${lines.map((line) => escapeText(line.replace(/\r\n?|\n/g, " ")) + "\\l").join("")}"`;
}

function escapeText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')
    // Control characters other than line breaks have no meaning in a label and some break Graphviz's parser.
    .replace(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/g, " ");
}

/** Escapes text for the inside of a Graphviz HTML-like label. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    .replace(/[\u0000-\u001f\u007f]/g, " ");
}

/** An HTML-like label, written between `<` and `>` instead of quotes. */
interface HtmlLabel {
  readonly html: string;
}

/** A label of several left-justified lines. */
interface LinesLabel {
  readonly lines: readonly string[];
}

function attributes(list: Record<string, string | HtmlLabel | LinesLabel>): string {
  const text = (value: string | HtmlLabel | LinesLabel): string =>
    typeof value === "string" ? dotString(value) : "html" in value ? `<${value.html}>` : leftLines(value.lines);
  return Object.entries(list).map(([key, value]) => `${key}=${text(value)}`).join(", ");
}

/** How an event reads in the diagram: the message's own name for protocol messages, else the event's name. */
function eventText(name: string, events: ReadonlyMap<string, EventIR>): string {
  if (name === "*") return "* (any other)";
  return events.get(name)?.message?.name ?? name;
}

function stepText(step: StepIR): string {
  switch (step.kind) {
    case "send": return `send ${step.message.name}`;
    case "terminate": return "terminate";
    // Action names are normalised to snake case; spaces read like the sentence the model author wrote.
    case "call": return step.action.replace(/_/g, " ");
  }
}

/** `lead / a, b, c` broken into lines of about {@link WRAP} characters, breaking only after commas. */
function wrapped(lead: string, steps: readonly StepIR[]): string[] {
  if (steps.length === 0) return [lead];
  const parts = steps.map(stepText);
  const lines: string[] = [];
  let line = `${lead} / ${parts[0]}`;
  for (const part of parts.slice(1)) {
    if (line.length + 2 + part.length > WRAP) {
      lines.push(`${line},`);
      line = `    ${part}`;
    } else {
      line += `, ${part}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Handlers a state draws itself: those it defines, not the copies the IR makes of its superstates'. */
function ownHandlers(state: StateIR): HandlerIR[] {
  return state.handlers.filter((handler) => handler.definedIn === state.name);
}

const terminates = (handler: HandlerIR): boolean => handler.steps.some((step) => step.kind === "terminate");

/** Stays in its state without leaving it: an internal transition, listed in the state's box. */
const isInternal = (handler: HandlerIR): boolean => handler.next === undefined && !terminates(handler);

function stateLabel(state: StateIR, superstate: boolean, events: ReadonlyMap<string, EventIR>): HtmlLabel {
  const rows: string[] = [];
  const row = (lines: readonly string[]): void => {
    rows.push(`<TR><TD ALIGN="LEFT" BALIGN="LEFT">${lines.map(html).join("<BR/>")}</TD></TR>`);
  };
  if (state.before.length > 0) row(wrapped("entry", state.before));
  for (const handler of ownHandlers(state)) if (isInternal(handler)) row(wrapped(eventText(handler.event, events), handler.steps));
  if (state.after.length > 0) row(wrapped("exit", state.after));
  const title = `<TR><TD><B>${html(state.name)}</B>${superstate ? '<BR/><FONT POINT-SIZE="9"><I>superstate</I></FONT>' : ""}</TD></TR>`;
  const table = [title, ...(rows.length > 0 ? ["<HR/>", ...rows] : [])].join("");
  return { html: `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">${table}</TABLE>` };
}

/**
 * The state diagram of a server or client model as Graphviz DOT. The same model always gives the same text
 * (states, handlers and edges in model order), so diagrams can be checked in and diffed.
 */
export function machineDot(model: MachineIR): string {
  const events = new Map(model.events.map((event) => [event.name, event]));
  const superstates = new Set(model.states.flatMap((state) => (state.inherits !== undefined ? [state.inherits] : [])));
  const title = `${model.title || model.name} (${model.kind} state machine, ${model.source})`;
  const lines: string[] = [
    `digraph ${dotString(model.name)} {`,
    `  graph [${attributes({ label: title, labelloc: "t", fontname: FONT, fontsize: "14", nodesep: "0.5", ranksep: "0.6" })}];`,
    `  node [${attributes({ shape: "box", style: "rounded", fontname: FONT, fontsize: "11", margin: "0.12,0.06" })}];`,
    `  edge [${attributes({ fontname: FONT, fontsize: "10" })}];`,
    "",
  ];

  const initial = model.states[0];
  if (initial !== undefined) {
    lines.push(`  ${dotString(START_NODE)} [${attributes({ shape: "point", width: "0.18", label: "" })}];`);
  }
  for (const state of model.states) {
    const style: Record<string, string> = superstates.has(state.name) ? { style: "rounded,dashed,filled", fillcolor: "gray95", color: "gray40" } : {};
    lines.push(`  ${dotString(state.name)} [${attributes({ label: stateLabel(state, superstates.has(state.name), events), ...style })}];`);
  }
  const ending = model.states.some((state) => ownHandlers(state).some(terminates));
  if (ending) {
    // A point with a second periphery is Graphviz's nearest shape to UML's final-state bull's eye.
    lines.push(`  ${dotString(END_NODE)} [${attributes({ shape: "point", width: "0.14", peripheries: "2", label: "", tooltip: "terminated" })}];`);
  }
  lines.push("");

  if (initial !== undefined) lines.push(`  ${dotString(START_NODE)} -> ${dotString(initial.name)};`);
  for (const state of model.states) {
    if (state.inherits === undefined) continue;
    lines.push(`  ${dotString(state.name)} -> ${dotString(state.inherits)} [${attributes({
      label: "inherit", style: "dashed", arrowhead: "empty", color: "gray40", fontcolor: "gray40",
    })}];`);
  }
  for (const state of model.states) {
    for (const handler of ownHandlers(state)) {
      if (isInternal(handler)) continue;
      // Not internal, so it either terminates or has a next state.
      const target = terminates(handler) || handler.next === undefined ? END_NODE : handler.next;
      const text = wrapped(eventText(handler.event, events), handler.steps);
      const label = text.length === 1 ? text[0] : { lines: text };
      lines.push(`  ${dotString(state.name)} -> ${dotString(target)} [${attributes({ label })}];`);
    }
  }
  lines.push("}", "");
  return lines.join("\n");
}

/**
 * Lays out DOT and draws it as SVG with Graphviz compiled to WebAssembly (`@hpcc-js/wasm-graphviz`).
 * Throws when Graphviz rejects the DOT.
 */
export async function dotToSvg(dot: string): Promise<string> {
  // Imported on demand: the module embeds the whole WebAssembly binary, which only drawing needs.
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const graphviz = await Graphviz.load();
  // Graphviz writes the font name alone; a viewer without Arial should still fall back to a sans-serif face.
  return graphviz.dot(dot, "svg").replaceAll(`font-family="${FONT}"`, `font-family="${FONT},Helvetica,sans-serif"`);
}

/** The state diagram of a server or client model in the given format. */
export async function renderDiagram(model: MachineIR, format: DiagramFormat): Promise<string> {
  const dot = machineDot(model);
  return format === "dot" ? dot : dotToSvg(dot);
}
