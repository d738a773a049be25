/**
 * How the end of a peer's session is logged: what ended (the session of client N) and why, in plain words
 * (issue: the server logged `client server closed`); and the reason `clientTerminated` is given, with the
 * message that could not be delivered when the peer is gone or does not read.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import type { SessionEnding } from "../../runtime/engine/server.js";
import type { DynamicMessage } from "../../runtime/wire/interpret.js";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import { Resources, engineCodec, makePeer, makeServer, settled, startServer, type ServerImpl, type TestServer } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

const impl: ServerImpl<object> = {
  createClient: () => ({}),
  greet(ctx) {
    ctx.reply.text = "hi";
  },
};

describe("session endings in the log", () => {
  it("says a silent client's session expired, after how long, and which setting says so", async () => {
    const logger = new MemoryLogger();
    const { server, endpoint } = await startServer(resources, "plain_server.xml", impl, { logger, config: { "server/timeout": 200 } });
    await makePeer(resources, endpoint).request({ message: "HELLO", name: "Ada" });
    await eventually(() => server.clientCount === 0, 5000, "the session to expire");
    expect(logger.lines).toContainEqual({ level: "info", message: "client 1: session expired: nothing received for 200 ms (server/timeout)", fields: { client: 1 } });
  });

  it("says the sessions ended because the server is closing", async () => {
    const logger = new MemoryLogger();
    const { server, endpoint } = await startServer(resources, "plain_server.xml", impl, { logger });
    await makePeer(resources, endpoint).request({ message: "HELLO", name: "Ada" });
    await server.close();
    expect(logger.lines).toContainEqual({ level: "debug", message: "client 1: session ended: the server is closing", fields: { client: 1 } });
    expect(logger.messages().filter((line) => /server closed/.test(line))).toEqual([]);
  });
});

describe("the reason clientTerminated is given", () => {
  /** Records what clientTerminated is told, by client id. */
  function recording(endings: Map<number, SessionEnding<DynamicMessage>>): ServerImpl<object> {
    return { ...impl, note: () => undefined, clientTerminated: (ctx, ending) => endings.set(ctx.id, ending) };
  }

  it("says the session expired, was ended by the model, or ended with the server", async () => {
    const endings = new Map<number, SessionEnding<DynamicMessage>>();
    const silent = await startServer(resources, "plain_server.xml", recording(endings), { logger: testLogger, config: { "server/timeout": 200 } });
    await makePeer(resources, silent.endpoint).request({ message: "HELLO", name: "Ada" });
    await eventually(() => endings.size === 1, 5000, "the session to expire");
    expect(endings.get(1)).toEqual({ reason: "expired" });

    // heartbeat_server's own `expired` handler says NOTE and terminates.
    const modelled = new Map<number, SessionEnding<DynamicMessage>>();
    const terminating = await startServer(resources, "heartbeat_server.xml", { ...recording(modelled), noteEvent: (ctx) => { ctx.reply.text = ctx.event; } }, { logger: testLogger, config: { "server/timeout": 200 } });
    const peer = makePeer(resources, terminating.endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    expect(await peer.next(5000, "the expiry note")).toEqual({ message: "NOTE", text: "expired" });
    await eventually(() => modelled.size === 1, 5000, "the session to end");
    expect(modelled.get(1)).toEqual({ reason: "terminated" });

    const closing = new Map<number, SessionEnding<DynamicMessage>>();
    const closed = await startServer(resources, "plain_server.xml", recording(closing), { logger: testLogger });
    await makePeer(resources, closed.endpoint).request({ message: "HELLO", name: "Ada" });
    await closed.server.close();
    expect(closing.get(1)).toEqual({ reason: "server closing" });
  });

  /**
   * Sends NOTEs to a peer's session until one cannot be delivered and the session ends; returns the texts
   * sent. Each waits for the one before to be handed to ZeroMQ, so the last sent is the one that failed.
   */
  async function sendUntilEnded(server: TestServer<object>, routingId: Buffer, ended: () => boolean): Promise<string[]> {
    const sent: string[] = [];
    for (let i = 0; !ended(); i++) {
      if (i === 10_000) throw new Error("the session never ended");
      sent.push(`note ${i}`);
      server.sendTo(routingId, { message: "NOTE", text: `note ${i}` });
      await settled();
    }
    return sent;
  }

  it("says the client disconnected, with the message that found it gone", async () => {
    const endings = new Map<number, SessionEnding<DynamicMessage>>();
    let routingId: Buffer | undefined;
    const { server, endpoint } = await startServer(resources, "plain_server.xml", {
      ...recording(endings),
      greet: (ctx) => { routingId = ctx.routingId; },
    }, { logger: testLogger });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    peer.close();
    const sent = await sendUntilEnded(server, routingId as Buffer, () => endings.size > 0);
    expect(endings.get(1)).toEqual({ reason: "disconnected", undelivered: { message: "NOTE", text: sent.at(-1) } });
  });

  it("says the client does not read, with the message that found its queue full", async () => {
    const endings = new Map<number, SessionEnding<DynamicMessage>>();
    let routingId: Buffer | undefined;
    const server = makeServer(resources, "plain_server.xml", {
      ...recording(endings),
      greet: (ctx) => { routingId = ctx.routingId; },
    }, { logger: testLogger, sendHighWaterMark: 1 });
    // Over inproc the queue is the ROUTER's high-water mark plus the peer's: two messages.
    const endpoint = `inproc://session-endings-${process.pid}`;
    await server.bind(endpoint);
    const reader = resources.add(new Dealer({ linger: 0, receiveHighWaterMark: 1 }), (socket) => socket.close());
    reader.connect(endpoint);
    await reader.send(engineCodec().encode({ message: "HELLO", name: "Ada" }));
    await eventually(() => routingId !== undefined, 5000, "HELLO");
    // The WORLD answering HELLO is the first message it does not read.
    const sent = await sendUntilEnded(server, routingId as Buffer, () => endings.size > 0);
    expect(endings.get(1)).toEqual({ reason: "not reading", undelivered: { message: "NOTE", text: sent.at(-1) } });
  });
});
