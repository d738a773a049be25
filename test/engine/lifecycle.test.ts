/**
 * What happens around the end of a session or of an engine while something is still under way: an action
 * awaiting a promise when its context ends, a start() overtaken by close(), a second close() during the first,
 * a decoder that fails in a way it should not, and work an action left running that acts after everything
 * closed. Nothing may run, send or keep the process alive after the end.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EngineClosed } from "../../runtime/engine/errors.js";
import { ClientEngine } from "../../runtime/engine/client.js";
import type { FrameCodec } from "../../runtime/wire/codec.js";
import type { DynamicMessage } from "../../runtime/wire/interpret.js";
import { MemoryLogger, testLogger } from "../support/engines.js";
import {
  Resources, loadMachine, makeClient, makePeer, makeServer, methodTable, runChild, settled, startRawServer, startServer, textOf,
  type ClientArgs, type ClientImpl, type ClientReplies, type Ctx, type EngineFields,
} from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("an action still awaiting when its context ends", () => {
  it("on a server: no later action, send or state change runs once the session ended", async () => {
    const held = gate();
    const returned = gate();
    const traced: string[] = [];
    const terminated: string[] = [];
    let context: Ctx<object> | undefined;
    const { server, endpoint } = await startServer<object>(resources, "plain_server.xml", {
      createClient: () => ({}),
      clientTerminated: (ctx) => terminated.push(ctx.state),
      async greet(ctx) {
        context = ctx;
        await held.opened;
        ctx.reply.text = "too late";
        returned.open();
      },
    }, { logger: testLogger, config: { "server/timeout": 200 }, traceMessages: (direction, message) => traced.push(`${direction} ${message.message}`) });
    const peer = makePeer(resources, endpoint);
    await peer.send({ message: "HELLO", name: "Ada" });
    // plain_server has no `expired` handler: the silent peer's session ends while greet still waits.
    await expect.poll(() => terminated, { timeout: 5000 }).toEqual(["start"]);
    expect(server.clientCount).toBe(0);
    held.open();
    await returned.opened;
    await settled();
    expect(traced).toEqual(["received HELLO"]);
    expect(context?.state).toBe("start");
    expect(peer.unread).toBe(0);
  });

  it("on a client: close() stops the event at the action that waits", async () => {
    const entered = gate();
    const held = gate();
    const returned = gate();
    const answered: string[] = [];
    const server = await startRawServer(resources);
    const client = makeClient<object>(resources, "test_client.xml", {
      createClient: () => ({}),
      connectToServer: (ctx) => ctx.connect(ctx.args.endpoint ?? ""),
      signalSuccess: (ctx) => ctx.reply("SUCCESS", { text: "" }),
      async deliverNote() {
        entered.open();
        await held.opened;
        returned.open();
      },
      answerNote: (ctx) => void answered.push(textOf(ctx.request)),
    }, { logger: testLogger });
    await client.start({ endpoint: server.endpoint });
    const hello = await server.nextOf("HELLO");
    await server.send(hello.routingId, { message: "NOTE", text: "first" });
    await entered.opened;
    await client.close({ timeout: 500 });
    held.open();
    await returned.opened;
    await settled();
    expect(answered).toEqual([]);
  });
});

describe("start and close", () => {
  it("a close() right after start() stops the start: no configuration is put in force after the server ended", async () => {
    const hooks: string[] = [];
    const server = makeServer<object>(resources, "plain_server.xml", {
      createClient: () => ({}),
      serverConfigured: () => void hooks.push("serverConfigured"),
      serverTerminated: () => void hooks.push("serverTerminated"),
    }, { logger: testLogger, config: { "plain_server/bind/endpoint": "tcp://127.0.0.1:*" } });
    const starting = server.start();
    await server.close();
    await expect(starting).rejects.toBeInstanceOf(EngineClosed);
    await settled();
    expect(hooks).toEqual(["serverTerminated"]);
    expect(server.port).toBeUndefined();
  });

  it("a second close() of a client resolves only once the client is closed", async () => {
    const destructor = gate();
    const terminated: string[] = [];
    const server = await startRawServer(resources);
    const client = makeClient<object>(resources, "test_client.xml", {
      createClient: () => ({}),
      terminated: (ctx) => void terminated.push(ctx.state),
      connectToServer: (ctx) => ctx.connect(ctx.args.endpoint ?? ""),
      async signalSuccess(ctx) {
        // The destructor's event waits here.
        if (ctx.event === "destructor") await destructor.opened;
        ctx.reply("SUCCESS", { text: "" });
      },
    }, { logger: testLogger });
    await client.start({ endpoint: server.endpoint });
    const first = client.close({ timeout: 5000 });
    let secondDone = false;
    const second = client.close().then(() => (secondDone = true));
    await server.nextOf("STOP");
    await settled();
    expect(secondDone).toBe(false);
    destructor.open();
    await Promise.all([first, second]);
    expect(terminated).toEqual(["connected"]);
    await expect(client.recv({ timeout: 100 })).rejects.toBeInstanceOf(EngineClosed);
  });
});

describe("a decoder that throws something other than MalformedError", () => {
  it("costs the client that message only: it goes on receiving", async () => {
    const { ir, table, codec } = loadMachine("test_client.xml");
    const brittle: FrameCodec<DynamicMessage, DynamicMessage> = {
      encode: (message) => codec.encode(message),
      decode(frames) {
        if (Buffer.from(frames[0]).toString() === "boom") throw new TypeError("a bug in the decoder");
        return codec.decode(frames);
      },
    };
    const logger = new MemoryLogger();
    const impl: ClientImpl<object> = {
      createClient: () => ({}),
      connectToServer: (ctx) => ctx.connect(ctx.args.endpoint ?? ""),
      signalSuccess: (ctx) => ctx.reply("SUCCESS", { text: "" }),
      deliverNote: (ctx) => ctx.deliver("NOTE", { text: textOf(ctx.request) }),
      answerNote: () => undefined,
    };
    class BrittleClient extends ClientEngine<DynamicMessage, EngineFields, string, object, ClientArgs, ClientReplies> {
      constructor() {
        super(table, brittle, methodTable(ir), impl, { logger });
      }
      start(endpoint: string): Promise<void> {
        return this.construct({ endpoint });
      }
    }
    const server = await startRawServer(resources);
    const client = resources.add(new BrittleClient(), (c) => c.close({ timeout: 200 }));
    await client.start(server.endpoint);
    const { routingId } = await server.nextOf("HELLO");
    await server.socket.send([routingId, Buffer.from("boom")]);
    await server.send(routingId, { message: "NOTE", text: "still here" });
    expect(await client.recv({ timeout: 5000 })).toEqual({ message: "NOTE", text: "still here" });
    expect(logger.messages("error")).toEqual([expect.stringMatching(/^decoder failed unexpectedly; message dropped: TypeError: a bug in the decoder/)]);
  });
});

describe("work an action left running, acting after everything closed", () => {
  it("arms no timer, opens no socket and lets the process exit", async () => {
    const result = await runChild("exit-after-close.ts", [], 20_000);
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.output.trim()).toBe("closed");
  });
});
