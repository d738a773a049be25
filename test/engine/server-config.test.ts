/**
 * Server configuration from a ZPL file (`spec/models.md` §3.8): `server/timeout`, `server/verbose`,
 * `<class>/echo` and `<class>/bind/endpoint` applied at start, and the file reloaded when it changes
 * (`watchConfig`, polled once a second). Files live in a fresh directory under os.tmpdir().
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import type { ServerHooks } from "../../runtime/engine/server.js";
import type { ZplNode } from "../../runtime/zpl/tree.js";
import { Resources, delay, freeEndpoint, makePeer, makeServer, type Ctx, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

interface Session {
  name: string;
}

const impl: ServerImpl<Session> = {
  createClient: () => ({ name: "" }),
  greet(ctx) {
    ctx.client.name = String(ctx.request.name);
    ctx.reply.text = `hi ${ctx.client.name}`;
  },
  noteEvent(ctx) {
    ctx.reply.text = ctx.event;
  },
};

/** A ZPL file in a temporary directory removed after the test. */
async function configFile(text: string): Promise<string> {
  const dir = resources.add(await mkdtemp(join(tmpdir(), "zproto-engine-")), (path) => rm(path, { recursive: true, force: true }));
  const path = join(dir, "server.cfg");
  await writeFile(path, text);
  return path;
}

function zpl(options: { timeout: number; verbose: number; echo: string; endpoints: string[] }): string {
  return [
    "#   Engine test configuration",
    "server",
    `    timeout = ${options.timeout}`,
    `    verbose = ${options.verbose}`,
    "timer_server",
    `    echo = "${options.echo}"`,
    "    bind",
    ...options.endpoints.map((endpoint) => `        endpoint = ${endpoint}`),
    "",
  ].join("\n");
}

/** Trace lines of verbose mode (they carry the client id). */
const traces = (logger: MemoryLogger): number => logger.lines.filter((line) => line.level === "info" && line.fields?.client !== undefined).length;

describe("configuration file", () => {
  it("applies server/timeout, server/verbose, echo and bind/endpoint at start", async () => {
    const endpoint = await freeEndpoint();
    const path = await configFile(zpl({ timeout: 200, verbose: 1, echo: "configured from a file", endpoints: [endpoint] }));
    const logger = new MemoryLogger();
    const server = makeServer(resources, "timer_server.xml", impl, { config: path, logger });
    await server.start();
    expect(server.config?.get("server/timeout")).toBe("200");
    expect(logger.messages("info")).toContain("configured from a file");
    expect(logger.messages("info")).toContain(`bound ${endpoint}`);
    const peer = makePeer(resources, endpoint);
    const said = Date.now();
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    // Verbose mode traced the event and its actions.
    expect(logger.lines.some((line) => line.level === "info" && line.message === "start: hello")).toBe(true);
    expect(traces(logger)).toBeGreaterThanOrEqual(3);
    expect(await peer.next(2000, "expired")).toEqual({ message: "NOTE", text: "expired" });
    expect(Date.now() - said).toBeGreaterThanOrEqual(190);
    expect(Date.now() - said).toBeLessThan(1500);
  });

  it("reloads a changed file with watchConfig: new endpoints are bound, verbose and timeout change", { timeout: 10_000 }, async () => {
    const [first, second] = [await freeEndpoint(), await freeEndpoint()];
    const path = await configFile(zpl({ timeout: 60_000, verbose: 0, echo: "first", endpoints: [first] }));
    const logger = new MemoryLogger();
    const server = makeServer(resources, "timer_server.xml", impl, { config: path, watchConfig: true, logger });
    await server.start();
    const old = makePeer(resources, first);
    expect(await old.request({ message: "HELLO", name: "old" })).toEqual({ message: "WORLD", text: "hi old" });
    expect(traces(logger)).toBe(0);
    await writeFile(path, zpl({ timeout: 150, verbose: 1, echo: "second", endpoints: [first, second] }));
    await eventually(() => logger.messages("info").includes("second"), 4000, "the reload");
    expect(server.config?.get("server/timeout")).toBe("150");
    await eventually(() => logger.messages("info").includes(`bound ${second}`), 2000, "the new endpoint");
    const fresh = makePeer(resources, second);
    expect(await fresh.request({ message: "HELLO", name: "fresh" })).toEqual({ message: "WORLD", text: "hi fresh" });
    expect(traces(logger)).toBeGreaterThan(0);
    // A new context expires after the new timeout.
    expect(await fresh.next(1500, "expired under the new timeout")).toEqual({ message: "NOTE", text: "expired" });
    // The first endpoint is still served.
    expect(await old.request({ message: "PING" })).toEqual({ message: "PONG" });
  });

  it("keeps the configuration in force when the changed file does not parse", { timeout: 10_000 }, async () => {
    const endpoint = await freeEndpoint();
    const path = await configFile(zpl({ timeout: 60_000, verbose: 0, echo: "fine", endpoints: [endpoint] }));
    const logger = new MemoryLogger();
    const server = makeServer(resources, "timer_server.xml", impl, { config: path, watchConfig: true, logger });
    await server.start();
    // A tab is not indentation in ZPL.
    await writeFile(path, "server\n\ttimeout = 5\n");
    await eventually(() => logger.messages("error").some((message) => message.startsWith(`configuration ${path} not reloaded`)), 4000, "the reload error");
    expect(server.config?.get("server/timeout")).toBe("60000");
    const peer = makePeer(resources, endpoint);
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
  });

  // Regression: a reloaded file that parses but holds an invalid value (server/timeout = 0, or text) threw
  // inside the file watcher: an unhandled rejection, nothing logged, and the rejected tree taken anyway.
  it("logs a reload whose values are invalid and keeps the old configuration", { timeout: 10_000 }, async () => {
    const endpoint = await freeEndpoint();
    const path = await configFile(zpl({ timeout: 200, verbose: 0, echo: "fine", endpoints: [endpoint] }));
    const logger = new MemoryLogger();
    const server = makeServer(resources, "timer_server.xml", impl, { config: path, watchConfig: true, logger });
    await server.start();
    // Catch the rejection here instead of letting vitest report it as an error of the whole run.
    const rejections: unknown[] = [];
    const saved = process.listeners("unhandledRejection");
    const catcher = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", catcher);
    try {
      await writeFile(path, zpl({ timeout: 0, verbose: 0, echo: "fine", endpoints: [endpoint] }));
      await eventually(() => rejections.length > 0 || logger.messages("error").length > 0, 4000, "the reload");
      await delay(50);
      expect(rejections).toEqual([]);
      expect(logger.messages("error").some((message) => message.includes("not reloaded"))).toBe(true);
      expect(server.config?.get("server/timeout")).toBe("200");
    } finally {
      process.off("unhandledRejection", catcher);
      for (const listener of saved) process.on("unhandledRejection", listener);
    }
  });
});

describe("configure()", () => {
  it("changes server/timeout and server/verbose at run time", async () => {
    const logger = new MemoryLogger();
    const server = makeServer(resources, "timer_server.xml", impl, { logger, config: { "server/timeout": 60_000 } });
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    server.configure("server/timeout", "150");
    server.configure("server/verbose", "1");
    expect(server.config?.get("server/timeout")).toBe("150");
    const peer = makePeer(resources, endpoint);
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    expect(traces(logger)).toBeGreaterThan(0);
    expect(await peer.next(1500, "expired under the new timeout")).toEqual({ message: "NOTE", text: "expired" });
  });

  // Regression: start() put the options' configuration in force over what configure() had set before it.
  it("keeps what it set before start: start's configuration goes in force under it", async () => {
    const server = makeServer(resources, "timer_server.xml", impl, { logger: testLogger, config: { "server/timeout": 60_000, "server/verbose": 0 } });
    server.configure("server/timeout", "150");
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    expect(server.config?.get("server/timeout")).toBe("150");
    // The rest of the options' configuration is in force as well.
    expect(server.config?.get("server/verbose")).toBe("0");
    const peer = makePeer(resources, endpoint);
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    expect(await peer.next(1500, "expired under the timeout set before start")).toEqual({ message: "NOTE", text: "expired" });
  });
});

describe("server-wide hooks", () => {
  /** An implementation that takes `hello_server/greeting` from the configuration and refuses an empty one. */
  function greeter(seen: string[]): ServerHooks<Ctx<Session>, Session> & { greet(ctx: Ctx<Session>): void } {
    let greeting = "hi";
    return {
      ...impl,
      greet(ctx: Ctx<Session>) {
        ctx.reply.text = `${greeting} ${String(ctx.request.name)}`;
      },
      serverConfigured(config: ZplNode) {
        const value = config.get("timer_server/greeting") ?? "hi";
        if (value === "") throw new Error("timer_server/greeting must not be empty");
        greeting = value;
        seen.push(`configured ${value}`);
      },
      serverTerminated() {
        seen.push("terminated");
      },
    };
  }

  it("serverConfigured takes each configuration put in force; throwing refuses it and keeps the one in force", async () => {
    const seen: string[] = [];
    const server = makeServer(resources, "timer_server.xml", greeter(seen), { logger: testLogger, config: { "timer_server/greeting": "hello", "server/timeout": 5000 } });
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const peer = makePeer(resources, endpoint);
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hello Ada" });
    server.configure("timer_server/greeting", "welcome");
    expect(() => server.configure("timer_server/greeting", "")).toThrow("timer_server/greeting must not be empty");
    // A refused value also leaves other settings of the same call alone: the tree in force is untouched.
    expect(() => server.configure("server/timeout", "soon")).toThrow();
    expect(server.config?.get("timer_server/greeting")).toBe("welcome");
    expect(server.config?.get("server/timeout")).toBe("5000");
    expect(await peer.request({ message: "HELLO", name: "Grace" })).toEqual({ message: "WORLD", text: "welcome Grace" });
    expect(seen).toEqual(["configured hello", "configured welcome"]);
    await server.close();
    expect(seen).toEqual(["configured hello", "configured welcome", "terminated"]);
  });

  it("a load refused by serverConfigured rejects and changes nothing", async () => {
    const seen: string[] = [];
    const server = makeServer(resources, "timer_server.xml", greeter(seen), { logger: testLogger });
    await server.start();
    const file = await configFile("timer_server\n    greeting = \"\"\n");
    await expect(server.load(file)).rejects.toThrow("timer_server/greeting must not be empty");
    expect(server.config?.get("timer_server/greeting")).toBeUndefined();
    expect(seen).toEqual(["configured hi"]);
  });
});
