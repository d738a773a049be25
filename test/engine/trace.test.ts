/**
 * The engines' traceMessages option: it sees every message a server or client receives and sends, with the
 * peer's routing id on a server, and a tracer that throws changes nothing but a log line.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connectHello } from "../../protocols/hello/client.js";
import { createHelloServer } from "../../protocols/hello/server.js";
import type { TraceDirection } from "../../runtime/engine/trace.js";
import { MemoryLogger, testLogger } from "../support/engines.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

type Seen = [TraceDirection, string, string | undefined];

describe("traceMessages", () => {
  it("sees what a server and a client receive and send", async () => {
    const serverSeen: Seen[] = [];
    const clientSeen: Seen[] = [];
    const server = createHelloServer({ logger: testLogger, traceMessages: (direction, message, routingId) => serverSeen.push([direction, message.message, routingId?.toString("hex")]) });
    closers.push(() => server.close());
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const client = await connectHello(endpoint, "Ada", { logger: testLogger, traceMessages: (direction, message, routingId) => clientSeen.push([direction, message.message, routingId?.toString("hex")]) });
    closers.push(() => client.close());
    expect(clientSeen).toEqual([["sent", "HELLO", undefined], ["received", "WORLD", undefined]]);
    expect(serverSeen.map(([direction, message]) => [direction, message])).toEqual([["received", "HELLO"], ["sent", "WORLD"]]);
    expect(serverSeen[0][2]).toMatch(/^[0-9a-f]{10}$/);
    expect(serverSeen[1][2]).toBe(serverSeen[0][2]);
  });

  it("logs a tracer that throws and goes on", async () => {
    const log = new MemoryLogger();
    const server = createHelloServer({ logger: log, traceMessages: () => { throw new Error("tracer broke"); } });
    closers.push(() => server.close());
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const client = await connectHello(endpoint, "Ada", { logger: testLogger });
    closers.push(() => client.close());
    expect(client.connected).toBe(true);
    expect(log.messages("warn")).toContain("message tracer failed: tracer broke");
  });
});
