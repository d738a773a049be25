/**
 * The `zproto` command line behaves like a familiar Unix tool: help per command, `--version`, one clear line
 * and exit status 2 for a wrong command line, and a quiet end when the reader of its output goes away. Runs
 * the built CLI (`npm test` builds first) as a child process, as a user would.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planFiles } from "../generator/generate.js";

const ZPROTO = "dist/bin/zproto.js";
const COMMANDS = ["generate", "check", "encode", "decode", "print", "grammar", "diagram", "skeleton", "convert"];
const EXAMPLE = "models/zproto_example/zproto_example.xml";

function zproto(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync("node", [ZPROTO, ...args], { encoding: "utf8", input: "" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "zproto-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("zproto help", () => {
  it("gives each command its own usage and options, as `<command> --help` and `help <command>`", () => {
    const helps = COMMANDS.map((command) => {
      const help = zproto(command, "--help");
      expect(help.status, command).toBe(0);
      expect(help.stderr, command).toBe("");
      expect(help.stdout.split("\n")[0], command).toMatch(new RegExp(`^Usage: zproto ${command} <model[>|]`));
      expect(help.stdout, command).toContain("-h, --help");
      expect(zproto("help", command), command).toEqual(help);
      expect(zproto(command, "-h"), command).toEqual(help);
      return help.stdout;
    });
    expect(new Set(helps).size).toBe(COMMANDS.length);
    const [generate, , , decode, print, , diagram, skeleton, convert] = helps;
    expect(generate).toContain("--runtime PREFIX");
    expect(generate).toContain("zproto-ts/runtime/wire");
    expect(decode).not.toContain("--runtime");
    expect(print).toContain("--redact");
    expect(diagram).toContain("--format svg|dot");
    expect(skeleton).toContain("--engine FILE");
    expect(convert).toContain("--to xml|zpl");
    // 27 node processes: on a loaded machine that takes longer than the default limit.
  }, 120_000);

  it("lists every command in the program's help; without a command it says so on stderr and exits 2", () => {
    const help = zproto("--help");
    expect(help.status).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
    expect(zproto("help")).toEqual(help);
    expect(zproto()).toEqual({ status: 2, stdout: "", stderr: help.stdout });
  });

  it("answers --version with the package's version", () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(zproto("--version")).toEqual({ status: 0, stdout: `zproto ${version}\n`, stderr: "" });
  });
});

describe("a wrong command line", () => {
  /** Exit status 2, nothing on stdout, the message and where to find help on stderr: two lines, no stack. */
  function refused(args: string[], message: string, help: string): void {
    expect(zproto(...args), args.join(" ")).toEqual({ status: 2, stdout: "", stderr: `${message}\nTry '${help}'.\n` });
  }

  it("names an unknown command, with or without a model file, and suggests a near one", () => {
    refused(["frobnicate"], "zproto: unknown command 'frobnicate'", "zproto --help");
    refused(["frobnicate", EXAMPLE], "zproto: unknown command 'frobnicate'", "zproto --help");
    refused(["chek", EXAMPLE], "zproto: unknown command 'chek'; did you mean 'check'?", "zproto --help");
    refused(["help", "frobnicate"], "zproto: unknown command 'frobnicate'", "zproto --help");
  });

  it("names an unknown option, a missing value and a value where none belongs, in one line", () => {
    refused(["--frob"], "zproto: unknown option '--frob'", "zproto --help");
    refused(["check", EXAMPLE, "--frob"], "zproto check: unknown option '--frob'", "zproto help check");
    refused(["decode", EXAMPLE, "--runtime", "x"], "zproto decode: unknown option '--runtime'", "zproto help decode");
    refused(["generate", EXAMPLE, "--out"], "zproto generate: option --out needs a value: --out DIR", "zproto help generate");
    refused(["generate", "--out", "--kind", "codec", EXAMPLE], "zproto generate: option --out needs a value: --out DIR", "zproto help generate");
    refused(["decode", EXAMPLE, "--jsonl=yes"], "zproto decode: option --jsonl takes no value", "zproto help decode");
  });

  it("says what is missing or one too many", () => {
    refused(["check"], "zproto check: needs a model file or directory", "zproto help check");
    refused(["generate"], "zproto generate: needs a model file or directory", "zproto help generate");
    refused(["grammar", EXAMPLE, EXAMPLE], `zproto grammar: takes one model file; '${EXAMPLE}' is one too many`, "zproto help grammar");
    refused(["check", EXAMPLE, "--kind", "spaceship"], "zproto check: --kind must be codec, server or client", "zproto help check");
  });
});

describe("zproto check", () => {
  it("counts messages and states in the singular and the plural", () => {
    writeFileSync(join(dir, "one_msg.xml"), '<class name = "one_msg" signature = "1" script = "zproto_codec_c"><message name = "PING"/></class>\n');
    copyFileSync("models/hello/hello_msg.xml", join(dir, "hello_msg.xml"));
    writeFileSync(join(dir, "one_server.xml"), [
      '<class name = "one_server" script = "zproto_server_c" protocol_class = "hello_msg">',
      '    <state name = "start">',
      '        <event name = "HELLO"><action name = "send" message = "WORLD"/></event>',
      '        <event name = "PING"><action name = "send" message = "PONG"/></event>',
      "    </state>",
      "</class>", "",
    ].join("\n"));
    const run = zproto("check", join(dir, "one_msg.xml"), join(dir, "one_server.xml"), "models/hello/hello_server.xml");
    expect(run).toEqual({
      status: 0,
      stdout: `${join(dir, "one_msg.xml")}: ok (1 message)\n${join(dir, "one_server.xml")}: ok (server machine, 1 state)\n` +
        "models/hello/hello_server.xml: ok (server machine, 3 states)\n",
      stderr: "",
    });
  });
});

describe("zproto check on a directory", () => {
  it("checks every model under it, as generate finds them, and its models include from anywhere in it", () => {
    const run = zproto("check", "models/filemq", "models/sasl");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("models/filemq/fmq_server.xml:20:10: error: include ../sasl/_sasl_plain_server.xml leaves the model's directory models/filemq");
    expect(run.stderr).toContain("error: directory models/sasl holds no models (.xml or .zpl files whose names do not start with _)");
    const all = zproto("check", "models");
    expect([all.status, all.stderr]).toEqual([0, ""]);
    expect(all.stdout).toContain("models/filemq/fmq_server.xml: ok (server machine, ");
    expect(all.stdout.split("\n").filter((line) => line.endsWith(")"))).toHaveLength(planFiles(["models"]).length);
  });

  it("refuses a directory without models, for check and generate alike, instead of doing nothing", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    for (const command of ["check", "generate"]) {
      expect(zproto(command, empty), command).toEqual({
        status: 1, stdout: "", stderr: `${empty}:1:1: error: directory ${empty} holds no models (.xml or .zpl files whose names do not start with _)\n`,
      });
    }
  });
});

describe("zproto print | zproto encode --zpl -", () => {
  it("reads back what print wrote of a capture larger than the 1 MiB a configuration file may have", () => {
    const frames = "aaa004007b0000000000000000";
    const lines = `${JSON.stringify({ frames: [frames] })}\n`.repeat(20_000);
    const printed = spawnSync("node", [ZPROTO, "print", EXAMPLE], { input: lines, encoding: "utf8", maxBuffer: 64 << 20 });
    expect(printed.stdout.length).toBeGreaterThan(1 << 20);
    const encoded = spawnSync("node", [ZPROTO, "encode", EXAMPLE, "--zpl", "-"], { input: printed.stdout, encoding: "utf8", maxBuffer: 64 << 20 });
    expect([encoded.status, encoded.stderr]).toEqual([0, ""]);
    expect(encoded.stdout).toBe(`${JSON.stringify({ frames: [frames] })}\n`.repeat(20_000));
  }, 60_000);
});

describe("zproto diagram --out", () => {
  it("creates the folder it writes into, as generate does", () => {
    const out = join(dir, "not", "there", "yet", "server.svg");
    expect(zproto("diagram", "models/hello/hello_server.xml", "--out", out)).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(readFileSync(out, "utf8")).toContain("<svg");
  });
});

/**
 * Runs `zproto args` with endless input on stdin, reads its output until the first line, then closes the pipe
 * as `| head -1` does. Resolves with how the process ended and what it wrote on stderr.
 */
function firstLineThenClose(args: string[], line: string): Promise<{ first: string; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [ZPROTO, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let first = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once("data", (chunk: Buffer) => {
      first = chunk.toString().split("\n")[0];
      child.stdout.destroy();
    });
    // The child may be gone while input is still being written: that is the point.
    child.stdin.on("error", () => undefined);
    const batch = `${line}\n`.repeat(1000);
    const feed = (): void => {
      while (child.stdin.writable && child.stdin.write(batch));
      if (child.stdin.writable) child.stdin.once("drain", feed);
    };
    feed();
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ first, signal, code, stderr }));
  });
}

describe("output into a closed pipe (`zproto decode ... | head -1`)", () => {
  const frames = JSON.stringify({ frames: ["aaa004007b0000000000000000"] });

  it.each([
    ["decode", ["decode", EXAMPLE, "--jsonl"], frames, /^\{"model":"zproto_example","message":"TYPES"/],
    ["print", ["print", EXAMPLE], frames, /^zproto_example$/],
    ["encode", ["encode", EXAMPLE, "--jsonl"], JSON.stringify({ message: "TYPES", fields: {} }), /^\{"frames":\["aaa004/],
  ])("%s ends as Unix tools do: killed by SIGPIPE, nothing on stderr", async (_name, args, line, first) => {
    const result = await firstLineThenClose(args, line);
    expect(result.first).toMatch(first);
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ signal: "SIGPIPE", code: null });
  }, 30_000);
});
