/**
 * Helpers for engine tests on real ZeroMQ sockets: test models loaded without generated code, raw DEALER
 * and ROUTER peers that speak the test protocol (or garbage), a client engine with its protected API
 * exposed, and a registry of everything a test opened so that afterEach can close it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { Dealer, Router, type Context } from "zeromq";
import type { MachineIR } from "../../generator/ir.js";
import { loadModel } from "../../generator/model.js";
import { machineTable } from "../../generator/emit-machine.js";
import { codecSchema } from "../../generator/schema.js";
import { ClientEngine, type ClientContext, type ClientHooks, type ClientOptions, type MethodSpec } from "../../runtime/engine/client.js";
import type { CallOptions } from "../../runtime/engine/deadline.js";
import type { MachineTable } from "../../runtime/engine/machine.js";
import { ServerEngine, type ServerContext, type ServerHooks, type ServerOptions, type SessionEnding } from "../../runtime/engine/server.js";
import type { Codec } from "../../runtime/wire/codec.js";
import { dynamicCodec, type DynamicMessage } from "../../runtime/wire/interpret.js";
import { eventually } from "../support/engines.js";

/** Where the engine test models live. */
export const MODELS = fileURLToPath(new URL("../fixtures/models/engine/", import.meta.url));

/** Every field of the test protocol (engine_msg.xml): the type of a context's reply. */
export interface EngineFields {
  name?: string;
  text?: string;
  delay?: number;
}

export type TestCodec = Codec<DynamicMessage, DynamicMessage>;

/** A machine model ready to run: its table, the interpreted codec of its protocol, and the IR. */
export interface LoadedMachine {
  readonly ir: MachineIR;
  readonly table: MachineTable;
  readonly codec: TestCodec;
}

const loaded = new Map<string, LoadedMachine>();

/** Loads a server or client model from the engine fixtures; any diagnostic fails the test. */
export function loadMachine(file: string): LoadedMachine {
  const cached = loaded.get(file);
  if (cached) return cached;
  const { model, diagnostics } = loadModel(MODELS + file);
  if (model === null || model.kind === "codec" || diagnostics.length > 0) {
    throw new Error(`${file} does not load cleanly: ${JSON.stringify(diagnostics)}`);
  }
  const machine = { ir: model, table: machineTable(model), codec: dynamicCodec(codecSchema(model.protocol)) };
  loaded.set(file, machine);
  return machine;
}

/** The codec of the test protocol, for peers. */
export function engineCodec(): TestCodec {
  return loadMachine("plain_server.xml").codec;
}

/** A message's text field (the interpreter types fields as unknown). */
export function textOf(message: DynamicMessage | undefined): string {
  const text = message?.text;
  return typeof text === "string" ? text : "";
}

/**
 * Closes what tests open: servers first, then everything else, each group in the order opened; errors in one
 * close do not stop the others. Servers go first because ServerEngine.close() unbinds before it closes, and
 * libzmq aborts the process when that happens right after a peer disconnected (see server-close.test.ts).
 */
export class Resources {
  private readonly servers: (() => unknown)[] = [];
  private readonly others: (() => unknown)[] = [];

  add<T>(resource: T, close: (resource: T) => unknown, kind: "server" | "other" = "other"): T {
    (kind === "server" ? this.servers : this.others).push(() => close(resource));
    return resource;
  }

  async closeAll(): Promise<void> {
    for (const close of [...this.servers.splice(0), ...this.others.splice(0)]) {
      try {
        await close();
      } catch {
        // Teardown must go on: a socket already closed by the test is fine.
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Servers

export type Ctx<Client> = ServerContext<DynamicMessage, EngineFields, string, Client>;
export type TestServer<Client> = ServerEngine<DynamicMessage, EngineFields, string, Client>;

/**
 * A server implementation: the per-client hooks plus one method per action (camelCase action name). The
 * server-wide hooks take no context, so an implementation that has them is typed as {@link ServerHooks}.
 */
export interface ServerImpl<Client> extends Pick<ServerHooks<Ctx<Client>, Client, DynamicMessage>, "createClient" | "clientTerminated"> {
  readonly [action: string]: ((ctx: Ctx<Client>, ending: SessionEnding<DynamicMessage>) => unknown) | undefined;
}

/** A server for a fixture model, closed after the test. Not started: call bind() or start(). */
export function makeServer<Client>(resources: Resources, file: string, impl: ServerImpl<Client> | ServerHooks<Ctx<Client>, Client, DynamicMessage>, options: ServerOptions = {}): TestServer<Client> {
  const { table, codec } = loadMachine(file);
  const server = new ServerEngine<DynamicMessage, EngineFields, string, Client>(table, codec, impl, options);
  return resources.add(server, (s) => s.close(), "server");
}

/**
 * Binds a loopback port below Linux's ephemeral range (32768+), for tests that close a server and bind the
 * same port again: a port from the ephemeral range can be taken meanwhile as the local port of any outgoing
 * connection (other test files run at the same time), which would make the rebind fail for no fault of ours.
 */
export async function bindFixedPort(bind: (endpoint: string) => Promise<string>): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 30; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      return await bind(`tcp://127.0.0.1:${port}`);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** A free loopback endpoint below the ephemeral range (see bindFixedPort): bound once by a probe, then released. */
export async function freeEndpoint(): Promise<string> {
  const probe = new Router({ linger: 0 });
  try {
    const endpoint = await bindFixedPort(async (candidate) => {
      await probe.bind(candidate);
      return candidate;
    });
    await probe.unbind(endpoint);
    return endpoint;
  } finally {
    probe.close();
  }
}

/** A server bound to a free loopback port; returns it and its endpoint. */
export async function startServer<Client>(resources: Resources, file: string, impl: ServerImpl<Client>, options: ServerOptions = {}): Promise<{ server: TestServer<Client>; endpoint: string }> {
  const server = makeServer(resources, file, impl, options);
  const endpoint = await server.bind("tcp://127.0.0.1:*");
  return { server, endpoint };
}

// ---------------------------------------------------------------------------------------------------------
// Raw peers

/** A raw DEALER that speaks the test protocol; it keeps every message it receives, in order. */
export class Peer {
  readonly socket: Dealer;
  /** Everything received so far. */
  readonly inbox: DynamicMessage[] = [];
  /** Frames that did not decode (a server must never send those). */
  readonly garbage: Buffer[][] = [];
  private cursor = 0;

  constructor(private readonly codec: TestCodec, endpoint: string, options: { context?: Context; routingId?: string } = {}) {
    this.socket = new Dealer({ linger: 0, ...(options.context ? { context: options.context } : {}), ...(options.routingId ? { routingId: options.routingId } : {}) });
    this.socket.connect(endpoint);
    void this.receive();
  }

  /** Sends a message of the test protocol. */
  send(message: DynamicMessage): Promise<void> {
    return this.socket.send(this.codec.encode(message));
  }

  /** Sends arbitrary frames. */
  sendFrames(frames: Buffer[]): Promise<void> {
    return this.socket.send(frames);
  }

  /** The next message not read yet; fails after `timeoutMs`. */
  async next(timeoutMs = 2000, what = "a message"): Promise<DynamicMessage> {
    await eventually(() => this.inbox.length > this.cursor, timeoutMs, what);
    return this.inbox[this.cursor++];
  }

  /** Messages received and not read yet. */
  get unread(): number {
    return this.inbox.length - this.cursor;
  }

  /** Sends a message and returns the next one received. */
  async request(message: DynamicMessage, timeoutMs = 2000): Promise<DynamicMessage> {
    await this.send(message);
    return this.next(timeoutMs, `an answer to ${message.message}`);
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        try {
          this.inbox.push(this.codec.decode(frames));
        } catch {
          this.garbage.push(frames);
        }
      }
    } catch {
      // The socket was closed.
    }
  }
}

/** A peer closed after the test. */
export function makePeer(resources: Resources, endpoint: string, options: { context?: Context; routingId?: string } = {}): Peer {
  return resources.add(new Peer(engineCodec(), endpoint, options), (peer) => peer.close());
}

/** A raw ROUTER standing in for a server in client tests; it keeps what it receives with the sender's id. */
export class RawServer {
  readonly socket = new Router({ linger: 0 });
  readonly inbox: { routingId: Buffer; message: DynamicMessage }[] = [];
  private cursor = 0;
  endpoint = "";

  constructor(private readonly codec: TestCodec) {}

  async bind(endpoint = "tcp://127.0.0.1:*"): Promise<string> {
    await this.socket.bind(endpoint);
    this.endpoint = this.socket.lastEndpoint ?? endpoint;
    void this.receive();
    return this.endpoint;
  }

  /** The next message not read yet. */
  async next(timeoutMs = 2000, what = "a message from the client"): Promise<{ routingId: Buffer; message: DynamicMessage }> {
    await eventually(() => this.inbox.length > this.cursor, timeoutMs, what);
    return this.inbox[this.cursor++];
  }

  /** The next message of a given kind, skipping others (PING heartbeats, say). */
  async nextOf(kind: string, timeoutMs = 2000): Promise<{ routingId: Buffer; message: DynamicMessage }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.next(Math.max(1, deadline - Date.now()), `a ${kind} from the client`);
      if (item.message.message === kind) return item;
    }
  }

  /** Messages of one kind received so far (read or not). */
  count(kind: string): number {
    return this.inbox.filter((item) => item.message.message === kind).length;
  }

  send(routingId: Buffer, message: DynamicMessage): Promise<void> {
    return this.socket.send([routingId, ...this.codec.encode(message)]);
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
  }

  private async receive(): Promise<void> {
    try {
      for await (const [routingId, ...frames] of this.socket) {
        try {
          this.inbox.push({ routingId, message: this.codec.decode(frames) });
        } catch {
          // Clients under test only send valid messages; a test that needs garbage reads the socket itself.
        }
      }
    } catch {
      // closed
    }
  }
}

export async function startRawServer(resources: Resources): Promise<RawServer> {
  const server = resources.add(new RawServer(engineCodec()), (s) => s.close(), "server");
  await server.bind();
  return server;
}

// ---------------------------------------------------------------------------------------------------------
// Clients

/** Arguments of every method of the test client models. */
export interface ClientArgs {
  endpoint: string;
  heartbeat: number;
  expiry: number;
  text: string;
  delay: number;
}

/** Replies of the test client models. */
export interface ClientReplies {
  SUCCESS: { text: string };
  FAILURE: { reason: string };
}

export type ClientCtx<Client> = ClientContext<DynamicMessage, EngineFields, string, Client, ClientArgs, ClientReplies>;

export interface ClientImpl<Client> extends ClientHooks<ClientCtx<Client>, Client> {
  readonly [action: string]: ((ctx: ClientCtx<Client>) => unknown) | undefined;
}

/** The method table a generated client embeds, built from the IR as emit-machine does. */
export function methodTable(ir: MachineIR): Record<string, MethodSpec> {
  const failures = new Set(ir.replies.filter((reply) => reply.failure).map((reply) => reply.name));
  return Object.fromEntries(ir.methods.map((method) => [method.event, {
    event: method.event,
    accepts: method.accepts,
    failures: method.accepts.filter((reply) => failures.has(reply)),
    ...(method.returns !== undefined ? { returns: method.returns.key } : {}),
    ...(method.immediate ? { immediate: true } : {}),
  }]));
}

/** A client engine with its protected construct/call exposed, as a generated client class would wrap them. */
export class TestClient<Client> extends ClientEngine<DynamicMessage, EngineFields, string, Client, ClientArgs, ClientReplies> {
  constructor(file: string, impl: ClientImpl<Client>, options: ClientOptions = {}) {
    const { ir, table, codec } = loadMachine(file);
    super(table, codec, methodTable(ir), impl, options);
  }

  // Not named open(): the engine has a private open(), and a subclass method of that name would replace it.
  start(args: Partial<ClientArgs>, options?: CallOptions): Promise<void> {
    return this.construct(args, options);
  }

  invoke(method: string, args: Partial<ClientArgs> = {}, options?: CallOptions): Promise<unknown> {
    return this.call(method, args, options);
  }

  /** Sends a message without an event, as a generated client's `<send>` methods do. */
  sendAtOnce(message: DynamicMessage): void {
    this.sendNow(message);
  }

  /** The implementation's state. */
  get impl(): Client {
    return this.context.client;
  }
}

/** A test client closed after the test (quickly: its destructor gets a short timeout). */
export function makeClient<Client>(resources: Resources, file: string, impl: ClientImpl<Client>, options: ClientOptions = {}): TestClient<Client> {
  return resources.add(new TestClient(file, impl, options), (client) => client.close({ timeout: 200 }));
}

/** Resolves after `ms`. */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once every promise continuation already due has run (setImmediate comes after the microtask
 * queue is empty): for checking that something did not happen, without waiting a guessed time.
 */
export const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Settles a promise into a value or the error, so tests can assert on rejections with timing. */
export async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** How a child process ended. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly output: string;
}

/**
 * Runs one of the scripts in test/engine/child/ in a separate node process (TypeScript sources loaded by
 * child/register.mjs), for scenarios that may abort or hang the whole process. Killed after `timeoutMs`.
 */
export function runChild(script: string, args: readonly string[], timeoutMs: number): Promise<ChildResult> {
  const path = fileURLToPath(new URL(`./child/${script}`, import.meta.url));
  const register = fileURLToPath(new URL("./child/register.mjs", import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", register, path, ...args], {
      stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, env: { ...process.env, ZPROTO_TS_TRANSPILE_CACHE: inject("transpileCache") },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}
