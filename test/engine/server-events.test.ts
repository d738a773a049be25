/**
 * Events between sessions (`spec/models.md` §3.6, §3.7 [DIFF]): `server.sendEvent(ctx, event)` and
 * `server.broadcast(event, {except})` queue the event on the target contexts; a target runs it only after the
 * current event has finished on the sender (its action list, after and before blocks), in FIFO order, and no
 * context is ever re-entered. All sessions write to one shared trace so the tests can check the interleaving.
 */
import { afterEach, describe, expect, it } from "vitest";
import { eventually, testLogger } from "../support/engines.js";
import { Resources, makePeer, startServer, textOf, type Ctx, type Peer, type ServerImpl, type TestServer } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

interface Session {
  name: string;
}

interface World {
  readonly server: TestServer<Session>;
  readonly trace: string[];
  readonly sessions: Map<string, Ctx<Session>>;
  readonly peers: Record<string, Peer>;
}

/** A server with three greeted peers, A, B and C. */
async function world(): Promise<World> {
  const trace: string[] = [];
  const sessions = new Map<string, Ctx<Session>>();
  const mine = (ctx: Ctx<Session>, what: string): void => {
    trace.push(`${ctx.client.name}:${what}`);
  };
  const impl: ServerImpl<Session> = {
    createClient: () => ({ name: "" }),
    greet(ctx) {
      ctx.client.name = String(ctx.request.name);
      sessions.set(ctx.client.name, ctx);
      ctx.reply.text = `hi ${ctx.client.name}`;
    },
    pokePeer(ctx) {
      const target = sessions.get(textOf(ctx.request));
      if (target === undefined) throw new Error(`no session ${textOf(ctx.request)}`);
      ctx.server.sendEvent(target, "poked");
      ctx.server.sendEvent(target, "second_poke");
      mine(ctx, "poke sent");
    },
    broadcastNews(ctx) {
      if (textOf(ctx.request) === "except") ctx.server.broadcast("news", { except: ctx });
      else ctx.server.broadcast("news");
      mine(ctx, "broadcast sent");
    },
    mark(ctx) {
      mine(ctx, ctx.event);
      ctx.reply.text = `${ctx.event} for ${ctx.client.name}`;
    },
    leaveReady: (ctx) => mine(ctx, "leave"),
    enterReady: (ctx) => mine(ctx, "enter"),
  };
  const { server, endpoint } = await startServer(resources, "events_server.xml", impl, { logger: testLogger });
  const peers: Record<string, Peer> = {};
  for (const name of ["A", "B", "C"]) {
    peers[name] = makePeer(resources, endpoint);
    expect(textOf(await peers[name].request({ message: "HELLO", name }))).toBe(`hi ${name}`);
  }
  trace.length = 0;
  return { server, trace, sessions, peers };
}

/** The entries of one session, in order. */
const of = (trace: readonly string[], name: string): string[] => trace.filter((entry) => entry.startsWith(`${name}:`));

describe("sendEvent", () => {
  it("queues the events on the target only, runs them in the order sent, and never inside the sender's action", async () => {
    const { trace, peers } = await world();
    await peers.A.send({ message: "KICK", text: "B" });
    expect(await peers.B.next()).toEqual({ message: "NOTE", text: "poked for B" });
    expect(await peers.B.next()).toEqual({ message: "NOTE", text: "second_poke for B" });
    // The action that called sendEvent finished before any target event ran.
    expect(trace[0]).toBe("A:poke sent");
    expect(of(trace, "A")).toEqual(["A:poke sent", "A:kick", "A:leave", "A:enter"]);
    expect(of(trace, "B")).toEqual(["B:poked", "B:second_poke"]);
    expect(peers.A.unread).toBe(0);
    expect(peers.C.unread).toBe(0);
  });

  // Regression: before commit e5ad565 the target's event ran in the gap between the sender's action list and
  // its after block (trace A:poke sent, A:kick, B:poked, A:leave, A:enter, B:second_poke).
  it("runs the target's events only after the sender's whole event, after and before blocks included", async () => {
    const { trace, peers } = await world();
    await peers.A.send({ message: "KICK", text: "B" });
    await peers.B.next();
    await peers.B.next();
    expect(trace).toEqual(["A:poke sent", "A:kick", "A:leave", "A:enter", "B:poked", "B:second_poke"]);
  });

  it("queues events sent from outside the machine too, and runs them on the target only", async () => {
    const { server, sessions, peers, trace } = await world();
    server.sendEvent(sessions.get("C")!, "poked");
    server.sendEvent(sessions.get("C")!, "second_poke");
    // Nothing runs inside sendEvent itself.
    expect(trace).toEqual([]);
    expect(textOf(await peers.C.next())).toBe("poked for C");
    expect(textOf(await peers.C.next())).toBe("second_poke for C");
    expect(trace).toEqual(["C:poked", "C:second_poke"]);
    expect(peers.A.unread + peers.B.unread).toBe(0);
  });
});

describe("broadcast", () => {
  it("reaches every other session and skips the excepted one", async () => {
    const { trace, peers } = await world();
    await peers.A.send({ message: "GO", text: "except" });
    expect(await peers.B.next()).toEqual({ message: "NOTE", text: "news for B" });
    expect(await peers.C.next()).toEqual({ message: "NOTE", text: "news for C" });
    expect(trace[0]).toBe("A:broadcast sent");
    expect(of(trace, "A")).toEqual(["A:broadcast sent", "A:go", "A:leave", "A:enter"]);
    expect(of(trace, "B")).toEqual(["B:news"]);
    expect(of(trace, "C")).toEqual(["C:news"]);
    expect(peers.A.unread).toBe(0);
  });

  it("without except reaches the sender too, as a new event after its current one (never re-entrantly)", async () => {
    const { trace, peers } = await world();
    await peers.A.send({ message: "GO", text: "all" });
    for (const name of ["A", "B", "C"]) expect(textOf(await peers[name].next())).toBe(`news for ${name}`);
    expect(of(trace, "A")).toEqual(["A:broadcast sent", "A:go", "A:leave", "A:enter", "A:news"]);
    expect([...of(trace, "B"), ...of(trace, "C")]).toEqual(["B:news", "C:news"]);
  });

  // Regression: the same gap as for sendEvent (trace A:broadcast sent, A:go, B:news, C:news, A:leave, A:enter).
  it("runs the other sessions' events only after the sender's whole event", async () => {
    const { trace, peers } = await world();
    await peers.A.send({ message: "GO", text: "except" });
    await peers.B.next();
    await peers.C.next();
    expect(trace.slice(0, 4)).toEqual(["A:broadcast sent", "A:go", "A:leave", "A:enter"]);
  });

  it("from outside the machine reaches every session once", async () => {
    const { server, peers, trace } = await world();
    server.broadcast("news");
    expect(trace).toEqual([]);
    for (const name of ["A", "B", "C"]) expect(textOf(await peers[name].next())).toBe(`news for ${name}`);
    await eventually(() => trace.length === 3, 1000, "three news events");
    expect([...trace].sort()).toEqual(["A:news", "B:news", "C:news"]);
    for (const name of ["A", "B", "C"]) expect(peers[name].unread).toBe(0);
  });
});
