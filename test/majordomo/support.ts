/**
 * Helpers for the Majordomo tests: a broker on a free loopback port, raw DEALER peers that send exact
 * MDP/0.1 frames and keep what they receive, the frames of RFC 7, and teardown.
 */
import { readFileSync } from "node:fs";
import { Dealer, Router } from "zeromq";
import { createBroker, type MajordomoBroker } from "../../protocols/majordomo/broker.js";
import type { ServerOptions } from "../../runtime/engine/server.js";
import { eventually, MemoryLogger, sleep, testLogger } from "../support/engines.js";

/**
 * Timings for tests: heartbeat 100 ms and liveness 10 on every side, so a silent peer is dead after 1 s.
 * Tests that expect a live peer to stay registered need that margin: with a 300 ms window, live workers
 * were purged while the machine's two cores were busy with other work.
 */
export const HEARTBEAT_MS = 100;
export const LIVENESS = 10;
export const LIVENESS_WINDOW_MS = HEARTBEAT_MS * LIVENESS;
/** The broker's configuration for those timings. */
export const FAST = { "broker/heartbeat": HEARTBEAT_MS, "broker/liveness": LIVENESS };

/** Frames from text (latin1, so "\x01" is the octet 01) and buffers. */
export function frames(...parts: (string | Uint8Array)[]): Buffer[] {
  return parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(part)));
}

/** MDP/0.1 as a DEALER sends and receives it (RFC 7; docs/majordomo.md, "On the wire"). */
export const mdp = {
  request: (service: string, ...body: (string | Uint8Array)[]) => frames("", "MDPC01", service, ...body),
  ready: (service: string) => frames("", "MDPW01", "\x01", service),
  workerRequest: (client: Uint8Array, ...body: (string | Uint8Array)[]) => frames("", "MDPW01", "\x02", client, "", ...body),
  reply: (client: Uint8Array, ...body: (string | Uint8Array)[]) => frames("", "MDPW01", "\x03", client, "", ...body),
  heartbeat: () => frames("", "MDPW01", "\x04"),
  disconnect: () => frames("", "MDPW01", "\x05"),
};

/** What an MDP/0.1 message received by a raw peer is. */
export function kind(message: readonly Buffer[]): string {
  if (message[1]?.toString() === "MDPC01") return "CLIENT MESSAGE";
  const command = message[2]?.[0];
  return ["?", "READY", "WORKER REQUEST", "REPLY", "HEARTBEAT", "DISCONNECT"][command ?? 0] ?? "?";
}

/** Closes what a test opened, brokers first (see test/engine/support.ts on why). */
export class Teardown {
  private readonly brokers: (() => Promise<void>)[] = [];
  private readonly others: (() => unknown)[] = [];

  broker(broker: MajordomoBroker): MajordomoBroker {
    this.brokers.push(() => broker.close());
    return broker;
  }

  add(close: () => unknown): void {
    this.others.push(close);
  }

  async run(): Promise<void> {
    for (const close of [...this.brokers.splice(0), ...this.others.splice(0)]) {
      try {
        await close();
      } catch {
        // Teardown goes on: something the test closed already is fine.
      }
    }
  }
}

/** A broker bound to a free loopback port, with short timings unless given. */
export async function startBroker(teardown: Teardown, config: Record<string, string | number> = {}, options: ServerOptions = {}): Promise<{ broker: MajordomoBroker; endpoint: string; log: MemoryLogger }> {
  const log = new MemoryLogger();
  const logger = { log: (...args: Parameters<MemoryLogger["log"]>) => { log.log(...args); testLogger.log(...args); } };
  const broker = teardown.broker(createBroker({ logger, config, ...options }));
  const endpoint = await broker.bind("tcp://127.0.0.1:*");
  return { broker, endpoint, log };
}

/**
 * A raw socket that sends exact frames and keeps every message it receives, in order. On a ROUTER the
 * routing id comes first; `kind` and the HEARTBEAT skipping look past it.
 */
class RawSocket<S extends Dealer | Router> {
  readonly inbox: Buffer[][] = [];
  private cursor = 0;

  constructor(teardown: Teardown, readonly socket: S, private readonly routed: boolean) {
    teardown.add(() => this.close());
  }

  send(message: Buffer[]): Promise<void> {
    return this.socket.send(message);
  }

  /** The next message not read yet, skipping HEARTBEATs unless asked for; fails after `timeoutMs`. */
  async next(timeoutMs = 5000, options: { heartbeats?: boolean } = {}): Promise<Buffer[]> {
    for (;;) {
      await eventually(() => this.inbox.length > this.cursor, timeoutMs, "a message");
      const message = this.inbox[this.cursor++];
      if (options.heartbeats || this.kindOf(message) !== "HEARTBEAT") return message;
    }
  }

  /** Waits `ms` and returns what arrived meanwhile, HEARTBEATs left out. */
  async nothingFor(ms: number): Promise<Buffer[][]> {
    await sleep(ms);
    const unread = this.inbox.slice(this.cursor).filter((message) => this.kindOf(message) !== "HEARTBEAT");
    this.cursor = this.inbox.length;
    return unread;
  }

  /** Messages of this kind received so far, read or not. */
  count(what: string): number {
    return this.inbox.filter((message) => this.kindOf(message) === what).length;
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
  }

  protected async receiveLoop(): Promise<void> {
    try {
      for await (const message of this.socket) this.inbox.push(message);
    } catch {
      // closed
    }
  }

  private kindOf(message: readonly Buffer[]): string {
    return kind(this.routed ? message.slice(1) : message);
  }
}

/** A raw DEALER peer, with the routing id given if any. */
export class RawPeer extends RawSocket<Dealer> {
  constructor(teardown: Teardown, endpoint: string, options: { routingId?: string } = {}) {
    super(teardown, new Dealer({ linger: 0, ...options }), false);
    this.socket.connect(endpoint);
    void this.receiveLoop();
  }
}

/** A raw ROUTER standing in for a broker. */
export class RawRouter extends RawSocket<Router> {
  static async start(teardown: Teardown, endpoint = "tcp://127.0.0.1:*"): Promise<RawRouter> {
    const router = new RawRouter(teardown, new Router({ linger: 0 }), true);
    await router.socket.bind(endpoint);
    void router.receiveLoop();
    return router;
  }

  get endpoint(): string {
    return this.socket.lastEndpoint ?? "";
  }
}

/** A raw DEALER that has said READY for `service`; the test answers its requests (see {@link serveOne}). */
export async function rawWorker(teardown: Teardown, endpoint: string, service: string): Promise<RawPeer> {
  const worker = new RawPeer(teardown, endpoint);
  await worker.send(mdp.ready(service));
  return worker;
}

/** Makes a raw worker send HEARTBEAT every `ms` until the test ends, as a live worker does. */
export function keepAlive(teardown: Teardown, worker: RawPeer, ms = 50): void {
  const timer = setInterval(() => {
    if (!worker.socket.closed) void worker.send(mdp.heartbeat()).catch(() => undefined);
  }, ms);
  teardown.add(() => clearInterval(timer));
}

/** Sends a request from a raw client and returns the reply's frames after the empty delimiter. */
export async function ask(client: RawPeer, service: string, ...body: string[]): Promise<string[]> {
  await client.send(mdp.request(service, ...body));
  const reply = await client.next();
  return reply.slice(1).map((frame) => frame.toString());
}

/** Serves one request on a raw worker: checks it, replies with `answer(body)`; returns the body. */
export async function serveOne(worker: RawPeer, answer: (body: string[]) => string[] = (body) => body): Promise<string[]> {
  const request = await worker.next();
  if (kind(request) !== "WORKER REQUEST") throw new Error(`worker got ${kind(request)}, not a WORKER REQUEST`);
  const client = request[3];
  const body = request.slice(5).map((frame) => frame.toString());
  await worker.send(mdp.reply(client, ...answer(body)));
  return body;
}

/**
 * The remote ports of the broker's side of its TCP connections on `port` that are still open (Linux
 * /proc/net/tcp): established, or closed by the peer but not yet by libzmq. Once a peer's port is gone from
 * it, libzmq has closed that connection, and the broker's socket learns it before anything that arrives later.
 */
export function openConnections(port: number): Set<number> {
  const open = new Set<number>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (local === undefined || remote === undefined) continue;
    // 01 ESTABLISHED, 08 CLOSE_WAIT.
    if (Number.parseInt(local.split(":")[1], 16) === port && (state === "01" || state === "08")) open.add(Number.parseInt(remote.split(":")[1], 16));
  }
  return open;
}
