/**
 * The README and docs/ as a reader uses them: every relative link leads to a file of this repository (and
 * to a heading there), "A first codec" works as written in this repository, and "Use it in your own project"
 * works as written in an empty project that installs the package `npm pack` makes of this repository.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const README = readFileSync("README.md", "utf8");
const DOCUMENTS = ["README.md", ...readdirSync("docs").filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** Markdown without its code: fenced blocks and code spans hold examples, not links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

describe("links in README.md and docs/", () => {
  it("finds the documents", () => {
    expect(DOCUMENTS).toEqual(expect.arrayContaining(["README.md", "docs/models.md", "docs/wire.md", "docs/zpl.md", "docs/engine.md"]));
  });

  it.each(DOCUMENTS)("%s refers to nothing outside the repository's own documents", (document) => {
    expect(readFileSync(document, "utf8")).not.toMatch(/\bspec\/[a-z-]+\.md|\/work\/|\.\.\/shared/);
  });

  it.each(DOCUMENTS)("every relative link of %s resolves inside the repository, to a heading where it names one", (document) => {
    const text = readFileSync(document, "utf8");
    const links = [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]).filter((link) => !/^[a-z]+:/.test(link));
    // The README links to every page of the reference: proof that links are found at all.
    if (document === "README.md") expect(links.filter((link) => link.startsWith("docs/")).length).toBeGreaterThanOrEqual(4);
    for (const link of links) {
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path === "" ? resolve(document) : resolve(dirname(document), path);
      expect(relative(process.cwd(), target).startsWith(".."), `${document}: ${link} leaves the repository`).toBe(false);
      expect(existsSync(target), `${document}: ${link} does not exist`).toBe(true);
      if (anchor !== undefined) {
        expect(anchors(readFileSync(target, "utf8")).has(anchor), `${document}: ${link} names no heading of ${relative(process.cwd(), target)}`).toBe(true);
      }
    }
  });
});

/** One marked code block of a README section: a file to write, commands to run, or what they print. */
interface Step {
  readonly kind: "file" | "command" | "output";
  readonly path?: string;
  readonly text: string;
}

/** The marked blocks of the README section under `heading`, in order. */
function steps(heading: string, marker: string): Step[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const section = README.slice(start, README.indexOf("\n## ", start + 1));
  const pattern = new RegExp(`<!-- ${marker}-(file: (\\S+)|command|output) -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``, "g");
  return [...section.matchAll(pattern)].map((match) => {
    if (match[2] !== undefined) return { kind: "file", path: match[2], text: match[3] };
    return { kind: match[1] as "command" | "output", text: match[3] };
  });
}

/**
 * Follows the steps: writes each file under `root`, runs each command line with bash in `cwd`, and compares
 * each output block with what the command block before it printed. `edit` adapts a command line (paths).
 */
function follow(all: readonly Step[], root: string, cwd: string, env: NodeJS.ProcessEnv, edit: (line: string) => string, shown: (output: string) => string): void {
  let printed = "";
  for (const step of all) {
    if (step.kind === "file") {
      mkdirSync(dirname(join(root, step.path!)), { recursive: true });
      writeFileSync(join(root, step.path!), step.text);
    } else if (step.kind === "output") {
      expect(shown(printed)).toBe(step.text);
    } else {
      printed = "";
      for (const line of step.text.trim().split("\n")) {
        const run = spawnSync("bash", ["-o", "pipefail", "-c", edit(line)], { cwd, env, encoding: "utf8", timeout: 180_000 });
        expect(run.status, `${line}\n${run.stderr}`).toBe(0);
        printed += run.stdout;
      }
    }
  }
}

describe("A first codec", () => {
  const work = `test/.readme-${process.pid}`;
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("runs as written, and prints what it shows", () => {
    const all = steps("A first codec", "first-codec");
    expect(all.map((step) => step.kind)).toEqual(["file", "command", "output", "command", "file", "command", "output"]);
    const tmp = resolve(work, "tmp");
    mkdirSync(tmp, { recursive: true });
    follow(all, work, ".", { ...process.env, TMPDIR: tmp },
      (line) => line.replaceAll("my-codec/", `${work}/my-codec/`),
      (output) => output.replaceAll(`${work}/my-codec/`, "my-codec/"));
  }, 120_000);
});

describe("Use it in your own project", () => {
  let root: string | undefined;
  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it("works as written in an empty folder beside a checkout that made the package", () => {
    root = mkdtempSync(join(tmpdir(), "zproto-own-project-"));
    // What the section asks of the checkout: `npm pack` (this run has built dist/ already).
    const tarball = /npm install \.\.\/zproto-ts\/(\S+\.tgz)/.exec(README)?.[1];
    mkdirSync(join(root, "zproto-ts"));
    const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", join(root, "zproto-ts")], { encoding: "utf8" });
    expect(pack.status, pack.stderr).toBe(0);
    expect((JSON.parse(pack.stdout) as { filename: string }[])[0].filename).toBe(tarball);

    const all = steps("Use it in your own project", "own-project");
    expect(all.filter((step) => step.kind === "output")).toHaveLength(2);
    const app = join(root, "my-app");
    const tmp = join(root, "tmp");
    mkdirSync(app);
    mkdirSync(tmp);
    // Only the environment differs from a user's shell: npm prefers its cache and keeps quiet about audits.
    const env = { ...process.env, TMPDIR: tmp, npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
    follow(all, app, app, env, (line) => line, (output) => output);
    expect(readdirSync(join(app, "src")).sort()).toEqual(["hello_client.ts", "hello_msg.ts", "hello_server.ts", "main.ts"]);
    expect(readFileSync(join(app, "src", "hello_msg.ts"), "utf8")).toContain('from "zproto-ts/runtime/wire"');
    expect(readFileSync(join(app, "src", "hello_server.ts"), "utf8")).toContain('from "zproto-ts/runtime/engine"');
    // The reference the generated code's documentation points to comes with the package.
    expect(readdirSync(join(app, "node_modules", "zproto-ts", "docs"))).toEqual(expect.arrayContaining(["wire.md", "zpl.md"]));
  }, 600_000);
});
