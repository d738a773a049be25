/**
 * The README's "Write your own protocol" works as written: its files are written, its commands run, and the
 * client and server it builds talk to each other. Its models are exactly the shipped hello protocol.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const README = readFileSync("README.md", "utf8");
const START = README.indexOf("## Write your own protocol");
/** The tutorial: its heading up to the next heading of its level. */
const SECTION = README.slice(START, README.indexOf("\n## ", START));
/** Where the tutorial's `my-hello` directory goes, so the test never touches a user's own. */
const WORK = `test/.tutorial-${process.pid}`;
/** The commands' temp directory (tsx keeps its cache there), removed with the rest. */
const TMP = `${WORK}/tmp`;

interface Step {
  readonly kind: "file" | "command";
  readonly path?: string;
  readonly text: string;
}

/** The tutorial's steps: each marked code block, in order. */
function steps(): Step[] {
  const found: Step[] = [];
  const pattern = /<!-- tutorial-(file: (\S+)|command) -->\n```[a-z]*\n([\s\S]*?)```/g;
  for (const match of SECTION.matchAll(pattern)) {
    found.push(match[2] !== undefined ? { kind: "file", path: match[2], text: match[3] } : { kind: "command", text: match[3] });
  }
  return found;
}

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe("the README tutorial", () => {
  it("has files and commands", () => {
    const all = steps();
    expect(all.filter((step) => step.kind === "file").map((step) => step.path)).toEqual([
      "my-hello/hello_msg.xml", "my-hello/hello_server.xml", "my-hello/hello_client.xml", "my-hello/main.ts",
    ]);
    expect(all.filter((step) => step.kind === "command")).toHaveLength(2);
    expect(all.some((step) => step.text.includes("npx tsc --noEmit"))).toBe(true);
  });

  it("shows the hello protocol's models exactly as shipped", () => {
    for (const step of steps().filter((s) => s.path?.endsWith(".xml"))) {
      expect(step.text, step.path).toBe(readFileSync(`models/hello/${step.path!.split("/")[1]}`, "utf8"));
    }
  });

  it("runs as written and ends with a client and server talking", () => {
    mkdirSync(TMP, { recursive: true });
    let output = "";
    for (const step of steps()) {
      if (step.kind === "file") {
        const path = `${WORK}/${step.path}`;
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, step.text);
        continue;
      }
      for (const line of step.text.trim().split("\n")) {
        const [command, ...args] = line.replaceAll("my-hello", `${WORK}/my-hello`).split(/\s+/);
        const run = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, env: { ...process.env, TMPDIR: resolve(TMP) } });
        expect(run.status, `${line}\n${run.stderr}`).toBe(0);
        output += run.stdout;
      }
    }
    expect(output).toMatch(/server listening on tcp:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain("Hello, Grace! (greeting number 2)");
    expect(readFileSync(`${WORK}/my-hello/hello_server.svg`, "utf8")).toContain("<svg");
  }, 90_000);
});
