/**
 * Transport security on real sockets: CURVE with and without a client allow-list, PLAIN with an async
 * verifier, both decided by the process's ZAP handler. A refused peer delivers no message, a refused client
 * learns it at once (not as a timeout), and no secret appears in any log line.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Dealer, Router, curveKeyPair } from "zeromq";
import { connectHello } from "../../protocols/hello/client.js";
import { helloServerActions } from "../../protocols/hello/server.js";
import { HelloServer } from "../../generated/hello/hello_server.js";
import { codec as helloCodec } from "../../generated/hello/hello_msg.js";
import { SocketError } from "../../runtime/engine/errors.js";
import type { ClientSecurity, ServerSecurity } from "../../runtime/engine/security.js";
import { ZAP_ENDPOINT } from "../../runtime/engine/zap.js";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import { Resources, delay, outcome } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

/** A hello server that counts the HELLOs it was given, with its log kept. */
async function securedServer(security: ServerSecurity): Promise<{ endpoint: string; greeted: () => number; logger: MemoryLogger }> {
  let greeted = 0;
  const logger = new MemoryLogger();
  const server = resources.add(new HelloServer({
    ...helloServerActions,
    greetTheClient(ctx) {
      greeted++;
      helloServerActions.greetTheClient(ctx);
    },
  }, { logger, security }), (s) => s.close(), "server");
  const endpoint = await server.bind("tcp://127.0.0.1:*");
  return { endpoint, greeted: () => greeted, logger };
}

/**
 * Binds a ROUTER of the test's own to the ZAP endpoint, as an application's handler would, trying for up to 5 s
 * (a handler that just closed releases the endpoint a moment later); kept open until teardown.
 */
async function bindZapEndpoint(): Promise<boolean> {
  const own = resources.add(new Router({ linger: 0 }), (s) => s.close());
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (await own.bind(ZAP_ENDPOINT).then(() => true, () => false)) return true;
    await delay(20);
  }
  return false;
}

/** The first handshake failure a socket reports (its monitor events), within 10 s. */
async function handshakeFailure(socket: Dealer): Promise<string> {
  const deadline = setTimeout(() => socket.events.close(), 10_000);
  try {
    for await (const event of socket.events) if (event.type.startsWith("handshake:error")) return event.type;
  } finally {
    clearTimeout(deadline);
  }
  return "no handshake failure within 10 s";
}

function connect(endpoint: string, name: string, security: ClientSecurity | undefined, logger = testLogger): ReturnType<typeof connectHello> {
  return connectHello(endpoint, name, { logger, ...(security !== undefined ? { security } : {}), timeout: 20_000 }).then((client) =>
    resources.add(client, (c) => c.close({ timeout: 200 })));
}

/** How a refused client call ends: a SocketError for the handshake, well before its 20 s timeout. */
function expectRefused(error: unknown): void {
  expect(error).toBeInstanceOf(SocketError);
  expect(error).toMatchObject({ operation: "handshake" });
}

describe("CURVE", () => {
  it("lets in the clients on the allow-list and refuses an unknown key before any message is delivered", async () => {
    const serverKeys = curveKeyPair();
    const known = curveKeyPair();
    const { endpoint, greeted, logger } = await securedServer({ mechanism: "curve", ...serverKeys, allow: [known.publicKey] });
    const client = await connect(endpoint, "Ada", { mechanism: "curve", serverKey: serverKeys.publicKey, ...known });
    expect(await client.greet("Ada")).toBe("Hello again, Ada!");
    expect(greeted()).toBe(2);

    const stranger = curveKeyPair();
    const refused = await outcome(connect(endpoint, "Mallory", { mechanism: "curve", serverKey: serverKeys.publicKey, ...stranger }));
    expectRefused(refused.error);
    // A raw peer with an unknown key that keeps sending gets nothing through either.
    const raw = resources.add(new Dealer({ linger: 0, curveServerKey: serverKeys.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey }), (s) => s.close());
    raw.connect(endpoint);
    void raw.send(helloCodec.encode({ message: "HELLO", name: "Mallory" }));
    await eventually(() => logger.messages("info").some((line) => line.startsWith("handshake refused: CURVE peer at 127.0.0.1")), 5000, "the refusal to be logged");
    await delay(200);
    expect(greeted()).toBe(2);
    // The log names the refused key (public), never a secret one.
    const log = JSON.stringify(logger.lines);
    expect(log).toContain(stranger.publicKey);
    for (const secret of [serverKeys.secretKey, known.secretKey, stranger.secretKey]) expect(log).not.toContain(secret);
  });

  it("tells onConnectionFailed about a refused handshake, for clients that keep no call waiting", async () => {
    const serverKeys = curveKeyPair();
    const { endpoint } = await securedServer({ mechanism: "curve", ...serverKeys, allow: [] });
    const failures: unknown[] = [];
    const refused = await outcome(connectHello(endpoint, "Mallory", {
      logger: testLogger, timeout: 20_000, security: { mechanism: "curve", serverKey: serverKeys.publicKey }, onConnectionFailed: (error) => failures.push(error),
    }));
    expectRefused(refused.error);
    expect(failures.length).toBeGreaterThan(0);
    expectRefused(failures[0]);
  });

  it("without an allow-list lets in any client that knows the server's key, and refuses a client without CURVE", async () => {
    const serverKeys = curveKeyPair();
    const { endpoint, greeted } = await securedServer({ mechanism: "curve", ...serverKeys });
    // The client gets a fresh key pair of its own.
    const client = await connect(endpoint, "Ada", { mechanism: "curve", serverKey: serverKeys.publicKey });
    expect(client.connected).toBe(true);
    const plain = resources.add(new Dealer({ linger: 0 }), (s) => s.close());
    const refused = handshakeFailure(plain);
    plain.connect(endpoint);
    void plain.send(helloCodec.encode({ message: "HELLO", name: "Eve" }));
    // The mechanisms differ (NULL against CURVE): the handshake fails, so the HELLO can never be delivered.
    expect(await refused).toBe("handshake:error:protocol");
    expect(greeted()).toBe(1);
  });

  it("decides each server's handshakes by its own allow-list", async () => {
    const [keysA, keysB, clientA, clientB] = [curveKeyPair(), curveKeyPair(), curveKeyPair(), curveKeyPair()];
    const a = await securedServer({ mechanism: "curve", ...keysA, allow: [clientA.publicKey] });
    const b = await securedServer({ mechanism: "curve", ...keysB, allow: [clientB.publicKey] });
    expect((await connect(a.endpoint, "A", { mechanism: "curve", serverKey: keysA.publicKey, ...clientA })).connected).toBe(true);
    expect((await connect(b.endpoint, "B", { mechanism: "curve", serverKey: keysB.publicKey, ...clientB })).connected).toBe(true);
    expectRefused((await outcome(connect(a.endpoint, "B at A", { mechanism: "curve", serverKey: keysA.publicKey, ...clientB }))).error);
    expect([a.greeted(), b.greeted()]).toEqual([1, 1]);
  });

  it("refuses keys that are not Z85 CURVE keys without echoing them", () => {
    const keys = curveKeyPair();
    const secret = "not-a-key-but-secret";
    expect(() => new HelloServer(helloServerActions, { logger: testLogger, security: { mechanism: "curve", publicKey: keys.publicKey, secretKey: secret } }))
      .toThrow(/^security\.secretKey must be a CURVE key in Z85 \(40 characters\)$/);
    expect(() => new HelloServer(helloServerActions, { logger: testLogger, security: { mechanism: "curve", ...keys, allow: ["short"] } }))
      .toThrow(/security\.allow\[0\] must be a CURVE public key/);
  });
});

describe("PLAIN", () => {
  it("asks the verifier, with the peer's address, and lets in only whom it accepts", async () => {
    const asked: string[] = [];
    const { endpoint, greeted, logger } = await securedServer({
      mechanism: "plain",
      async verify(username, password, peerAddress) {
        asked.push(`${username}@${peerAddress}`);
        await delay(10);
        return username === "ada" && password === "correct horse";
      },
    });
    const client = await connect(endpoint, "Ada", { mechanism: "plain", username: "ada", password: "correct horse" });
    expect(await client.greet("Ada")).toBe("Hello again, Ada!");
    expectRefused((await outcome(connect(endpoint, "Ada", { mechanism: "plain", username: "ada", password: "battery staple" }))).error);
    expect(asked).toContain("ada@127.0.0.1");
    expect(greeted()).toBe(2);
    expect(JSON.stringify(logger.lines)).not.toMatch(/correct horse|battery staple/);
  });

  it("refuses the handshake (ZAP 500) when the verifier fails, and logs it without the credentials", async () => {
    const { endpoint, greeted, logger } = await securedServer({
      mechanism: "plain",
      verify: () => Promise.reject(new Error("user store unreachable")),
    });
    expectRefused((await outcome(connect(endpoint, "Ada", { mechanism: "plain", username: "ada", password: "hunter2" }))).error);
    await eventually(() => logger.messages("error").some((line) => /handshake of the PLAIN peer at 127\.0\.0\.1 not decided \(answered 500\): user store unreachable/.test(line)), 5000, "the failure to be logged");
    expect(JSON.stringify(logger.lines)).not.toContain("hunter2");
    expect(greeted()).toBe(0);
  });

  it("refuses the handshake when the verifier does not answer within verifyTimeout, and lets the next one in", async () => {
    let calls = 0;
    const { endpoint, greeted, logger } = await securedServer({
      mechanism: "plain",
      verifyTimeout: 300,
      // The first verification never settles (a user store that hangs); the next ones answer.
      verify: (username) => (++calls === 1 ? new Promise<boolean>(() => undefined) : Promise.resolve(username === "ada")),
    });
    const started = Date.now();
    expectRefused((await outcome(connect(endpoint, "Ada", { mechanism: "plain", username: "ada", password: "pw" }))).error);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(logger.messages("error")).toContainEqual(expect.stringMatching(/^handshake of the PLAIN peer at 127\.0\.0\.1 not decided \(answered 500\): ZAP decision timed out after 300 ms$/));
    const client = await connect(endpoint, "Ada", { mechanism: "plain", username: "ada", password: "pw" });
    expect(await client.greet("Ada")).toBe("Hello again, Ada!");
    expect(greeted()).toBe(2);
  });
});

describe("the ZAP handler", () => {
  it("is opened by a secured server's start, not its construction: a server never started holds nothing open", async () => {
    const idle = resources.add(new HelloServer(helloServerActions, { logger: testLogger, security: { mechanism: "curve", ...curveKeyPair() } }), (s) => s.close(), "server");
    // The handler of an earlier test's server may still be letting go of the endpoint: that takes a moment.
    expect(await bindZapEndpoint()).toBe(true);
    await idle.close();
  });

  it("closes with the last secured server, and a server refuses to start while another ZAP handler holds the endpoint", async () => {
    const keys = curveKeyPair();
    const server = new HelloServer(helloServerActions, { logger: testLogger, security: { mechanism: "curve", ...keys } });
    await server.bind("tcp://127.0.0.1:*");
    await server.close();
    // The endpoint is free again: an application's own handler can bind it.
    expect(await bindZapEndpoint()).toBe(true);
    const blocked = resources.add(new HelloServer(helloServerActions, { logger: testLogger, security: { mechanism: "curve", ...keys } }), (s) => s.close(), "server");
    const refused = await outcome(blocked.bind("tcp://127.0.0.1:*", { timeout: 10_000 }));
    expect(refused.error).toBeInstanceOf(SocketError);
    expect(refused.error).toMatchObject({ operation: "bind", endpoint: ZAP_ENDPOINT, code: "EADDRINUSE" });
  });
});
