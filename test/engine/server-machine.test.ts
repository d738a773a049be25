/**
 * The server executor on real sockets (`spec/models.md` §3.3–§3.7): transitions, superstates, the wildcard,
 * before/after blocks, ctx.next chaining, ctx.raise exceptions, the terminate action and unhandled events.
 * Peers are raw DEALERs; every user action records "action@state:event" in its session's trace, which REPORT
 * sends back, so each test asserts both what the peer receives and the order the machine ran things in.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import { Resources, makePeer, startServer, textOf, type Ctx, type Peer, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

interface Session {
  trace: string[];
  name: string;
}

function record(ctx: Ctx<Session>, label: string): void {
  ctx.client.trace.push(`${label}@${ctx.state}:${ctx.event}`);
}

/** What REPORT sends back. */
interface Report {
  readonly id: number;
  readonly state: string;
  readonly trace: string[];
}

/** Actions shared by the models of this file. */
const common = {
  createClient: (): Session => ({ trace: [], name: "" }),
  greet(ctx: Ctx<Session>): void {
    record(ctx, "greet");
    ctx.client.name = String(ctx.request.name);
    ctx.reply.text = `hi ${ctx.client.name}`;
  },
  kick(ctx: Ctx<Session>): void {
    ctx.next(textOf(ctx.request));
  },
  report(ctx: Ctx<Session>): void {
    const report: Report = { id: ctx.id, state: ctx.state, trace: ctx.client.trace };
    ctx.reply.text = JSON.stringify(report);
    ctx.client.trace = [];
  },
  mark(ctx: Ctx<Session>): void {
    record(ctx, "mark");
    ctx.reply.text = `${ctx.event}@${ctx.state}`;
  },
  enterReady: (ctx: Ctx<Session>): void => record(ctx, "enter ready"),
  leaveReady: (ctx: Ctx<Session>): void => record(ctx, "leave ready"),
};

async function report(peer: Peer): Promise<Report> {
  const answer = await peer.request({ message: "REPORT" });
  expect(answer.message).toBe("NOTE");
  return JSON.parse(textOf(answer)) as Report;
}

async function kick(peer: Peer, event: string): Promise<void> {
  await peer.send({ message: "KICK", text: event });
}

// ---------------------------------------------------------------------------------------------------------

const machineImpl: ServerImpl<Session> = {
  ...common,
  enterStart: (ctx) => record(ctx, "enter start"),
  enterMiddle: (ctx) => record(ctx, "enter middle"),
  startPing(ctx) {
    record(ctx, "start ping");
    ctx.reply.text = "start ping";
  },
  middlePing(ctx) {
    record(ctx, "middle ping");
    ctx.reply.text = "middle ping";
  },
  basePing(ctx) {
    record(ctx, "base ping");
    ctx.reply.text = "base ping";
  },
  // Sets nothing in the reply: the NOTE it sends must not carry fields of earlier replies or of the request.
  baseNote: (ctx) => record(ctx, "base note"),
  wildcard(ctx) {
    record(ctx, "*");
    ctx.reply.text = `* ${ctx.event} in ${ctx.state}`;
  },
};

async function machinePeer(): Promise<Peer> {
  const { endpoint } = await startServer(resources, "machine_server.xml", machineImpl, { logger: testLogger });
  return makePeer(resources, endpoint);
}

describe("transitions and superstates", () => {
  it("moves to the next state, runs the new state's before block, and starts without running the initial before", async () => {
    const peer = await machinePeer();
    const world = await peer.request({ message: "HELLO", name: "Ada" });
    expect(world).toMatchObject({ message: "WORLD", text: "hi Ada" });
    const { state, trace } = await report(peer);
    expect(state).toBe("ready");
    // "enter start" never ran: before blocks run on transitions only, not when a context is created.
    expect(trace).toEqual(["greet@start:hello", "enter ready@ready:hello"]);
  });

  it("prefers a state's own handler, then the nearest superstate's, two levels deep", async () => {
    const peer = await machinePeer();
    // start defines PING itself although middle and base define it too.
    expect(textOf(await peer.request({ message: "PING" }))).toBe("start ping");
    // NOTE is defined only in base, two levels up from start.
    expect(await peer.request({ message: "NOTE", text: "from the peer" })).toEqual({ message: "NOTE", text: "" });
    await peer.request({ message: "HELLO", name: "Ada" });
    // ready has no PING: middle's wins over base's.
    expect(textOf(await peer.request({ message: "PING" }))).toBe("middle ping");
    expect(await peer.request({ message: "NOTE", text: "again" })).toEqual({ message: "NOTE", text: "" });
    const { trace } = await report(peer);
    expect(trace).toEqual([
      "start ping@start:ping", "base note@start:note",
      "greet@start:hello", "enter ready@ready:hello",
      "middle ping@ready:ping", "base note@ready:note",
    ]);
  });

  it("starts every reply empty: a send carries neither the request's fields nor an earlier reply's", async () => {
    const peer = await machinePeer();
    expect(textOf(await peer.request({ message: "HELLO", name: "Ada" }))).toBe("hi Ada");
    // base note sets nothing; C's shared message object would have sent "hi Ada" or the request's text.
    expect(await peer.request({ message: "NOTE", text: "echo me?" })).toEqual({ message: "NOTE", text: "" });
  });

  it("lets * catch protocol messages the model never mentions and internal events nobody handles, but not handled ones", async () => {
    const peer = await machinePeer();
    expect(textOf(await peer.request({ message: "STRAY" }))).toBe("* stray in start");
    expect(textOf(await peer.request({ message: "HELLO OK" }))).toBe("* hello_ok in start");
    await kick(peer, "no_such_event");
    expect(textOf(await peer.next())).toBe("* no_such_event in start");
    await peer.request({ message: "HELLO", name: "Ada" });
    // In ready the wildcard is inherited from base, two levels up.
    expect(textOf(await peer.request({ message: "STRAY" }))).toBe("* stray in ready");
    expect(textOf(await peer.request({ message: "PING" }))).toBe("middle ping");
    const { state, trace } = await report(peer);
    expect(state).toBe("ready");
    expect(trace).toEqual([
      "*@start:stray", "*@start:hello_ok", "*@start:no_such_event",
      "greet@start:hello", "enter ready@ready:hello", "*@ready:stray", "middle ping@ready:ping",
    ]);
  });

  it("runs event actions, then the old state's after, then changes state, then the new state's before", async () => {
    const peer = await machinePeer();
    await peer.request({ message: "HELLO", name: "Ada" });
    await report(peer);
    await kick(peer, "back");
    let result = await report(peer);
    expect(result.state).toBe("start");
    expect(result.trace).toEqual(["mark@ready:back", "leave ready@ready:back", "enter start@start:back"]);
    await peer.request({ message: "HELLO", name: "Ada" });
    await kick(peer, "down");
    result = await report(peer);
    // The superstate middle is an ordinary next target; entering ready never ran middle's before (not inherited).
    expect(result.state).toBe("middle");
    expect(result.trace).toEqual([
      "greet@start:hello", "enter ready@ready:hello",
      "mark@ready:down", "leave ready@ready:down", "enter middle@middle:down",
    ]);
    await kick(peer, "up");
    result = await report(peer);
    expect(result.state).toBe("ready");
    expect(result.trace).toEqual(["mark@middle:up", "enter ready@ready:up"]);
  });

  it("runs after and before on next to the same state, and neither without next", async () => {
    const peer = await machinePeer();
    await peer.request({ message: "HELLO", name: "Ada" });
    await report(peer);
    await kick(peer, "again");
    await kick(peer, "stay");
    const { state, trace } = await report(peer);
    expect(state).toBe("ready");
    expect(trace).toEqual([
      "mark@ready:again", "leave ready@ready:again", "enter ready@ready:again",
      "mark@ready:stay",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------

interface ControlRun {
  readonly created: Ctx<Session>[];
  readonly terminated: { ctx: Ctx<Session>; valid: boolean; state: string; trace: string[] }[];
}

async function controlPeer(): Promise<{ peer: Peer; run: ControlRun; clientCount: () => number; sendEvent: (ctx: Ctx<Session>, event: string) => void }> {
  const run: ControlRun = { created: [], terminated: [] };
  const impl: ServerImpl<Session> = {
    ...common,
    createClient(ctx) {
      run.created.push(ctx);
      return common.createClient();
    },
    clientTerminated(ctx) {
      run.terminated.push({ ctx, valid: ctx.valid, state: ctx.state, trace: [...ctx.client.trace] });
    },
    nextFirst: (ctx) => ctx.next("first"),
    nextSecond: (ctx) => ctx.next("second"),
    nextThird: (ctx) => ctx.next("third"),
    raiseOops: (ctx) => ctx.raise("oops"),
  };
  const { server, endpoint } = await startServer(resources, "control_server.xml", impl, { logger: testLogger });
  const peer = makePeer(resources, endpoint);
  await peer.request({ message: "HELLO", name: "Ada" });
  await report(peer);
  return { peer, run, clientCount: () => server.clientCount, sendEvent: (ctx, event) => server.sendEvent(ctx, event) };
}

describe("next, raise and terminate", () => {
  it("ctx.next: the remaining actions still run, the last call wins, and chained events run in order", async () => {
    const { peer } = await controlPeer();
    await kick(peer, "chain");
    const { state, trace } = await report(peer);
    expect(state).toBe("ready");
    // "first" was replaced by "second"; second's own next(third) runs after its after/before blocks.
    expect(trace).toEqual([
      "mark@ready:chain", "mark@ready:chain",
      "mark@ready:second", "leave ready@ready:second", "enter ready@ready:second",
      "mark@ready:third",
    ]);
  });

  it("ctx.raise: skips the remaining actions, the after/before blocks and the state change, and runs the exception in the same state", async () => {
    const { peer } = await controlPeer();
    await kick(peer, "fail");
    // The first thing the peer gets is the report: fail's own send was skipped.
    const { state, trace } = await report(peer);
    expect(state).toBe("ready");
    expect(trace).toEqual(["mark@ready:fail", "mark@ready:oops"]);
    expect(peer.unread).toBe(0);
  });

  it("ctx.raise overrides a pending terminate and a pending next", async () => {
    const { peer, run, clientCount } = await controlPeer();
    await kick(peer, "doom");
    let result = await report(peer);
    expect(result.trace).toEqual(["mark@ready:oops"]);
    expect(result.state).toBe("ready");
    await kick(peer, "late_fail");
    result = await report(peer);
    expect(result.trace).toEqual(["mark@ready:late_fail", "mark@ready:oops"]);
    expect(result.state).toBe("ready");
    expect(run.terminated).toEqual([]);
    expect(clientCount()).toBe(1);
  });

  it("terminate: the remaining actions still run, the context is destroyed, and the peer's next message starts afresh", async () => {
    const { peer, run, clientCount, sendEvent } = await controlPeer();
    const first = run.created[0];
    await kick(peer, "bye");
    // Both sends ran: the one before terminate and the one after it.
    expect(await peer.next()).toEqual({ message: "NOTE", text: "bye@ready" });
    expect(await peer.next()).toEqual({ message: "NOTE", text: "bye@ready" });
    await eventually(() => run.terminated.length === 1, 2000, "clientTerminated");
    expect(run.terminated[0]).toMatchObject({ ctx: first, valid: false, state: "ready", trace: ["mark@ready:bye", "mark@ready:bye"] });
    expect(clientCount()).toBe(0);
    expect(first.valid).toBe(false);
    // Events for a destroyed context are dropped, not run.
    sendEvent(first, "first");
    const fresh = await report(peer);
    expect(fresh).toMatchObject({ state: "start", trace: [] });
    expect(fresh.id).not.toBe(first.id);
    expect(run.created).toHaveLength(2);
    expect(clientCount()).toBe(1);
    expect(run.terminated).toHaveLength(1);
    expect(first.client.trace).toEqual(["mark@ready:bye", "mark@ready:bye"]);
  });

  it("terminate on an event with next: after, state change and before still run first", async () => {
    const { peer, run, clientCount } = await controlPeer();
    await peer.send({ message: "STOP" });
    await eventually(() => run.terminated.length === 1, 2000, "clientTerminated");
    expect(run.terminated[0]).toMatchObject({ state: "start", trace: ["mark@ready:stop", "leave ready@ready:stop"] });
    expect(clientCount()).toBe(0);
    expect(peer.unread).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("unhandled events", () => {
  it("logs a warning, drops the event, keeps the state and keeps serving", async () => {
    const logger = new MemoryLogger();
    let context: Ctx<Session> | undefined;
    const { server, endpoint } = await startServer(resources, "plain_server.xml", {
      ...common,
      createClient(ctx) {
        context = ctx;
        return common.createClient();
      },
    }, { logger });
    const peer = makePeer(resources, endpoint);
    // PING is handled only in ready; STRAY nowhere (and there is no wildcard).
    await peer.send({ message: "PING" });
    await peer.send({ message: "STRAY" });
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    const warnings = logger.lines.filter((line) => line.level === "warn" && line.message.includes("not handled"));
    expect(warnings.map((line) => line.fields?.event)).toEqual(["ping", "stray"]);
    expect(warnings[0].fields).toMatchObject({ state: "start", client: context?.id });
    // An internal event nobody handles is dropped the same way.
    server.sendEvent(context!, "nonsense");
    await eventually(() => logger.lines.some((line) => line.fields?.event === "nonsense"), 2000, "the warning");
    expect(context?.state).toBe("ready");
    expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
    // A two-word message name becomes an event in lower snake case.
    expect(await peer.request({ message: "HELLO OK" })).toEqual({ message: "NOTE", text: "" });
    expect(server.clientCount).toBe(1);
  });
});
