/**
 * The action skeleton (spec/models.md §7): written once from a server or client model, it type-checks
 * against the engine generated from the same model, is never overwritten, and after a model change the
 * compiler names what the user's file lacks.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Node, Project, ts } from "ts-morph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../generator/generate.js";
import type { MachineIR } from "../generator/ir.js";
import { loadModelOrThrow } from "../generator/model.js";
import { skeleton, type SkeletonResult } from "../generator/skeleton.js";

const RUNTIME = resolve("runtime");
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "zproto-skeleton-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh directory for one test, with copies of `models` (files) in `models/`. */
function workspace(name: string, models: readonly string[]): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "models"), { recursive: true });
  for (const model of models) copyFileSync(model, join(dir, "models", basename(model)));
  return dir;
}

/** Generates the engines (and codecs) of every model in `dir/models` into `dir/generated`. */
function generateEngines(dir: string): void {
  const result = generate([join(dir, "models")], { out: join(dir, "generated"), runtime: { directory: RUNTIME } });
  expect(result.diagnostics.filter((diagnostic) => diagnostic.severity === "error")).toEqual([]);
}

/** Writes the skeleton of `dir/models/<model>.xml` to `dir/src/<model>.ts`, importing `dir/generated/<model>.ts`. */
function writeSkeleton(dir: string, model: string): SkeletonResult {
  return skeleton(join(dir, "models", `${model}.xml`), { out: join(dir, "src", `${model}.ts`), engine: join(dir, "generated", `${model}.ts`) });
}

interface Problem {
  readonly file: string;
  readonly code: number;
  readonly message: string;
}

/**
 * Type-checks the files under `dir/src` (and what they import) with the strictest settings generated code
 * is held to. Only problems in `dir` count: the runtime is type-checked by the repository's own build.
 */
function typeCheck(dir: string): Problem[] {
  const project = new Project({
    compilerOptions: {
      strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noUnusedLocals: true, noUnusedParameters: true, noImplicitReturns: true, exactOptionalPropertyTypes: true, skipLibCheck: true,
      types: ["node"], lib: ["lib.es2024.d.ts"],
    },
  });
  project.addSourceFilesAtPaths(`${dir}/src/**/*.ts`);
  return project.getPreEmitDiagnostics()
    .filter((diagnostic) => diagnostic.getSourceFile()?.getFilePath().startsWith(dir) ?? true)
    .map((diagnostic) => ({
      file: diagnostic.getSourceFile()?.getFilePath().slice(dir.length + 1) ?? "",
      code: diagnostic.getCode(),
      message: ts.flattenDiagnosticMessageText(diagnostic.compilerObject.messageText, "\n"),
    }));
}

function machine(path: string): MachineIR {
  const model = loadModelOrThrow(path);
  if (model.kind === "codec") throw new Error(`${path} is a codec model`);
  return model;
}

/** The property names of the exported actions object of a skeleton, in order. */
function skeletonMembers(path: string): string[] {
  const project = new Project({ useInMemoryFileSystem: true });
  const file = project.createSourceFile("skeleton.ts", readFileSync(path, "utf8"));
  const declarations = file.getVariableStatements().flatMap((statement) => statement.getDeclarations());
  expect(declarations).toHaveLength(1);
  const literal = declarations[0].getInitializer();
  if (!Node.isObjectLiteralExpression(literal)) throw new Error("the actions are not an object literal");
  return literal.getProperties().map((property) => (Node.isPropertyNamed(property) ? property.getName() : property.getText()));
}

/** The source text of one method of a skeleton's actions object. */
function methodText(text: string, method: string): string {
  const start = text.indexOf(`  ${method}(ctx) {\n`);
  expect(start).toBeGreaterThan(0);
  return text.slice(start, text.indexOf("\n  },\n", start) + 5);
}

/** What a skeleton method is expected to read: its hint comments, then a throw or a warning. */
function expectedMethod(method: string, hints: readonly string[], ending: "throws" | "warns"): string {
  const notice = `\`${method} is not implemented yet (state \${ctx.state}, event \${ctx.event})\``;
  return [
    `  ${method}(ctx) {`,
    ...hints.map((hint) => `    // ${hint}`),
    ending === "throws" ? `    throw new Error(${notice});` : `    ctx.log("warn", ${notice});`,
    "  },",
  ].join("\n");
}

describe("action skeletons of the hello models", () => {
  let dir: string;
  let server: SkeletonResult;
  let client: SkeletonResult;

  beforeAll(() => {
    dir = workspace("hello", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml", "models/hello/hello_client.xml"]);
    generateEngines(dir);
    server = writeSkeleton(dir, "hello_server");
    client = writeSkeleton(dir, "hello_client");
  });

  it("are written, import their engine by a relative path and say they are the user's to edit", () => {
    for (const [result, name] of [[server, "hello_server"], [client, "hello_client"]] as const) {
      expect({ status: result.status, engineImport: result.engineImport, engineFound: result.engineFound, diagnostics: result.diagnostics })
        .toEqual({ status: "written", engineImport: `../generated/${name}.js`, engineFound: true, diagnostics: [] });
      const text = readFileSync(join(dir, "src", `${name}.ts`), "utf8");
      expect(text).toBe(result.text);
      expect(text.split("\n").slice(0, 3)).toEqual([
        `// Skeleton generated once by zproto-ts from ${join(dir, "models", `${name}.xml`)}: it is yours now, edit it freely.`,
        "// zproto never writes this file again. When the model changes, regenerate the engine module this file",
        "// imports; the compiler then names every action to add here, and every one to remove.",
      ]);
      expect(text).not.toContain("DO NOT EDIT");
      expect(text).not.toMatch(/[ \t]+$/m);
      expect(text).not.toMatch(/\n\n\n/);
    }
    expect(server.text).toContain('import type { HelloServerActions } from "../generated/hello_server.js";\n');
    expect(server.text).toContain("export const helloServerActions: HelloServerActions<Client> = {\n  createClient: () => ({}),\n");
    expect(client.text).toContain('import type { HelloClientActions } from "../generated/hello_client.js";\n');
    expect(client.text).toContain("export const helloClientActions: HelloClientActions<Client> = {\n  createClient: () => ({}),\n");
  });

  it("type-check against the generated engines under strict settings", () => {
    expect(typeCheck(dir)).toEqual([]);
  });

  it("have every action of the model exactly once, in model order, as the engine's interface declares them", () => {
    for (const name of ["hello_server", "hello_client"]) {
      const model = machine(join(dir, "models", `${name}.xml`));
      expect(skeletonMembers(join(dir, "src", `${name}.ts`))).toEqual(["createClient", ...model.actions.map((action) => action.method)]);
      const engine = new Project().addSourceFileAtPath(join(dir, "generated", `${name}.ts`));
      const declared = engine.getInterfaceOrThrow(`${model.typeName}Actions`).getMethods().map((method) => method.getName());
      expect(declared).toEqual(model.actions.map((action) => action.method));
    }
    expect(skeletonMembers(join(dir, "src", "hello_server.ts"))).toEqual(["createClient", "greetTheClient", "refuseTheCommand"]);
    expect(skeletonMembers(join(dir, "src", "hello_client.ts"))).toEqual([
      "createClient", "connectToServer", "signalSuccess", "signalFailure", "reconnectToServer", "prepareHello", "useNewName", "logUnexpectedMessage",
    ]);
  });

  it("document each server action with where it runs and what it must fill in", () => {
    expect(methodText(server.text ?? "", "greetTheClient")).toBe(expectedMethod("greetTheClient", [
      "`ctx.request` is the HELLO that raised the event (fields: name).",
      "WORLD is sent after this action, with the fields of `ctx.reply`: greeting.",
    ], "throws"));
    expect(server.text).toContain([
      "  /**",
      '   * Action "greet_the_client", run in:',
      "   * - state `defaults`, event `hello`",
      "   */",
      "  greetTheClient(ctx) {",
    ].join("\n"));
    expect(methodText(server.text ?? "", "refuseTheCommand")).toBe(expectedMethod("refuseTheCommand", [
      "`ctx.request` is the last message this client sent, not necessarily one that raised this event.",
      "INVALID is sent after this action, with the fields of `ctx.reply`: reason.",
    ], "throws"));
  });

  it("show client actions the calls they run for and the replies that answer them, typed as the engine has them", () => {
    expect(methodText(client.text ?? "", "connectToServer")).toBe(expectedMethod("connectToServer", [
      "`ctx.request` is the last message from the server, if any yet, not necessarily one that raised this event.",
      "Runs for method `constructor` (`ctx.args`: endpoint, name); the call waits for reply SUCCESS or FAILURE.",
      "Nothing is connected yet: `ctx.connect(endpoint)` before the first message is sent.",
      "`ctx.setHeartbeat(ms)` arms the `heartbeat` event this model handles.",
      "`ctx.setExpiry(ms)` arms the `expired` event this model handles.",
      "Answer the waiting call, here or in a later action, with one of:",
      '  ctx.reply("SUCCESS", { greeting: "" });',
      '  ctx.reply("FAILURE", { reason: "" });',
    ], "throws"));
    // Answering is announced by the action's name on WORLD, and by the destructor's accepted reply.
    expect(methodText(client.text ?? "", "signalSuccess")).toBe(expectedMethod("signalSuccess", [
      "`ctx.request` is the last message from the server, if any yet, not necessarily one that raised this event.",
      "Runs for method `destructor`; the call waits for reply SUCCESS.",
      "Answer the waiting call, here or in a later action, with one of:",
      '  ctx.reply("SUCCESS", { greeting: "" });',
    ], "throws"));
    expect(methodText(client.text ?? "", "prepareHello")).toBe(expectedMethod("prepareHello", [
      "`ctx.request` is the last message from the server, if any yet, not necessarily one that raised this event.",
      "HELLO is sent after this action, with the fields of `ctx.outgoing`: name.",
    ], "throws"));
    // Nothing is sent from its fields and no call waits on it: it only logs until written.
    expect(methodText(client.text ?? "", "reconnectToServer")).toBe(expectedMethod("reconnectToServer", [
      "`ctx.request` is the last message from the server, if any yet, not necessarily one that raised this event.",
    ], "warns"));
    expect(client.text).toContain([
      " * Waiting method calls are answered with `ctx.reply(name, fields)`, one of:",
      ' * `ctx.reply("SUCCESS", { greeting: "" });`',
      ' * `ctx.reply("FAILURE", { reason: "" });`',
    ].join("\n"));
  });

  it("the reply examples in comments type-check once uncommented", () => {
    const text = readFileSync(join(dir, "src", "hello_client.ts"), "utf8");
    const uncommented = join(dir, "src", "hello_client_replies.ts");
    const examples = text.match(/\/\/ {3}ctx\.reply\(/g) ?? [];
    expect(examples).toHaveLength(6);
    writeFileSync(uncommented, text.replace(/\/\/ {3}(ctx\.reply\()/g, "$1"));
    try {
      expect(typeCheck(dir)).toEqual([]);
    } finally {
      rmSync(uncommented);
    }
  });

  it("run as written: unfinished actions throw or warn, naming themselves, the state and the event", async () => {
    const url = pathToFileURL(join(dir, "src", "hello_client.ts")).href;
    const { helloClientActions: actions } = (await import(/* @vite-ignore */ url)) as { helloClientActions: SkeletonActions };
    const logged: string[] = [];
    const ctx: FakeContext = { state: "greeting", event: "expired", log: (level, message) => logged.push(`${level}: ${message}`) };
    expect(actions.createClient()).toEqual({});
    expect(() => actions.signalFailure(ctx)).toThrow(new Error("signalFailure is not implemented yet (state greeting, event expired)"));
    actions.reconnectToServer(ctx);
    expect(logged).toEqual(["warn: reconnectToServer is not implemented yet (state greeting, event expired)"]);
  });
});

/** A skeleton's actions object as this test calls it. */
type SkeletonActions = { createClient(): object } & Record<string, (ctx: FakeContext) => void>;

/** The part of an action context the skeleton's unfinished bodies use. */
interface FakeContext {
  readonly state: string;
  readonly event: string;
  log(level: string, message: string): void;
}

describe("a skeleton is written once", () => {
  it("leaves an existing file exactly as it is, and still returns the text it would write", () => {
    const dir = workspace("exists", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml"]);
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "hello_server.ts"), "// my own actions\n");
    const result = writeSkeleton(dir, "hello_server");
    expect(result.status).toBe("exists");
    expect(result.engineFound).toBe(false);
    expect(result.text).toContain("export const helloServerActions: HelloServerActions<Client> = {");
    expect(readFileSync(join(dir, "src", "hello_server.ts"), "utf8")).toBe("// my own actions\n");
  });

  it("does not overwrite its own earlier output, even when the model changed", () => {
    const dir = workspace("twice", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml"]);
    const first = writeSkeleton(dir, "hello_server");
    expect(first.status).toBe("written");
    const model = join(dir, "models", "hello_server.xml");
    writeFileSync(model, readFileSync(model, "utf8").replace('<action name = "greet the client" />', '<action name = "greet warmly" />'));
    const second = writeSkeleton(dir, "hello_server");
    expect(second.status).toBe("exists");
    expect(second.text).toContain("greetWarmly(ctx) {");
    expect(readFileSync(join(dir, "src", "hello_server.ts"), "utf8")).toBe(first.text);
  });

  it("writes nothing for a model with errors, or a codec model", () => {
    const dir = workspace("invalid", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml"]);
    const model = join(dir, "models", "hello_server.xml");
    writeFileSync(model, readFileSync(model, "utf8").replace('next = "ready"', 'next = "nowhere"'));
    const broken = writeSkeleton(dir, "hello_server");
    expect({ status: broken.status, text: broken.text }).toEqual({ status: "failed", text: null });
    expect(broken.diagnostics.map((diagnostic) => `${diagnostic.line}: ${diagnostic.severity}: ${diagnostic.message}`)).toEqual(["21: error: next state nowhere does not exist"]);
    const codec = writeSkeleton(dir, "hello_msg");
    expect({ status: codec.status, text: codec.text, diagnostics: codec.diagnostics }).toEqual({
      status: "not-a-machine", text: null,
      diagnostics: [{
        file: join(dir, "models", "hello_msg.xml"), line: 1, column: 1, severity: "error",
        message: "this is a codec model; skeletons are made for server and client models, whose actions are written by hand",
      }],
    });
    expect(readdirSync(dir)).toEqual(["models"]);
  });
});

describe("after a model change, the compiler reports what the skeleton lacks", () => {
  it("names an action added to the server model as missing, and one removed from the client model as unknown", () => {
    const dir = workspace("change", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml", "models/hello/hello_client.xml"]);
    generateEngines(dir);
    expect(writeSkeleton(dir, "hello_server").status).toBe("written");
    expect(writeSkeleton(dir, "hello_client").status).toBe("written");
    expect(typeCheck(dir)).toEqual([]);
    const before = readdirSync(join(dir, "src")).map((file) => readFileSync(join(dir, "src", file), "utf8"));

    const serverModel = join(dir, "models", "hello_server.xml");
    writeFileSync(serverModel, readFileSync(serverModel, "utf8").replace(
      '<action name = "send" message = "PONG" />', '<action name = "count the ping" />\n        <action name = "send" message = "PONG" />'));
    const clientModel = join(dir, "models", "hello_client.xml");
    writeFileSync(clientModel, readFileSync(clientModel, "utf8").replace('<action name = "log unexpected message" />', ""));
    generateEngines(dir);
    expect(writeSkeleton(dir, "hello_server").status).toBe("exists");
    expect(writeSkeleton(dir, "hello_client").status).toBe("exists");
    expect(readdirSync(join(dir, "src")).map((file) => readFileSync(join(dir, "src", file), "utf8"))).toEqual(before);

    const problems = typeCheck(dir);
    expect(problems.map((problem) => ({ file: problem.file, code: problem.code }))).toEqual([
      { file: "src/hello_client.ts", code: 2353 },
      { file: "src/hello_client.ts", code: 7006 },
      { file: "src/hello_server.ts", code: 2741 },
    ]);
    expect(problems[0].message).toBe(
      "Object literal may only specify known properties, and 'logUnexpectedMessage' does not exist in type 'HelloClientActions<Client>'.");
    // The method left over has lost the type the interface gave its context.
    expect(problems[1].message).toBe("Parameter 'ctx' implicitly has an 'any' type.");
    expect(problems[2].message).toMatch(/^Property 'countThePing' is missing in type '\{[^]*\}' but required in type 'HelloServerActions<Client>'\.$/);
  });
});

describe("skeletons of the engine test models", () => {
  const FIXTURES = "test/fixtures/models/engine";
  let dir: string;
  let machines: string[];

  beforeAll(() => {
    dir = workspace("fixtures", readdirSync(FIXTURES).map((file) => join(FIXTURES, file)));
    // A server whose states come from an included fragment, inheriting a superstate of the including file.
    writeFileSync(join(dir, "models", "_shared_states.xml"), [
      "<fragment>",
      '<state name = "ready" inherit = "defaults">',
      '    <event name = "PING"> <action name = "count ping" /> <action name = "send" message = "NOTE" /> </event>',
      "</state>",
      "</fragment>",
    ].join("\n"));
    writeFileSync(join(dir, "models", "included_server.xml"), [
      '<class name = "included_server" script = "zproto_server_c" protocol_class = "engine_msg">',
      '<state name = "start" inherit = "defaults">',
      '    <event name = "HELLO" next = "ready"> <action name = "greet" /> </event>',
      "</state>",
      '<include filename = "_shared_states.xml" />',
      '<state name = "defaults">',
      '    <event name = "*"> <action name = "count ping" /> <action name = "send" message = "NOTE" /> </event>',
      "</state>",
      "</class>",
    ].join("\n"));
    generateEngines(dir);
    machines = readdirSync(join(dir, "models"))
      .filter((file) => file.endsWith(".xml") && !file.startsWith("_"))
      .map((file) => basename(file, ".xml"))
      .filter((name) => loadModelOrThrow(join(dir, "models", `${name}.xml`)).kind !== "codec");
    for (const name of machines) expect(writeSkeleton(dir, name).status).toBe("written");
  });

  it("cover every server and client model there", () => {
    expect(machines).toEqual([
      "async_exception_server", "async_server", "bare_client", "control_server", "events_server", "exception_client",
      "exception_loop_server", "greeter_server", "heartbeat_server", "included_server", "limited_server", "machine_server",
      "malformed_server", "plain_server", "send_failure_server", "test_client", "timer_server",
    ]);
  });

  it("type-check against their engines, superstates two levels deep and included states too", () => {
    expect(typeCheck(dir)).toEqual([]);
  });

  it("have every action exactly once, in model order", () => {
    for (const name of machines) {
      const model = machine(join(dir, "models", `${name}.xml`));
      const members = skeletonMembers(join(dir, "src", `${name}.ts`));
      expect(members).toEqual(["createClient", ...model.actions.map((action) => action.method)]);
      expect(new Set(members).size).toBe(members.length);
    }
    expect(skeletonMembers(join(dir, "src", "machine_server.ts"))).toEqual([
      "createClient", "greet", "startPing", "enterStart", "mark", "enterReady", "leaveReady", "middlePing", "enterMiddle",
      "basePing", "baseNote", "kick", "report", "wildcard",
    ]);
    expect(skeletonMembers(join(dir, "src", "included_server.ts"))).toEqual(["createClient", "greet", "countPing"]);
  });

  it("document an action with every place it runs, inherited handlers counted once where they are written", () => {
    const text = readFileSync(join(dir, "src", "included_server.ts"), "utf8");
    expect(text).toContain([
      "  /**",
      '   * Action "count_ping", run in:',
      "   * - state `ready`, event `ping`",
      "   * - state `defaults`, event `*`",
      "   */",
      "  countPing(ctx) {",
      "    // `ctx.request` is the last message this client sent, not necessarily one that raised this event.",
      "    // NOTE is sent after this action, with the fields of `ctx.reply`: text.",
    ].join("\n"));
  });
});

describe("zproto skeleton", () => {
  /** Runs the built CLI (`npm test` builds first). */
  function zproto(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
    const run = spawnSync("node", ["dist/bin/zproto.js", "skeleton", ...args], { encoding: "utf8" });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it("writes the file once, prints the text with --stdout, and leaves an existing file alone", () => {
    const dir = workspace("cli", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml"]);
    const model = join(dir, "models", "hello_server.xml");
    const out = join(dir, "src", "server.ts");
    const engine = join(dir, "generated", "hello_server.ts");
    const printed = zproto([model, "--out", out, "--engine", engine, "--stdout"]);
    expect(printed.status).toBe(0);
    expect(readdirSync(dir)).toEqual(["models"]);
    expect(printed.stdout).toContain("export const helloServerActions: HelloServerActions<Client> = {");
    const written = zproto([model, "--out", out, "--engine", engine]);
    expect(written).toEqual({
      status: 0,
      stdout: `${model} -> ${out}\n`,
      stderr: `zproto: ${engine} does not exist yet: run zproto generate ${model} so the skeleton compiles\n`,
    });
    expect(readFileSync(out, "utf8")).toBe(printed.stdout);
    writeFileSync(out, "// mine now\n");
    expect(zproto([model, "--out", out, "--engine", engine])).toEqual({
      status: 0, stdout: "", stderr: `zproto: ${out} exists; left alone. Regenerate the engine and type-check to see what it lacks.\n`,
    });
    expect(readFileSync(out, "utf8")).toBe("// mine now\n");
  });

  it("exits 2 for a codec model or without --out, and 1 for a model with errors", () => {
    const dir = workspace("cli-errors", ["models/hello/hello_msg.xml", "models/hello/hello_server.xml"]);
    const codec = zproto([join(dir, "models", "hello_msg.xml"), "--out", join(dir, "x.ts")]);
    expect(codec.status).toBe(2);
    expect(codec.stderr).toContain("this is a codec model");
    const noOut = zproto([join(dir, "models", "hello_server.xml")]);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toContain("zproto skeleton: needs --out FILE");
    const model = join(dir, "models", "hello_server.xml");
    writeFileSync(model, readFileSync(model, "utf8").replace('next = "ready"', 'next = "nowhere"'));
    const broken = zproto([model, "--out", join(dir, "y.ts")]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain("next state nowhere does not exist");
    expect(readdirSync(dir)).toEqual(["models"]);
  });
});
