/**
 * The README's "Write your own protocol" works as written, in both model syntaxes: its files are written, its
 * commands run, and the client and server it builds talk to each other. Its models are exactly the shipped
 * hello protocol, in XML and in the ZPL form `zproto convert` gives.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../generator/convert.js";

const README = readFileSync("README.md", "utf8");
const START = README.indexOf("## Write your own protocol");
/** The tutorial: its heading up to the next heading of its level. */
const SECTION = README.slice(START, README.indexOf("\n## ", START + 1));
/** Where the tutorial's `my-hello` directory goes, so the test never touches a user's own. */
const WORK = `test/.tutorial-${process.pid}`;
/** The commands' temp directory (tsx keeps its cache there), removed with the rest. */
const TMP = `${WORK}/tmp`;

type Syntax = "xml" | "zpl";

interface Step {
  readonly kind: "file" | "command";
  readonly path?: string;
  readonly text: string;
  /** The model syntax a step belongs to; undefined for steps of both. */
  readonly syntax?: Syntax;
}

/**
 * The tutorial's steps: each marked code block, in order. A model file belongs to the syntax its extension
 * names; `<!-- tutorial-command: zpl -->` marks a command of one syntax; everything else is in both.
 */
function steps(): Step[] {
  const found: Step[] = [];
  const pattern = /<!-- tutorial-(?:file: (\S+)|command(?:: (xml|zpl))?) -->\n```[a-z]*\n([\s\S]*?)```/g;
  for (const [, path, commandSyntax, text] of SECTION.matchAll(pattern)) {
    const extension = /\.(xml|zpl)$/.exec(path ?? "")?.[1] as Syntax | undefined;
    const syntax = (commandSyntax as Syntax | undefined) ?? extension;
    found.push({ kind: path !== undefined ? "file" : "command", text, ...(path !== undefined ? { path } : {}), ...(syntax ? { syntax } : {}) });
  }
  return found;
}

/** The steps a reader writing the models in `syntax` follows. */
function walkthrough(syntax: Syntax): Step[] {
  return steps().filter((step) => step.syntax === undefined || step.syntax === syntax);
}

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe("the README tutorial", () => {
  it("has, for each syntax, the three models, the program and the commands", () => {
    for (const syntax of ["xml", "zpl"] as const) {
      const all = walkthrough(syntax);
      expect(all.filter((step) => step.kind === "file").map((step) => step.path)).toEqual([
        `my-hello/hello_msg.${syntax}`, `my-hello/hello_server.${syntax}`, `my-hello/hello_client.${syntax}`, "my-hello/main.ts",
      ]);
      expect(all.filter((step) => step.kind === "command")).toHaveLength(3);
      expect(all.some((step) => step.text.includes("npx tsc --noEmit"))).toBe(true);
      expect(all.some((step) => step.text.includes(`hello_server.${syntax} --out`))).toBe(true);
    }
  });

  it("shows the hello protocol's models exactly as shipped, and their ZPL form exactly as zproto convert writes it", () => {
    for (const step of steps().filter((s) => s.kind === "file" && s.syntax !== undefined)) {
      const shipped = `models/hello/${step.path!.split("/")[1].replace(/\.zpl$/, ".xml")}`;
      expect(step.text, step.path).toBe(step.syntax === "xml" ? readFileSync(shipped, "utf8") : convertModel(shipped).text);
    }
  });

  it.each(["xml", "zpl"] as const)("runs as written with %s models and ends with a client and server talking", (syntax) => {
    const work = `${WORK}/${syntax}`;
    mkdirSync(TMP, { recursive: true });
    let output = "";
    for (const step of walkthrough(syntax)) {
      if (step.kind === "file") {
        const path = `${work}/${step.path}`;
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, step.text);
        continue;
      }
      for (const line of step.text.trim().split("\n")) {
        const [command, ...args] = line.replaceAll("my-hello", `${work}/my-hello`).split(/\s+/);
        const run = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, env: { ...process.env, TMPDIR: resolve(TMP) } });
        expect(run.status, `${line}\n${run.stderr}`).toBe(0);
        output += run.stdout;
      }
    }
    expect(output).toMatch(/server listening on tcp:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain("Hello, Grace! (greeting number 2)");
    expect(output).toContain(`${work}/my-hello/hello_msg.${syntax} -> ${work}/my-hello/hello_msg.ts`);
    expect(readFileSync(`${work}/my-hello/hello_server.svg`, "utf8")).toContain("<svg");
  }, 120_000);
});
