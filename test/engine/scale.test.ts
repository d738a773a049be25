/**
 * Load and recovery on real sockets: a thousand concurrent peers, and a hello client that outlives a server
 * restart on the same port (`spec/models.md` §5.1: heartbeats are the client's, expiry the server's).
 */
import { afterEach, describe, expect, it } from "vitest";
import { Context, Dealer } from "zeromq";
import { connectHello } from "../../protocols/hello/client.js";
import { createHelloServer } from "../../protocols/hello/server.js";
import { eventually, testLogger } from "../support/engines.js";
import { Resources, bindFixedPort, engineCodec, startServer, textOf, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

describe("many peers", () => {
  it("serves 1,000 concurrent DEALERs, each greeted under its own name, then lets them all go", { timeout: 20_000 }, async () => {
    const PEERS = 1000;
    let greeted = 0;
    const impl: ServerImpl<{ name: string }> = {
      createClient: () => ({ name: "" }),
      greet(ctx) {
        greeted++;
        ctx.client.name = String(ctx.request.name);
        ctx.reply.text = `hi ${ctx.client.name}`;
      },
    };
    const { server, endpoint } = await startServer(resources, "plain_server.xml", impl, { logger: testLogger });
    const codec = engineCodec();
    // The peers get their own ZeroMQ context: the default one allows 1,023 sockets in all.
    const context = new Context({ maxSockets: PEERS + 16 });
    const peers = resources.add(Array.from({ length: PEERS }, () => new Dealer({ context, linger: 0 })), (all) => {
      for (const peer of all) if (!peer.closed) peer.close();
    });
    const started = Date.now();
    for (const peer of peers) peer.connect(endpoint);
    const answers = await Promise.all(peers.map(async (peer, index) => {
      await peer.send(codec.encode({ message: "HELLO", name: `peer ${index}` }));
      return codec.decode(await peer.receive());
    }));
    const elapsed = Date.now() - started;
    answers.forEach((answer, index) => {
      expect(answer.message).toBe("WORLD");
      expect(textOf(answer)).toBe(`hi peer ${index}`);
    });
    expect(greeted).toBe(PEERS);
    expect(server.clientCount).toBe(PEERS);
    expect(elapsed).toBeLessThan(10_000);
    // Every session is still usable after the rush.
    const sample = [0, 499, 999];
    const pongs = await Promise.all(sample.map(async (index) => {
      await peers[index].send(codec.encode({ message: "PING" }));
      return codec.decode(await peers[index].receive()).message;
    }));
    expect(pongs).toEqual(["PONG", "PONG", "PONG"]);
    // The server goes first: closing it right after a thousand disconnects would hit the unbind abort.
    await server.close();
    expect(server.clientCount).toBe(0);
    for (const peer of peers) peer.close();
  });
});

describe("server restart", () => {
  it("a hello client notices the server is gone and greets the new server on the same port", async () => {
    const first = resources.add(createHelloServer({ logger: testLogger }), (server) => server.close(), "server");
    const endpoint = await bindFixedPort((candidate) => first.bind(candidate));
    const client = resources.add(await connectHello(endpoint, "Ada", { logger: testLogger, heartbeat: 50, expiry: 250, timeout: 2000 }), (c) => c.close({ timeout: 200 }));
    expect(client.connected).toBe(true);
    expect(await client.greet("Ada")).toBe("Hello again, Ada!");
    await first.close();
    // Two silent periods: the first reconnects, the second (still no WORLD) reports the failure.
    await eventually(() => !client.connected, 3000, "the client to notice the server is gone");
    const second = resources.add(createHelloServer({ logger: testLogger }), (server) => server.close(), "server");
    expect(await second.bind(endpoint)).toBe(endpoint);
    await eventually(() => client.connected, 3000, "the client to greet the new server");
    expect(second.clientCount).toBeGreaterThanOrEqual(1);
    // The new server knows this client only from its HELLO after the restart.
    expect(await client.greet("Ada")).toBe("Hello again, Ada!");
    expect(client.terminated).toBe(false);
  });
});
