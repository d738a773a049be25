/**
 * Action failures are never silent: a send whose encoding fails because of the actions' values is an action
 * failure like any other (the `exception` event where the model has one, else an error naming action, message
 * and field); every failure reaches the `onActionFailed` option, which is how an action's author sees it in
 * tests; a client call waiting while an action fails ends at once with the failure as its cause, and the
 * machine goes on as the model says. The hello example itself greets every name HELLO can carry.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connectHello } from "../../protocols/hello/client.js";
import { createHelloServer } from "../../protocols/hello/server.js";
import { ActionFailed, MethodFailed } from "../../runtime/engine/errors.js";
import { EncodeError } from "../../runtime/wire/errors.js";
import { MemoryLogger, testLogger } from "../support/engines.js";
import { Resources, TestClient, makeClient, makePeer, startRawServer, startServer, textOf, type ClientImpl, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

/** Greets with a text that does not fit WORLD's 255-octet string once the name is long. */
function wordyGreeter(): ServerImpl<object> {
  return {
    createClient: () => ({}),
    greet(ctx) {
      ctx.reply.text = `Welcome, welcome, a thousand times welcome, ${String(ctx.request.name)}!`;
    },
    explainFailure(ctx) {
      const cause = ctx.failure?.cause;
      ctx.reply.text = `${ctx.failure?.action}: ${cause instanceof EncodeError ? `${cause.messageName}.${cause.field}` : "?"}`;
    },
  };
}

describe("servers: a send the actions' values cannot encode", () => {
  it("raises the model's exception event, which answers the client; onActionFailed sees the failure", async () => {
    const failures: ActionFailed[] = [];
    const logger = new MemoryLogger();
    const { server, endpoint } = await startServer(resources, "send_failure_server.xml", wordyGreeter(), { logger, onActionFailed: (failure) => failures.push(failure) });
    const peer = makePeer(resources, endpoint);
    const answer = await peer.request({ message: "HELLO", name: "x".repeat(240) });
    expect(answer.message).toBe("NOTE");
    expect(textOf(answer)).toBe("send WORLD: WORLD.text");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ name: "ActionFailed", action: "send WORLD", event: "hello", state: "start" });
    expect(failures[0].cause).toBeInstanceOf(EncodeError);
    expect(failures[0].cause).toMatchObject({ messageName: "WORLD", field: "text", kind: "TooLong" });
    // The log names the action, the message and the field.
    expect(logger.messages("error")).toEqual([expect.stringMatching(/^action send WORLD failed: engine_msg: WORLD\.text: string is 2\d\d octets; at most 255 fit$/)]);
    // The exception ran in the unchanged state; a short name is greeted as usual.
    expect(textOf(await peer.request({ message: "HELLO", name: "Ada" }))).toBe("Welcome, welcome, a thousand times welcome, Ada!");
    expect(server.clientCount).toBe(1);
  });

  it("without an exception event is logged naming action, message and field, and given to onActionFailed", async () => {
    const failures: ActionFailed[] = [];
    const logger = new MemoryLogger();
    const { endpoint } = await startServer(resources, "plain_server.xml", wordyGreeter(), { logger, onActionFailed: (failure) => failures.push(failure) });
    const peer = makePeer(resources, endpoint);
    await peer.send({ message: "HELLO", name: "y".repeat(240) });
    await expect.poll(() => failures.length).toBe(1);
    expect(failures[0].message).toMatch(/^action send WORLD failed \(state start, event hello\): engine_msg: WORLD\.text: /);
    expect(logger.lines.filter((line) => line.level === "error")).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^action send WORLD failed: engine_msg: WORLD\.text: /), fields: expect.objectContaining({ state: "start", event: "hello" }) }),
    ]);
  });

  it("logs what onActionFailed throws and goes on serving", async () => {
    const logger = new MemoryLogger();
    const { endpoint } = await startServer(resources, "send_failure_server.xml", wordyGreeter(), { logger, onActionFailed: () => { throw new Error("test hook"); } });
    const peer = makePeer(resources, endpoint);
    expect((await peer.request({ message: "HELLO", name: "z".repeat(240) })).message).toBe("NOTE");
    expect(logger.messages("error")).toContain("onActionFailed threw: test hook");
  });
});

describe("the hello example", () => {
  it("greets a name of 255 octets, the longest HELLO carries, cutting it to fit WORLD's 255-octet greeting", async () => {
    const failures: ActionFailed[] = [];
    const server = resources.add(createHelloServer({ logger: testLogger, onActionFailed: (failure) => failures.push(failure) }), (s) => s.close(), "server");
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const name = "é".repeat(127) + "x";
    expect(Buffer.byteLength(name)).toBe(255);
    const client = resources.add(await connectHello(endpoint, name, { logger: testLogger, timeout: 5000 }), (c) => c.close({ timeout: 200 }));
    const greeted = await client.greet(name);
    // "Hello again, " and "…!" take 17 octets: 119 two-octet characters of the name fit in the other 238.
    expect(greeted).toBe(`Hello again, ${"é".repeat(119)}…!`);
    expect(Buffer.byteLength(greeted)).toBe(255);
    expect(await client.greet("Ada")).toBe("Hello again, Ada!");
    expect(failures).toEqual([]);
  });

  it("refuses a name HELLO cannot carry at once, with the encoding error as the cause", async () => {
    const server = resources.add(createHelloServer({ logger: testLogger }), (s) => s.close(), "server");
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const error: unknown = await connectHello(endpoint, "n".repeat(256), { logger: testLogger, timeout: 10_000 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ActionFailed);
    expect(error).toMatchObject({ action: "send HELLO", cause: expect.objectContaining({ name: "EncodeError", messageName: "HELLO", field: "name" }) });
  });
});

describe("clients: an action that throws while a call waits", () => {
  interface State {
    notes: string[];
  }

  function impl(): ClientImpl<State> {
    return {
      createClient: () => ({ notes: [] }),
      connectToServer: (ctx) => ctx.connect(ctx.args.endpoint ?? ""),
      signalSuccess: (ctx) => ctx.reply("SUCCESS", { text: ctx.event }),
      slowReply() {
        throw new Error("the database is gone");
      },
      riskyWork(ctx) {
        if (ctx.args.text === "throw") throw new Error("risky work failed");
        ctx.reply("SUCCESS", { text: ctx.args.text ?? "" });
      },
      noteFailure: (ctx) => ctx.deliver("NOTE", { text: ctx.failure?.message ?? "" }),
      answerFailure: (ctx) => ctx.reply("FAILURE", { reason: `recovered from: ${ctx.failure?.cause instanceof Error ? ctx.failure.cause.message : ""}` }),
    };
  }

  async function connected(file: string): Promise<TestClient<State>> {
    const server = await startRawServer(resources);
    const client = makeClient(resources, file, impl(), { logger: testLogger, timeout: 10_000 });
    await client.start({ endpoint: server.endpoint });
    return client;
  }

  it("rejects the call at once with ActionFailed whose cause is the action's error", async () => {
    const client = await connected("test_client.xml");
    const error: unknown = await client.invoke("slow", { text: "x" }).catch((thrown: unknown) => thrown);
    // Not a TimeoutError after the call's 10 s: the failure ends the call.
    expect(error).toBeInstanceOf(ActionFailed);
    expect(error).toMatchObject({ action: "slowReply", event: "slow", state: "connected" });
    expect((error as ActionFailed).cause).toEqual(new Error("the database is gone"));
    // The client goes on: the next call runs.
    expect(await client.invoke("fire")).toBeUndefined();
    expect(client.state).toBe("connected");
  });

  it("goes on as the model says: the exception event runs, and a reply it gives answers the call", async () => {
    const client = await connected("exception_client.xml");
    const first: unknown = await client.invoke("risky", { text: "throw" }).catch((thrown: unknown) => thrown);
    expect(first).toBeInstanceOf(ActionFailed);
    expect(client.state).toBe("recovering");
    expect(textOf(await client.recv())).toMatch(/^action riskyWork failed \(state ready, event risky\): risky work failed$/);
    // In `recovering` the exception event answers the call with FAILURE: the model's reply wins.
    const second: unknown = await client.invoke("risky", { text: "throw" }).catch((thrown: unknown) => thrown);
    expect(second).toBeInstanceOf(MethodFailed);
    expect(second).toMatchObject({ reply: "FAILURE", fields: { reason: "recovered from: risky work failed" } });
    expect(client.state).toBe("ready");
    expect(await client.invoke("risky", { text: "fine" })).toBe("fine");
  });
});
