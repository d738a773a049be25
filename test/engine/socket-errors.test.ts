/**
 * Errors that used to surface only as timeouts: a client past its ZeroMQ context's socket limit, or given an
 * endpoint that is not one or names a host that does not exist, now fails at once with a `SocketError`
 * carrying the cause, and a server whose process is at the limit goes on serving the clients it has. The
 * limit itself is an option: the `context` given to servers and clients, with its `maxSockets`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Context, Dealer } from "zeromq";
import { connectHello } from "../../protocols/hello/client.js";
import { createHelloServer } from "../../protocols/hello/server.js";
import { ActionFailed, SocketError } from "../../runtime/engine/errors.js";
import { testLogger } from "../support/engines.js";
import { Resources, delay, outcome } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

/** The error a call rejected with, or the cause of the ActionFailed it rejected with. */
function socketErrorOf(error: unknown): SocketError {
  const cause = error instanceof ActionFailed ? error.cause : error;
  expect(cause).toBeInstanceOf(SocketError);
  return cause as SocketError;
}

describe("the socket limit", () => {
  it("a client past its context's maxSockets fails at once with EMFILE, the server serves on, and a closed socket frees a place", async () => {
    const context = new Context({ maxSockets: 6 });
    const server = resources.add(createHelloServer({ logger: testLogger, context }), (s) => s.close(), "server");
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const first = resources.add(await connectHello(endpoint, "Ada", { logger: testLogger, context }), (c) => c.close({ timeout: 200 }));
    // Take every place left: the server's ROUTER and the client's DEALER hold two of the six.
    const fillers: Dealer[] = [];
    resources.add(fillers, (all) => all.forEach((socket) => socket.close()));
    for (;;) {
      try {
        fillers.push(new Dealer({ context, linger: 0 }));
      } catch {
        break;
      }
    }
    expect(fillers.length).toBe(4);
    const refused = await outcome(connectHello(endpoint, "Grace", { logger: testLogger, context, timeout: 20_000 }));
    // Not a TimeoutError after 20 s: the real cause, typed.
    const error = socketErrorOf(refused.error);
    expect(error).toMatchObject({ operation: "open", code: "EMFILE" });
    expect(error.message).toMatch(/maxSockets/);
    expect(await first.greet("Ada")).toBe("Hello again, Ada!");
    // A closed socket's place comes back once libzmq's reaper has released it, a moment later.
    fillers.pop()?.close();
    let second: Awaited<ReturnType<typeof connectHello>> | undefined;
    const deadline = Date.now() + 5000;
    while (second === undefined && Date.now() < deadline) {
      second = await connectHello(endpoint, "Grace", { logger: testLogger, context }).catch(() => delay(10).then(() => undefined));
    }
    expect(second?.connected).toBe(true);
    await second?.close({ timeout: 200 });
  });
});

describe("endpoints that cannot work", () => {
  it.each([["foo", "EINVAL"], ["", "EINVAL"], ["tcp://127.0.0.1:", "EINVAL"]])("create(%j) fails at once with %s", async (endpoint, code) => {
    const refused = await outcome(connectHello(endpoint, "Ada", { logger: testLogger, timeout: 20_000 }));
    expect(refused.error).toBeInstanceOf(ActionFailed);
    expect(socketErrorOf(refused.error)).toMatchObject({ operation: "connect", endpoint, code });
  });

  it("create() to a host that does not resolve fails as soon as the lookup does, with ENOTFOUND", async () => {
    const endpoint = "tcp://no-such-host.invalid:5555";
    const refused = await outcome(connectHello(endpoint, "Ada", { logger: testLogger, timeout: 20_000 }));
    expect(socketErrorOf(refused.error)).toMatchObject({ operation: "connect", endpoint, code: "ENOTFOUND" });
  });

  it("a server's bind of an endpoint that is not one fails at once with a SocketError", async () => {
    const server = resources.add(createHelloServer({ logger: testLogger }), (s) => s.close(), "server");
    const refused = await outcome(server.bind("foo", { timeout: 20_000 }));
    expect(socketErrorOf(refused.error)).toMatchObject({ operation: "bind", endpoint: "foo", code: "EINVAL" });
  });
});
