/** The tutorial protocol end to end on real sockets: generated server and client, hand-written actions. */
import { afterEach, describe, expect, it } from "vitest";
import { connectHello } from "../protocols/hello/client.js";
import { createHelloServer, helloServerActions } from "../protocols/hello/server.js";
import { HelloServer } from "../generated/hello/hello_server.js";
import type { ServerEngine } from "../runtime/engine/server.js";
import { eventually, testLogger } from "./support/engines.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function startServer(timeout = 60_000): Promise<{ server: ServerEngine<never, object, string, unknown>; endpoint: string }> {
  const server = createHelloServer({ logger: testLogger, config: { "server/timeout": timeout } });
  closers.push(() => server.close());
  const endpoint = await server.bind("tcp://127.0.0.1:*");
  return { server: server as unknown as ServerEngine<never, object, string, unknown>, endpoint };
}

describe("hello protocol", () => {
  it("greets, greets again under another name, and closes", async () => {
    const { server, endpoint } = await startServer();
    const client = await connectHello(endpoint, "Ada", { logger: testLogger });
    closers.push(() => client.close());
    expect(client.connected).toBe(true);
    expect(await client.greet("Grace")).toBe("Hello again, Grace!");
    expect(server.clientCount).toBe(1);
    await client.close();
    expect(client.terminated).toBe(true);
  });

  it("keeps the session alive with PING and recovers after a server restart", async () => {
    const first = await startServer();
    const client = await connectHello(first.endpoint, "Ada", { logger: testLogger, heartbeat: 50, expiry: 300 });
    closers.push(() => client.close());
    const port = first.endpoint;
    await first.server.close();
    let greeted = 0;
    const second = new HelloServer({ ...helloServerActions, greetTheClient: (ctx) => { helloServerActions.greetTheClient(ctx); greeted++; } }, { logger: testLogger });
    closers.push(() => second.close());
    await second.bind(port);
    // The client finds out (INVALID for its PING, or silence) and greets the new server by itself.
    await eventually(() => greeted >= 1 && client.state === "connected", 5000, "the client to greet the new server");
    expect(await client.greet("Grace")).toMatch(/^Hello( again)?, Grace!$/);
  });
});
