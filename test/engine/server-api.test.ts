/**
 * The server's own API (`bind`, `start`, `load`, `save`) is bounded like every engine call (`spec/models.md`
 * §3.8, §4.6): a finite timeout, an optional AbortSignal, and errors that say what went wrong, a configured
 * endpoint that cannot be bound among them. Hanging file operations are real ones: a FIFO nobody opens at the
 * other end blocks `open()` until somebody does.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Router } from "zeromq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngineClosed, SocketError, TimeoutError } from "../../runtime/engine/errors.js";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import { Resources, bindFixedPort, makePeer, makeServer, outcome, type ServerImpl } from "./support.js";

const resources = new Resources();
let dir: string;
/** FIFOs this test made; each is opened at its other end in teardown so no open() stays blocked. */
const fifos: { path: string; flags: number }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "zproto-server-api-"));
});

afterEach(async () => {
  for (const { path, flags } of fifos.splice(0)) await release(path, flags);
  await resources.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Opens a FIFO's other end so that the engine's blocked open() returns. A non-blocking open for writing fails
 * with ENXIO until the reader's open() is under way (the engine's file I/O runs on libuv's thread pool and
 * may start late on a busy machine), so it is retried for a while.
 */
async function release(path: string, flags: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(path, flags | constants.O_NONBLOCK));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENXIO" || attempt === 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A FIFO whose blocked openers are released in teardown by opening it with `releaseFlags`. */
function fifo(name: string, releaseFlags: number): string {
  const path = join(dir, name);
  execFileSync("mkfifo", [path]);
  fifos.push({ path, flags: releaseFlags });
  return path;
}

const impl: ServerImpl<{ name: string }> = {
  createClient: () => ({ name: "" }),
  greet(ctx) {
    ctx.reply.text = `hi ${String(ctx.request.name)}`;
  },
};

describe("server API calls", () => {
  it("load rejects with TimeoutError when reading the file hangs, and the server goes on serving", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    const blocked = fifo("blocked.zpl", constants.O_WRONLY);
    const started = Date.now();
    const { error } = await outcome(server.load(blocked, { timeout: 200 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ operation: "load", timeoutMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    const peer = makePeer(resources, endpoint);
    expect(await peer.request({ message: "HELLO", name: "still here" })).toEqual({ message: "WORLD", text: "hi still here" });
  });

  it("save rejects with TimeoutError when the file cannot be opened in time", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger, callTimeout: 150 });
    await server.start();
    const { error } = await outcome(server.save(fifo("unread.zpl", constants.O_RDONLY)));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ operation: "save", timeoutMs: 150 });
  });

  it("an AbortSignal ends a call with its reason, also when it aborted before the call", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    const controller = new AbortController();
    const pending = outcome(server.load(fifo("aborted.zpl", constants.O_WRONLY), { timeout: 5000, signal: controller.signal }));
    controller.abort(new Error("operator gave up"));
    expect((await pending).error).toMatchObject({ message: "operator gave up" });
    expect((await outcome(server.bind("tcp://127.0.0.1:*", { signal: controller.signal }))).error).toMatchObject({ message: "operator gave up" });
  });

  it("refuses timeouts that are not finite and positive", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    for (const timeout of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
      await expect(server.bind("tcp://127.0.0.1:*", { timeout })).rejects.toThrow(RangeError);
    }
    expect(server.port).toBeUndefined();
  });

  it("refuses a server/timeout longer than a timer can wait, and call timeouts of 2^31 ms or more", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger, config: { "server/timeout": 3_000_000_000 } });
    await expect(server.start()).rejects.toThrow(/server\/timeout must be a whole number of ms from 1 to 2147483647/);
    const other = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    await expect(other.bind("tcp://127.0.0.1:*", { timeout: 2 ** 31 })).rejects.toThrow(RangeError);
  });

  it("bind reports a port another socket keeps as EADDRINUSE, not as a timeout, even when its retries reach the timeout", async () => {
    const holder = resources.add(new Router({ linger: 0 }), (socket) => socket.close(), "other");
    const taken = await bindFixedPort(async (endpoint) => {
      await holder.bind(endpoint);
      return endpoint;
    });
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    // 150 ms leaves a few retries, and on a loaded machine the timeout can run out during the last one.
    for (const timeout of [600, 150]) {
      const { error } = await outcome(server.bind(taken, { timeout }));
      expect(error).toBeInstanceOf(SocketError);
      expect(error).toMatchObject({ operation: "bind", endpoint: taken, code: "EADDRINUSE" });
    }
  });

  it("bind gives the endpoint and port bound; after close it rejects with EngineClosed", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    const endpoint = await server.bind("tcp://127.0.0.1:*", { timeout: 2000 });
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBe(Number(endpoint.split(":").at(-1)));
    await server.close();
    await expect(server.bind("tcp://127.0.0.1:*")).rejects.toBeInstanceOf(EngineClosed);
    await expect(server.load(join(dir, "none.zpl"))).rejects.toBeInstanceOf(EngineClosed);
  });

  // Regression: a load before start bound its endpoints but nothing received on them, and a start after it
  // put the options' configuration back in force.
  it("load starts the server if need be: what it binds is served, and it stays in force", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger, config: { "server/timeout": 4000 } });
    const ipc = `ipc://${join(dir, "loaded.ipc")}`;
    const file = join(dir, "first.zpl");
    writeFileSync(file, `server\n    timeout = 3000\nplain_server\n    bind\n        endpoint = ${ipc}\n`);
    await server.load(file);
    expect(await makePeer(resources, ipc).request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    await server.start();
    expect(server.config?.get("server/timeout")).toBe("3000");
    expect(server.endpoints).toEqual([ipc]);
  });

  it("load and save within their timeout apply and write the configuration", async () => {
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    const file = join(dir, "server.zpl");
    writeFileSync(file, "server\n    timeout = 4000\n    verbose = 0\n");
    await server.load(file, { timeout: 1000 });
    expect(server.config?.get("server/timeout")).toBe("4000");
    const saved = join(dir, "saved.zpl");
    await server.save(saved, { timeout: 1000 });
    expect(readFileSync(saved, "utf8")).toBe('server\n    timeout = "4000"\n    verbose = "0"\n');
  });
});

describe("configured endpoints that cannot be bound", () => {
  /** A loopback endpoint another socket holds until `release()`. */
  async function takenEndpoint(): Promise<{ taken: string; release: () => void }> {
    const holder = resources.add(new Router({ linger: 0 }), (socket) => socket.close(), "other");
    const taken = await bindFixedPort(async (candidate) => {
      await holder.bind(candidate);
      return candidate;
    });
    return { taken, release: () => holder.close() };
  }

  /** A configuration file binding these endpoints. */
  function bindingFile(name: string, endpoints: string[]): string {
    const file = join(dir, name);
    writeFileSync(file, `plain_server\n    bind\n${endpoints.map((endpoint) => `        endpoint = ${endpoint}\n`).join("")}`);
    return file;
  }

  it("make start reject with the SocketError, once the others are bound and served", async () => {
    const { taken } = await takenEndpoint();
    const ipc = `ipc://${join(dir, "start.ipc")}`;
    const logger = new MemoryLogger();
    const server = makeServer(resources, "plain_server.xml", impl, { logger, config: bindingFile("start.zpl", [taken, ipc]) });
    const { error } = await outcome(server.start());
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({ operation: "bind", endpoint: taken, code: "EADDRINUSE" });
    expect(server.endpoints).toEqual([ipc]);
    expect(await makePeer(resources, ipc).request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    // Told once, by the rejection; a second start says the same.
    expect(logger.messages("error")).toEqual([]);
    await expect(server.start()).rejects.toBe(error);
  });

  it("make load reject with the SocketError, with the configuration in force, and a later load binds it", async () => {
    const { taken, release } = await takenEndpoint();
    const ipc = `ipc://${join(dir, "load.ipc")}`;
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger });
    await server.bind("tcp://127.0.0.1:*");
    const file = bindingFile("load.zpl", [taken, ipc]);
    await expect(server.load(file)).rejects.toMatchObject({ name: "SocketError", endpoint: taken, code: "EADDRINUSE" });
    expect(server.config?.all("plain_server/bind/endpoint").map((node) => node.value)).toEqual([taken, ipc]);
    expect(await makePeer(resources, ipc).request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    release();
    await server.load(file);
    expect(server.endpoints.slice(1)).toEqual([ipc, taken]);
    expect(await makePeer(resources, taken).request({ message: "HELLO", name: "Grace" })).toEqual({ message: "WORLD", text: "hi Grace" });
  });

  // Regression: an endpoint configured while start was binding the others was never bound: start had read
  // the endpoints already, and configure bound nothing until the server was serving.
  it("do not keep an endpoint configured while start binds from being bound", async () => {
    const { taken } = await takenEndpoint();
    const ipc = `ipc://${join(dir, "configured.ipc")}`;
    const server = makeServer(resources, "plain_server.xml", impl, { logger: testLogger, config: bindingFile("during.zpl", [taken]) });
    const starting = outcome(server.start());
    // The configuration is in force once start reads it, and start then binds at once (retrying the taken
    // endpoint for two seconds).
    await eventually(() => server.config !== undefined, 5000, "start to read its configuration");
    server.configure("plain_server/bind/endpoint", ipc);
    expect((await starting).error).toMatchObject({ name: "SocketError", endpoint: taken, code: "EADDRINUSE" });
    await eventually(() => server.endpoints.includes(ipc), 5000, `${ipc} to be bound`);
    expect(await makePeer(resources, ipc).request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
  });

  // Regression: the failure came after start's timeout, when nobody waited for it any more, and was told nowhere.
  it("are logged when start timed out before it failed", async () => {
    const { taken } = await takenEndpoint();
    const logger = new MemoryLogger();
    const server = makeServer(resources, "plain_server.xml", impl, { logger, config: bindingFile("late.zpl", [taken]) });
    // The taken endpoint is retried for two seconds.
    await expect(server.start({ timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
    const told = `cannot bind "${taken}": Address already in use (EADDRINUSE)`;
    await eventually(() => logger.messages("error").includes(told), 5000, "the failure to be logged");
    expect(logger.messages("error")).toEqual([told]);
  });

  it("are logged when bind() starts the server, as nobody waits for start", async () => {
    const { taken } = await takenEndpoint();
    const logger = new MemoryLogger();
    const server = makeServer(resources, "plain_server.xml", impl, { logger, config: bindingFile("bind.zpl", [taken]) });
    expect(await server.bind("tcp://127.0.0.1:*")).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    await server.bind("tcp://127.0.0.1:*");
    expect(logger.messages("error")).toEqual([`cannot bind "${taken}": Address already in use (EADDRINUSE)`]);
  });
});

// zeromq.js blocks a socket for the whole of an asynchronous bind: a send or receive meanwhile throws EBUSY.
describe("binding while serving", () => {
  // Regression: a bind while a peer was sending ended the server's receive loop (it went deaf for good), and
  // a reply sent meanwhile was dropped with a warning.
  it("loses no message, and the server goes on receiving", async () => {
    const logger = new MemoryLogger();
    const server = makeServer(resources, "plain_server.xml", impl, { logger });
    const peer = makePeer(resources, await server.bind("tcp://127.0.0.1:*"));
    let binding = true;
    const traffic = (async () => {
      let answered = 0;
      for (; binding; answered++) {
        expect(await peer.request({ message: "HELLO", name: `${answered}` }, 5000)).toEqual({ message: "WORLD", text: `hi ${answered}` });
      }
      return answered;
    })();
    for (let i = 0; i < 50; i++) await server.bind(`ipc://${join(dir, `serving-${i}.ipc`)}`);
    binding = false;
    expect(await traffic).toBeGreaterThan(0);
    expect(server.endpoints).toHaveLength(51);
    expect(logger.messages("warn")).toEqual([]);
    expect(logger.messages("error")).toEqual([]);
  });

  // Regression: a second bind while the first was under way failed with EBUSY (`Socket is blocked`).
  it("binds what bind, load and configure ask for at the same time", async () => {
    const logger = new MemoryLogger();
    const server = makeServer(resources, "plain_server.xml", impl, { logger });
    await server.start();
    const file = join(dir, "together.zpl");
    writeFileSync(file, `plain_server\n    bind\n        endpoint = ipc://${join(dir, "loaded.ipc")}\n`);
    const binds = [server.bind(`ipc://${join(dir, "a.ipc")}`), server.bind(`ipc://${join(dir, "b.ipc")}`), server.load(file)];
    server.configure("plain_server/bind/endpoint", `ipc://${join(dir, "configured.ipc")}`);
    await Promise.all(binds);
    await eventually(() => server.endpoints.length === 4, 5000, `four endpoints bound (${server.endpoints.join(", ")})`);
    expect([...server.endpoints].sort()).toEqual(["a", "b", "configured", "loaded"].map((name) => `ipc://${join(dir, `${name}.ipc`)}`));
    expect(logger.messages("error")).toEqual([]);
  });
});
