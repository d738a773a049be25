/**
 * The frame limit (issue: a frame of 2^32+1 octets aborted the process in zeromq.js 6.8.0): every server
 * ROUTER and client DEALER has a finite `maxMessageSize`, from the options, else the model's
 * `max_message_size`, else 1 MiB, so a peer announcing a larger frame is disconnected at the frame header.
 * The oversized frames are announced by a hand-written ZMTP peer that sends the header and a little data,
 * never the 4 GiB.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadModel } from "../../generator/model.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../../runtime/engine/limits.js";
import { eventually, testLogger } from "../support/engines.js";
import { MODELS, Resources, engineCodec, loadMachine, makeClient, makePeer, makeServer, startServer, textOf, type ServerImpl } from "./support.js";
import { RawZmtpServer, connectRaw, longFrameHeader, type RawZmtp } from "./zmtp.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

const greeter: ServerImpl<object> = {
  createClient: () => ({}),
  greet(ctx) {
    ctx.reply.text = `hi ${String(ctx.request.name)}`;
  },
};

const FOUR_GIB_AND_ONE = 2n ** 32n + 1n;

async function rawPeer(endpoint: string): Promise<RawZmtp> {
  const port = Number(/:(\d+)$/.exec(endpoint)?.[1]);
  return resources.add(await connectRaw(port), (peer) => peer.close());
}

/** A HELLO over a raw connection, answered with WORLD: the connection is alive and served. */
async function greetOver(peer: RawZmtp, name: string): Promise<string> {
  const codec = engineCodec();
  peer.sendMessage(codec.encode({ message: "HELLO", name }));
  const answer = codec.decode(await peer.nextMessage());
  expect(answer.message).toBe("WORLD");
  return textOf(answer);
}

describe("frame limit of servers", () => {
  it("disconnects a peer announcing a frame of 2^32+1 octets at the header, and goes on serving", async () => {
    const { endpoint } = await startServer(resources, "plain_server.xml", greeter, { logger: testLogger });
    const attacker = await rawPeer(endpoint);
    attacker.write(Buffer.concat([longFrameHeader(FOUR_GIB_AND_ONE), Buffer.alloc(100, 0x61)]));
    await attacker.waitClosed(5000);
    const peer = makePeer(resources, endpoint);
    expect(textOf(await peer.request({ message: "HELLO", name: "Ada" }))).toBe("hi Ada");
  });

  it("accepts frames up to the default limit of 1 MiB and refuses one octet more", async () => {
    const { endpoint } = await startServer(resources, "plain_server.xml", greeter, { logger: testLogger });
    const fits = await rawPeer(endpoint);
    // A frame of exactly the limit is read (and dropped as malformed): the connection goes on.
    fits.sendMessage([Buffer.alloc(DEFAULT_MAX_MESSAGE_SIZE)]);
    expect(await greetOver(fits, "Ada")).toBe("hi Ada");
    const over = await rawPeer(endpoint);
    over.write(Buffer.concat([longFrameHeader(BigInt(DEFAULT_MAX_MESSAGE_SIZE + 1)), Buffer.alloc(10)]));
    await over.waitClosed(5000);
  });

  it("takes the limit from the model's max_message_size, and from the options over the model", async () => {
    expect(loadMachine("limited_server.xml").table.maxMessageSize).toBe(2048);
    const byModel = await startServer(resources, "limited_server.xml", greeter, { logger: testLogger });
    const refused = await rawPeer(byModel.endpoint);
    refused.write(Buffer.concat([longFrameHeader(2049n), Buffer.alloc(10)]));
    await refused.waitClosed(5000);
    const accepted = await rawPeer(byModel.endpoint);
    accepted.sendMessage([Buffer.alloc(2048)]);
    expect(await greetOver(accepted, "Ada")).toBe("hi Ada");

    const byOption = await startServer(resources, "limited_server.xml", greeter, { logger: testLogger, maxMessageSize: 4096 });
    const larger = await rawPeer(byOption.endpoint);
    larger.sendMessage([Buffer.alloc(4096)]);
    expect(await greetOver(larger, "Grace")).toBe("hi Grace");
  });

  it("refuses limits it cannot honour", () => {
    for (const maxMessageSize of [0, 1023, 2 ** 31, 1.5, Number.POSITIVE_INFINITY]) {
      expect(() => makeServer(resources, "plain_server.xml", greeter, { logger: testLogger, maxMessageSize })).toThrow(/maxMessageSize must be an integer from 1024 to 2147483647/);
    }
  });

  it("reports a max_message_size outside 1024..2^31-1 at its position in the model", () => {
    const { diagnostics } = loadModel(`${MODELS}../bad_limits/small_limit_server.xml`);
    expect(diagnostics.map((diagnostic) => diagnostic.message)).toContainEqual(expect.stringMatching(/max_message_size="10" on <class> must be an integer from 1024 to 2147483647/));
  });
});

describe("frame limit of clients", () => {
  it("closes the connection when the server announces a frame of 2^32+1 octets", async () => {
    const server = resources.add(await RawZmtpServer.listen(), (s) => s.close(), "server");
    const client = makeClient(resources, "test_client.xml", { createClient: () => ({}), connectToServer: (ctx) => ctx.connect(server.endpoint), signalSuccess: (ctx) => ctx.reply("SUCCESS", { text: "" }) }, { logger: testLogger });
    await client.start({ endpoint: server.endpoint });
    await eventually(() => server.peers.length === 1, 5000, "the client to connect");
    const [connection] = server.peers;
    const hello = engineCodec().decode(await connection.nextMessage());
    expect(hello.message).toBe("HELLO");
    connection.write(Buffer.concat([longFrameHeader(FOUR_GIB_AND_ONE), Buffer.alloc(100)]));
    await connection.waitClosed(5000);
  });
});
