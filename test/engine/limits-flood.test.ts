/**
 * Peers that send but never read (issue: 1M HELLOs made the server queue replies without bound). Each peer's
 * queue in the ROUTER holds at most `sendHighWaterMark` messages (default 1000); a reply that finds it full
 * ends the peer's session and is dropped, so the server holds a bounded amount for it, and it serves the other
 * peers meanwhile. A peer's messages waiting for its own (slow) actions are bounded too (`clientQueueLimit`).
 */
import { afterEach, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { createHelloServer } from "../../protocols/hello/server.js";
import { codec as helloCodec } from "../../generated/hello/hello_msg.js";
import { DEFAULT_PEER_SEND_LIMIT } from "../../runtime/engine/limits.js";
import { MemoryLogger, eventually } from "../support/engines.js";
import { Resources, delay, makePeer, startServer, textOf, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

/** HELLOs the flooder sends; every one is answered with a WORLD of about 270 octets. */
const FLOOD = 60_000;

/** A DEALER that sends as fast as the server takes and reads nothing: its kernel buffer is tiny. */
function flooder(endpoint: string): Dealer {
  const socket = resources.add(new Dealer({ linger: 0, receiveHighWaterMark: 10, receiveBufferSize: 4096, sendHighWaterMark: 0 }), (s) => s.close());
  socket.connect(endpoint);
  return socket;
}

/**
 * Reads what `socket` has been sent: at least `atLeast` messages (waiting up to 30 s for them, however slow a
 * loaded machine is), then until nothing more comes for 500 ms; returns how many.
 */
async function drain(socket: Dealer, atLeast: number): Promise<number> {
  let received = 0;
  void (async () => {
    try {
      for await (const _ of socket) received++;
    } catch {
      // Closed by teardown.
    }
  })();
  await eventually(() => received >= atLeast, 30_000, `${atLeast} messages (${received} so far)`);
  let last = -1;
  while (received !== last) {
    last = received;
    await delay(500);
  }
  return received;
}

describe("a peer that sends without reading", () => {
  it("has its queue bounded and its session ended, while the server serves the others", async () => {
    const logger = new MemoryLogger();
    const server = resources.add(createHelloServer({ logger, config: { "server/timeout": 60_000 } }), (s) => s.close(), "server");
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const attacker = flooder(endpoint);
    const hello = helloCodec.encode({ message: "HELLO", name: "f".repeat(255) });
    const other = resources.add(new Dealer({ linger: 0 }), (s) => s.close());
    other.connect(endpoint);
    let greetedOther = 0;
    for (let i = 0; i < FLOOD; i++) {
      await attacker.send(hello);
      // Every 10,000 HELLOs another peer is greeted meanwhile.
      if (i % 10_000 === 0) {
        await other.send(helloCodec.encode({ message: "HELLO", name: `Ada ${i}` }));
        const answer = helloCodec.decode(await other.receive());
        expect(answer).toEqual({ message: "WORLD", greeting: i === 0 ? `Hello, Ada ${i}!` : `Hello again, Ada ${i}!` });
        greetedOther++;
      }
    }
    expect(greetedOther).toBe(FLOOD / 10_000);
    await eventually(() => logger.messages("warn").some((line) => /session ended: it does not read what the server sends \(1000 messages queued for it\)/.test(line)), 10_000, "the flooder's session to end");
    // What reached the flooder is what its queue and the kernel's buffers held, not the 60,000 replies.
    const received = await drain(attacker, DEFAULT_PEER_SEND_LIMIT);
    expect(received).toBeLessThan(FLOOD / 2);
    attacker.close();
    // The other peer's session is untouched.
    await other.send(helloCodec.encode({ message: "PING" }));
    expect(helloCodec.decode(await other.receive()).message).toBe("PONG");
  });

  it("sendHighWaterMark 0 lifts the bound, as the C engines have it", async () => {
    const server = resources.add(createHelloServer({ logger: new MemoryLogger(), sendHighWaterMark: 0 }), (s) => s.close(), "server");
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const attacker = flooder(endpoint);
    const hello = helloCodec.encode({ message: "HELLO", name: "f".repeat(255) });
    const count = 20_000;
    for (let i = 0; i < count; i++) await attacker.send(hello);
    expect(await drain(attacker, count)).toBe(count);
  });

  it("ends the session of a peer that left as soon as a message to it finds no connection", async () => {
    const logger = new MemoryLogger();
    const impl: ServerImpl<object> = {
      createClient: () => ({}),
      // Answers HELLO only after a while: the peer is gone by then.
      async greet(ctx) {
        await delay(300);
        ctx.reply.text = "late";
      },
    };
    const { server, endpoint } = await startServer(resources, "greeter_server.xml", impl, { logger });
    const peer = makePeer(resources, endpoint);
    await peer.send({ message: "HELLO", name: "Ada" });
    await eventually(() => server.clientCount === 1, 5000, "the session to start");
    peer.close();
    await eventually(() => server.clientCount === 0, 5000, "the session to end");
    expect(logger.messages("info")).toContainEqual(expect.stringMatching(/^client \d+: session ended: the client disconnected$/));
  });
});

describe("a peer whose messages pile up behind its slow actions", () => {
  it("has its messages dropped past clientQueueLimit, and its session goes on", async () => {
    const logger = new MemoryLogger();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const impl: ServerImpl<object> = {
      createClient: () => ({}),
      async greet(ctx) {
        await gate;
        ctx.reply.text = `hi ${String(ctx.request.name)}`;
      },
    };
    const { endpoint } = await startServer(resources, "greeter_server.xml", impl, { logger, clientQueueLimit: 5 });
    const peer = makePeer(resources, endpoint);
    for (let i = 0; i < 20; i++) await peer.send({ message: "HELLO", name: `n${i}` });
    await eventually(() => logger.messages("warn").some((line) => /5 of its messages already wait for its actions; message dropped/.test(line)), 5000, "messages to be dropped");
    release();
    // The first HELLO and the five queued behind it are answered; the rest were dropped.
    const texts: string[] = [];
    for (let i = 0; i < 6; i++) texts.push(textOf(await peer.next(5000)));
    expect(texts).toEqual(["hi n0", "hi n1", "hi n2", "hi n3", "hi n4", "hi n5"]);
    await delay(300);
    expect(peer.unread).toBe(0);
  });
});
