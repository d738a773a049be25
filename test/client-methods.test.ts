/**
 * Generated types tell the truth about client methods and action contexts (docs/client-methods.md), and the
 * engines behave as those types say, on real sockets: a key-value client whose `fetch` resolves with a value
 * or undefined, whose immediate, virtual `receive` resolves with a notice's frames, and whose actions see
 * `ctx.request` undefined before the first message arrives.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Project, ts } from "ts-morph";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../generator/generate.js";
import type { Logger } from "../runtime/engine/log.js";
import { testLogger } from "./support/engines.js";

const OUT = `test/.generated-kv-${process.pid}`;

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const result = generate(["test/fixtures/models/kv"], { out: OUT, runtime: { directory: "runtime" } });
  expect(result.diagnostics).toEqual([]);
});
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/**
 * Type assertions on the generated modules: each `Equal` must be true, and each `@ts-expect-error` line must
 * be an error, or the file does not type-check.
 */
const ASSERTIONS = `
import type { KvClient, KvClientActions, KvClientContext } from "./kv_client.js";
import type { KvServerActions } from "./kv_server.js";
import type { Found, Get, KvMsg, Notice, Set } from "./kv_msg.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type RequestOf<Actions, Name extends keyof Actions> = Actions[Name] extends (ctx: infer C) => unknown ? (C extends { request: infer R } ? R : never) : never;
type Resolves<Method> = Method extends (...args: never[]) => Promise<infer R> ? R : never;
type Client = KvClientActions<unknown>;
type Server = KvServerActions<unknown>;

export const requests: true[] = [
  // Only FOUND runs it: request is that message.
  true as Equal<RequestOf<Client, "signalFound">, Found>,
  true as Equal<RequestOf<Client, "postNotice">, Notice>,
  // Method events, the constructor among them, come before or between messages.
  true as Equal<RequestOf<Client, "prepareFetch">, KvMsg | undefined>,
  true as Equal<RequestOf<Client, "connectToServer">, KvMsg | undefined>,
  true as Equal<RequestOf<Client, "signalSuccess">, KvMsg | undefined>,
  // A server context starts with a message; this model handles no malformed ones.
  true as Equal<RequestOf<Server, "lookUp">, Get>,
  true as Equal<RequestOf<Server, "storeValue">, Set>,
  true as Equal<RequestOf<Server, "logExpiry">, KvMsg>,
  // A server's hooks run before its first message is there too.
  true as Equal<RequestOf<Server, "createClient">, KvMsg | undefined>,
];

export const results: true[] = [
  // MISSING carries no value: the call resolves with undefined then.
  true as Equal<Resolves<KvClient<unknown>["fetch"]>, string | undefined>,
  // virtual="1": the msg field of POSTED.
  true as Equal<Resolves<KvClient<unknown>["receive"]>, Uint8Array[]>,
  true as Equal<Resolves<KvClient<unknown>["store"]>, void>,
];

export function replying(ctx: KvClientContext<unknown>): void {
  ctx.reply("MISSING", {});
  ctx.reply("FOUND", { value: "v" });
  const fields = { value: "v" };
  // @ts-expect-error MISSING has no fields, so none may be given
  ctx.reply("MISSING", fields);
}

export function raising(ctx: KvClientContext<unknown>): void {
  ctx.next("fetch");
  ctx.wakeup(10, "destructor");
  // @ts-expect-error only a FOUND from the server raises found
  ctx.next("found");
  // @ts-expect-error only a NOTICE from the server raises notice
  ctx.wakeup(10, "notice");
}

export function raisingOnServer(ctx: Parameters<Server["lookUp"]>[0]): void {
  ctx.next("have_value");
  // @ts-expect-error only a GET from a client raises get
  ctx.next("get");
  // @ts-expect-error only a SET from a client raises set
  ctx.server.sendEvent(ctx, "set");
}
`;

describe("generated client and server types", () => {
  it("type a request only as what can be there, results as every accepted reply gives them, and raising as allowed", () => {
    writeFileSync(`${OUT}/assertions.ts`, ASSERTIONS);
    const project = new Project({
      compilerOptions: {
        strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
        noUnusedLocals: true, noUnusedParameters: true, exactOptionalPropertyTypes: true, skipLibCheck: true,
        types: ["node"], lib: ["lib.es2024.d.ts"],
      },
    });
    project.addSourceFilesAtPaths(`${OUT}/**/*.ts`);
    const problems = project.getPreEmitDiagnostics()
      .filter((diagnostic) => diagnostic.getSourceFile()?.getFilePath().includes(OUT.slice("test/".length)) ?? true)
      .map((diagnostic) => `${diagnostic.getSourceFile()?.getBaseName()}:${diagnostic.getLineNumber()}: ${ts.flattenDiagnosticMessageText(diagnostic.getMessageText() as string, "\n")}`);
    expect(problems).toEqual([]);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------------
// The same client and server at run time

/** The slice of the generated modules this test uses (they exist only while it runs). */
interface ServerModule {
  KvServer: new (actions: object, options: { logger?: Logger }) => { bind(endpoint: string): Promise<string>; close(): Promise<void> };
}
interface ClientModule {
  KvClient: {
    create(endpoint: string, actions: object, options: { logger?: Logger }): Promise<{
      fetch(key: string): Promise<string | undefined>;
      store(key: string, value: string): Promise<void>;
      receive(options?: { timeout?: number }): Promise<Uint8Array[]>;
      watch(fields: { key: string }): void;
      close(): Promise<void>;
    }>;
  };
}

interface Message {
  readonly message: string;
  readonly [field: string]: unknown;
}
/** What the test's server actions need of a context; the generated types are checked above. */
interface ServerCtx {
  request: Message | undefined;
  reply: Record<string, unknown>;
  next(event: string): void;
}
/** What the test's client actions need of a context. */
interface ClientCtx {
  request: Message | undefined;
  args: Record<string, unknown>;
  outgoing: Record<string, unknown>;
  client: { requestsAtConnect: (Message | undefined)[] };
  reply(name: string, fields: object): void;
  connect(endpoint: string): void;
}

async function load<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ new URL(`./${OUT.slice("test/".length)}/${name}.ts`, import.meta.url).href)) as T;
}

function serverActions(store: Map<string, string>): object {
  return {
    createClient: () => ({}),
    lookUp(ctx: ServerCtx) {
      const value = store.get(String(ctx.request?.key));
      if (value === undefined) ctx.next("no_value");
      else {
        ctx.reply.value = value;
        ctx.next("have_value");
      }
    },
    storeValue(ctx: ServerCtx) {
      store.set(String(ctx.request?.key), String(ctx.request?.value));
    },
    prepareNotice(ctx: ServerCtx) {
      const key = String(ctx.request?.key);
      ctx.reply.key = key;
      ctx.reply.body = [Buffer.from(store.get(key) ?? "")];
    },
    logExpiry() {},
  };
}

function clientActions(seen: { requestsAtConnect: (Message | undefined)[] }): object {
  return {
    createClient: () => seen,
    connectToServer(ctx: ClientCtx) {
      ctx.client.requestsAtConnect.push(ctx.request);
      ctx.connect(String(ctx.args.endpoint));
    },
    signalSuccess: (ctx: ClientCtx) => ctx.reply("SUCCESS", {}),
    prepareFetch(ctx: ClientCtx) {
      ctx.outgoing.key = ctx.args.key;
    },
    prepareStore(ctx: ClientCtx) {
      ctx.outgoing.key = ctx.args.key;
      ctx.outgoing.value = ctx.args.value;
    },
    signalFound: (ctx: ClientCtx) => ctx.reply("FOUND", { value: ctx.request?.value }),
    signalMissing: (ctx: ClientCtx) => ctx.reply("MISSING", {}),
    postNotice: (ctx: ClientCtx) => ctx.reply("POSTED", { key: ctx.request?.key, body: ctx.request?.body }),
  };
}

describe("generated client methods on real sockets", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function connect(): Promise<{ client: Awaited<ReturnType<ClientModule["KvClient"]["create"]>>; seen: { requestsAtConnect: (Message | undefined)[] } }> {
    const { KvServer } = await load<ServerModule>("kv_server");
    const { KvClient } = await load<ClientModule>("kv_client");
    const server = new KvServer(serverActions(new Map()), { logger: testLogger });
    closers.push(() => server.close());
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const seen = { requestsAtConnect: [] as (Message | undefined)[] };
    const client = await KvClient.create(endpoint, clientActions(seen), { logger: testLogger });
    closers.push(() => client.close());
    return { client, seen };
  }

  it("see no request before the first message: the constructor's actions get undefined", async () => {
    const { seen } = await connect();
    expect(seen.requestsAtConnect).toEqual([undefined]);
  });

  it("resolve a return with the field, or with undefined for an accepted reply that lacks it", async () => {
    const { client } = await connect();
    await client.store("colour", "blue");
    expect(await client.fetch("colour")).toBe("blue");
    expect(await client.fetch("size")).toBeUndefined();
  });

  it("resolve an immediate, virtual method with the msg field of the reply it waited for", async () => {
    const { client } = await connect();
    await client.store("colour", "blue");
    // receive() raises no event: only the notice that WATCH brings answers it.
    const received = client.receive({ timeout: 5000 });
    client.watch({ key: "colour" });
    expect((await received).map((frame) => Buffer.from(frame).toString())).toEqual(["blue"]);
  });
});
