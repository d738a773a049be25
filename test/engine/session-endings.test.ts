/**
 * How the end of a peer's session is logged: what ended (the session of client N) and why, in plain words
 * (issue: the server logged `client server closed`).
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryLogger, eventually } from "../support/engines.js";
import { Resources, makePeer, startServer, type ServerImpl } from "./support.js";

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
