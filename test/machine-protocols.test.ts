/**
 * Machines that speak several protocols on one socket (`protocol_class="a b"`): the generator checks that the
 * protocols can share a socket, and the generated engine decodes and sends the messages of each through a
 * union codec. Fixtures: test/fixtures/models/union/ (two binary protocols, and one that clashes).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Project, ts } from "ts-morph";
import { Dealer } from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../generator/diagnostics.js";
import { generate } from "../generator/generate.js";
import { loadModel } from "../generator/model.js";
import { protocolClasses } from "../generator/machine-protocols.js";
import type { ServerEngine } from "../runtime/engine/server.js";
import { testLogger } from "./support/engines.js";

const FIXTURES = "test/fixtures/models/union";
const OUT = "test/.generated-union";

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const result = generate([`${FIXTURES}/relay_ping_msg.xml`, `${FIXTURES}/relay_admin_msg.xml`, `${FIXTURES}/relay_server.xml`, `${FIXTURES}/relay_client.xml`], {
    out: OUT, runtime: { directory: "runtime" },
  });
  expect(result.diagnostics).toEqual([]);
});
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe("protocol_class naming several protocols", () => {
  it("takes names separated by spaces or commas", () => {
    expect(protocolClasses(" a  b,c ,\td ")).toEqual(["a", "b", "c", "d"]);
  });

  it("gives the machine every protocol's messages as events", () => {
    const { model, diagnostics } = loadModel(`${FIXTURES}/relay_server.xml`);
    expect(diagnostics).toEqual([]);
    if (model === null || model.kind === "codec") throw new Error("not a machine");
    expect(model.protocols.map((link) => [link.codec.className, link.importPath])).toEqual([
      ["relay_ping_msg", "./relay_ping_msg.js"], ["relay_admin_msg", "./relay_admin_msg.js"],
    ]);
    expect(model.events.map((event) => [event.name, event.kind, event.message?.key])).toEqual([
      ["ping", "message", "PING"], ["status", "message", "STATUS"],
    ]);
  });

  it("reports, at the attribute, why protocols cannot share a socket", () => {
    const { model, diagnostics } = loadModel(`${FIXTURES}/relay_clash_server.xml`);
    expect(model).toBeNull();
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${FIXTURES}/relay_clash_server.xml:1:63: error: the protocols cannot share a socket: message PING is in both relay_ping_msg and relay_clash_msg: rename one (where the name is not on the wire)`,
      `${FIXTURES}/relay_clash_server.xml:1:63: error: the protocols cannot share a socket: field text is string in relay_ping_msg and number(2) in relay_clash_msg: one name needs one type`,
      `${FIXTURES}/relay_clash_server.xml:1:63: error: the protocols cannot share a socket: protocols relay_ping_msg (signature aa a3) and relay_clash_msg (signature aa a3) cannot be told apart`,
    ]);
  });

  it("names, at the attribute, a protocol that cannot be found", () => {
    const dir = mkdtempSync(join(tmpdir(), "zproto-union-"));
    try {
      copyFileSync(`${FIXTURES}/relay_ping_msg.xml`, join(dir, "relay_ping_msg.xml"));
      writeFileSync(join(dir, "lost.xml"), '<class name = "lost" script = "zproto_server_c" protocol_class = "relay_ping_msg, missing_msg">\n<state name = "start" />\n</class>\n');
      const { model, diagnostics } = loadModel(join(dir, "lost.xml"));
      expect(model).toBeNull();
      expect(diagnostics.map((diagnostic) => diagnostic.message)).toEqual([expect.stringMatching(/^protocol_class missing_msg: there is no missing_msg\.xml or missing_msg\.zpl in /)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names, at the attribute, a protocol that is a machine model, in one error", () => {
    const dir = mkdtempSync(join(tmpdir(), "zproto-union-"));
    try {
      copyFileSync(`${FIXTURES}/relay_ping_msg.xml`, join(dir, "relay_ping_msg.xml"));
      copyFileSync(`${FIXTURES}/relay_client.xml`, join(dir, "relay_client.xml"));
      writeFileSync(join(dir, "mixed.xml"), '<class name = "mixed" script = "zproto_server_c" protocol_class = "relay_ping_msg relay_client">\n<state name = "start" />\n</class>\n');
      const { model, diagnostics } = loadModel(join(dir, "mixed.xml"));
      expect(model).toBeNull();
      expect(diagnostics.map((diagnostic) => `${diagnostic.line}:${diagnostic.column} ${diagnostic.message}`)).toEqual([
        `1:50 ${join(dir, "relay_client.xml")} is a client model; protocol_class names codec models`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("generates a union type, fields and codec, and strict TypeScript", () => {
    const text = readFileSync(`${OUT}/relay_server.ts`, "utf8");
    expect(text).toContain('import { unionCodec } from "../../runtime/wire/index.js";');
    expect(text).toContain("  codec as relayPingMsgCodec,\n  type Ping,\n  type RelayPingMsg,");
    expect(text).toContain("export type RelayServerMessage = RelayPingMsg | RelayAdminMsg;");
    expect(text).toContain("export type RelayServerFields = RelayPingMsgFields & RelayAdminMsgFields;");
    expect(text).toContain('export const codec = unionCodec("relay_server", [relayPingMsgCodec, relayAdminMsgCodec]);');
    const project = new Project({
      compilerOptions: {
        strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
        noUnusedLocals: true, exactOptionalPropertyTypes: true, skipLibCheck: true, types: ["node"], lib: ["lib.es2024.d.ts"],
      },
    });
    project.addSourceFilesAtPaths(`${OUT}/**/*.ts`);
    expect(project.getPreEmitDiagnostics().map((d) => `${d.getSourceFile()?.getFilePath()}:${d.getLineNumber()}: ${ts.flattenDiagnosticMessageText(d.getMessageText() as string, "\n")}`)).toEqual([]);
  }, 120_000);
});

/** The generated modules, imported while the test runs. */
interface RelayServerModule {
  RelayServer: new (actions: object, options: object) => ServerEngine<never, object, string, unknown>;
  codec: { encode(message: object): Buffer[]; decode(frames: readonly Uint8Array[]): { message: string } & Record<string, unknown> };
}
interface RelayClientModule {
  RelayClient: { create(endpoint: string, actions: object, options: object): Promise<{ askStatus(): Promise<number>; ping(fields: object): void; close(): Promise<void> }> };
}

async function load<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ new URL(`./.generated-union/${name}.ts`, import.meta.url).href)) as T;
}

describe("a generated engine that speaks two protocols", () => {
  it("answers each protocol's messages on one ROUTER, to raw peers and to a generated client", async () => {
    const { RelayServer, codec } = await load<RelayServerModule>("relay_server");
    const { RelayClient } = await load<RelayClientModule>("relay_client");
    let pings = 0;
    let last = "";
    const server = new RelayServer({
      createClient: () => ({}),
      countPing: (ctx: { request: { text: string }; reply: { text?: string } }) => {
        pings++;
        last = ctx.request.text;
        ctx.reply.text = ctx.request.text;
      },
      reportStatus: (ctx: { reply: { count?: number; text?: string } }) => {
        ctx.reply.count = pings;
        ctx.reply.text = last;
      },
    }, { logger: testLogger });
    const dealer = new Dealer({ linger: 0 });
    try {
      const endpoint = await server.bind("tcp://127.0.0.1:*");
      dealer.connect(endpoint);
      await dealer.send(codec.encode({ message: "PING", text: "one" }));
      expect(codec.decode(await dealer.receive())).toEqual({ message: "PONG", text: "one" });
      await dealer.send(codec.encode({ message: "STATUS" }));
      expect(codec.decode(await dealer.receive())).toEqual({ message: "STATUS_OK", count: 1, text: "one" });

      const client = await RelayClient.create(endpoint, {
        createClient: () => ({}),
        connectToServer: (ctx: { args: { endpoint?: string }; connect(endpoint: string): void }) => ctx.connect(ctx.args.endpoint ?? ""),
        signalSuccess: (ctx: { reply(name: string, fields: object): void }) => ctx.reply("SUCCESS", {}),
        signalStatus: (ctx: { request: { count: number }; reply(name: string, fields: object): void }) => ctx.reply("STATUS", { count: ctx.request.count }),
      }, { logger: testLogger });
      try {
        client.ping({ text: "two" });
        await expect.poll(() => pings, { timeout: 5000 }).toBe(2);
        expect(await client.askStatus()).toBe(2);
      } finally {
        await client.close();
      }
    } finally {
      await server.close();
      dealer.close();
    }
  });
});
