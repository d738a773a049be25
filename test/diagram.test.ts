/**
 * `zproto diagram`: the DOT drawn from the hello machines, its SVG rendering, and the command's exits.
 * The CLI cases run `dist/bin/zproto.js`, so they need `npm run build` first (as `npm test` does).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dotString, machineDot, renderDiagram } from "../generator/diagram.js";
import type { MachineIR } from "../generator/ir.js";
import { loadModel } from "../generator/model.js";

const SERVER = "models/hello/hello_server.xml";
const CLIENT = "models/hello/hello_client.xml";
const ZPROTO = "dist/bin/zproto.js";

function machine(path: string): MachineIR {
  const { model, diagnostics } = loadModel(path);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  if (model === null || model.kind === "codec") throw new Error(`${path} is not a machine model`);
  return model;
}

/** The edge lines of a DOT text (`"a" -> "b" ...`), for exact matching. */
function edges(dot: string): string[] {
  return dot.split("\n").map((line) => line.trim()).filter((line) => line.includes(" -> "));
}

/** The attribute list of one node's line. */
function node(dot: string, name: string): string {
  const line = dot.split("\n").map((text) => text.trim()).find((text) => text.startsWith(`${dotString(name)} [`));
  if (line === undefined) throw new Error(`no node ${name} in\n${dot}`);
  return line;
}

describe("machineDot on the hello server", () => {
  const dot = machineDot(machine(SERVER));

  it("points at the initial state and draws every state once", () => {
    expect(dot.startsWith('digraph "hello_server" {\n')).toBe(true);
    expect(edges(dot)).toContain('"(start)" -> "start";');
    for (const state of ["start", "ready", "defaults"]) expect(dot.split("\n").filter((line) => line.trim().startsWith(`"${state}" [`))).toHaveLength(1);
  });

  it("draws the superstate dashed and the inheritance as dashed hollow-headed edges", () => {
    expect(node(dot, "defaults")).toContain('style="rounded,dashed,filled"');
    expect(node(dot, "defaults")).toContain("<I>superstate</I>");
    expect(node(dot, "start")).not.toContain("dashed");
    const inherit = '[label="inherit", style="dashed", arrowhead="empty", color="gray40", fontcolor="gray40"];';
    expect(edges(dot)).toContain(`"start" -> "defaults" ${inherit}`);
    expect(edges(dot)).toContain(`"ready" -> "defaults" ${inherit}`);
  });

  it("draws inherited handlers once, on the superstate, with message names in upper case", () => {
    expect(edges(dot)).toEqual([
      '"(start)" -> "start";',
      expect.stringContaining('"start" -> "defaults"'),
      expect.stringContaining('"ready" -> "defaults"'),
      '"defaults" -> "ready" [label="HELLO / greet the client, send WORLD"];',
      '"defaults" -> "(end)" [label="expired / terminate"];',
      '"defaults" -> "(end)" [label="* (any other) / refuse the command,\\l    send INVALID, terminate\\l"];',
    ]);
  });

  it("lists a handler without next inside its state, and marks the end", () => {
    expect(node(dot, "ready")).toContain("<HR/>");
    expect(node(dot, "ready")).toContain(">PING / send PONG</TD>");
    expect(node(dot, "start")).not.toContain("PING");
    expect(node(dot, "(end)")).toContain('peripheries="2"');
  });

  it("is deterministic", () => {
    expect(machineDot(machine(SERVER))).toBe(dot);
  });
});

describe("machineDot on the hello client", () => {
  const dot = machineDot(machine(CLIENT));

  it("draws transitions, the explicit re-entry as a self-loop, and the superstate's terminating handler", () => {
    expect(edges(dot).filter((edge) => !edge.includes("inherit"))).toEqual([
      '"(start)" -> "start";',
      '"start" -> "greeting" [label="constructor / connect to server"];',
      '"greeting" -> "connected" [label="WORLD / signal success"];',
      '"greeting" -> "greeting" [label="expired / signal failure,\\l    reconnect to server\\l"];',
      '"connected" -> "greeting" [label="greet / use new name"];',
      '"connected" -> "greeting" [label="INVALID"];',
      '"connected" -> "greeting" [label="expired / reconnect to server"];',
      '"defaults" -> "(end)" [label="destructor / signal success, terminate"];',
    ]);
    expect(edges(dot)).toContain('"greeting" -> "defaults" [label="inherit", style="dashed", arrowhead="empty", color="gray40", fontcolor="gray40"];');
    expect(edges(dot)).toContain('"connected" -> "defaults" [label="inherit", style="dashed", arrowhead="empty", color="gray40", fontcolor="gray40"];');
    expect(edges(dot).some((edge) => edge.startsWith('"start" -> "defaults"'))).toBe(false);
  });

  it("shows before actions as entry and own internal handlers in the box; inherited ones only on the superstate", () => {
    expect(node(dot, "greeting")).toContain(">entry / prepare hello, send HELLO</TD>");
    expect(node(dot, "connected")).toContain(">heartbeat / send PING</TD>");
    expect(node(dot, "connected")).toContain(">PONG</TD>");
    expect(node(dot, "connected")).not.toContain("any other");
    expect(node(dot, "defaults")).toContain(">heartbeat</TD>");
    expect(node(dot, "defaults")).toContain(">* (any other) / log unexpected message</TD>");
  });
});

describe("DOT escaping", () => {
  it("escapes quotes and backslashes, so Graphviz neither ends the string nor reads \\N as the node name", () => {
    expect(dotString('say "hi" \\N')).toBe('"say \\"hi\\" \\\\N"');
    expect(dotString("two\nlines")).toBe('"two\\nlines"');
  });

  it("renders a model whose title needs escaping", async () => {
    const model = { ...machine(SERVER), title: 'a "quoted" \\ <title> & more' };
    const dot = machineDot(model);
    expect(dot).toContain('label="a \\"quoted\\" \\\\ <title> & more (server state machine');
    const svg = await renderDiagram(model, "svg");
    expect(svg).toContain("a &quot;quoted&quot; \\ &lt;title&gt; &amp; more");
  });
});

describe("SVG rendering", () => {
  it("gives an SVG document with every state's name as text", async () => {
    const svg = await renderDiagram(machine(SERVER), "svg");
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(svg).toMatch(/<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('<g id="graph0" class="graph"');
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    for (const text of ["start", "ready", "defaults", "PING / send PONG", "HELLO / greet the client, send WORLD"]) {
      expect(svg).toMatch(new RegExp(`<text [^>]*>${text.replace(/[*()/]/g, "\\$&")}</text>`));
    }
    expect(svg).toContain('font-family="Arial,Helvetica,sans-serif"');
  });

  it("renders the client too", async () => {
    const svg = await renderDiagram(machine(CLIENT), "svg");
    for (const state of ["start", "greeting", "connected", "defaults"]) expect(svg).toContain(`>${state}</text>`);
  });
});

describe("zproto diagram", () => {
  const dir = mkdtempSync(join(tmpdir(), "zproto-diagram-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync("node", [ZPROTO, "diagram", ...args], { encoding: "utf8" });

  it("writes SVG to --out", () => {
    const out = join(dir, "server.svg");
    const result = run(SERVER, "--out", out);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    const svg = readFileSync(out, "utf8");
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(svg).toContain(">ready</text>");
  });

  it("prints SVG to stdout by default and DOT with --format dot", () => {
    const svg = run(CLIENT);
    expect(svg.status).toBe(0);
    expect(svg.stdout).toContain('<g id="graph0"');
    const dot = run(CLIENT, "--format", "dot");
    expect(dot.stderr).toBe("");
    expect(dot.status).toBe(0);
    expect(dot.stdout).toBe(machineDot(machine(CLIENT)));
  });

  it("exits 1 with the diagnostics on a broken model", () => {
    copyFileSync("models/hello/hello_msg.xml", join(dir, "hello_msg.xml"));
    const broken = join(dir, "broken_server.xml");
    writeFileSync(broken, [
      '<class name = "broken_server" script = "zproto_server_c" protocol_class = "hello_msg">',
      '<state name = "start" inherit = "nowhere">',
      '    <event name = "HELLO" next = "start" />',
      "</state>",
      "</class>",
      "",
    ].join("\n"));
    const result = run(broken, "--format", "dot");
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/broken_server\.xml:2:\d+: error: superstate nowhere does not exist/);
  });

  it("exits 2 on a codec model, which has no state machine", () => {
    const result = run("models/hello/hello_msg.xml");
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/codec model; it has no state machine/);
  });

  it("exits 2 on an unknown format", () => {
    const result = run(SERVER, "--format", "png");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--format must be svg or dot/);
  });
});
