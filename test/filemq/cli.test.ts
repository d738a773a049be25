/**
 * The `filemq` command as users run it (child processes on tcp 127.0.0.1): help and usage errors, a
 * subscriber that exits once caught up, one clear line when the publisher cannot be reached, SIGTERM in the
 * middle of a file (no temporary file left), a subscriber killed with SIGKILL mid-transfer and restarted
 * (identical in the end, no partial file ever visible under its name), and a publisher restarted under a
 * running subscriber (F5).
 */
import { randomBytes } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RawServer } from "./peers.js";
import { FILEMQ, FilemqProcess, runFilemq } from "./cli-process.js";
import { Registry, allPaths, eventually, mirrored, publisherOf, subscriberOf, treeDigests, visibleSizes, writeTree } from "./support.js";
import { freeEndpoint } from "../engine/support.js";

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

const registry = new Registry();
afterEach(() => registry.closeAll());

function filemq(args: readonly string[], options: ConstructorParameters<typeof FilemqProcess>[1] = {}): FilemqProcess {
  return registry.add(new FilemqProcess(args, options), (process) => process.stop());
}

describe("command line", () => {
  it("has help for the command and for each subcommand, and refuses bad command lines with status 2", async () => {
    const top = await runFilemq(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout.join("\n")).toMatch(/^Commands:\n  publish .*\n  subscribe .*\n  relay .*\n  passwd .*\n  keygen /m);
    for (const command of ["publish", "subscribe", "relay", "passwd", "keygen"]) {
      const help = await runFilemq([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout[0]).toMatch(new RegExp(`^Usage: filemq ${command} `));
      // `filemq help <command>` is the same help.
      expect(await runFilemq(["help", command])).toEqual(help);
    }
    const version = await runFilemq(["--version"]);
    expect(version).toEqual({ code: 0, stdout: [`filemq ${PACKAGE_VERSION}`], stderr: [] });
    const missing = await runFilemq(["subscribe", "tcp://127.0.0.1:1"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr[0]).toBe("filemq subscribe: --inbox is required");
    // A wrong command line is one line and where to find the usage, as with the other tools.
    const unknown = await runFilemq(["subscribe", "tcp://127.0.0.1:1", "--inbox", "/tmp/x", "--frobnicate"]);
    expect(unknown).toEqual({ code: 2, stdout: [], stderr: ["filemq subscribe: unknown option '--frobnicate'", "Try 'filemq help subscribe'."] });
    expect(await runFilemq(["fetch"])).toEqual({ code: 2, stdout: [], stderr: ["filemq: unknown command 'fetch'", "Try 'filemq --help'."] });
    const nothing = await runFilemq(["publish", "/nonexistent/directory", "--bind", "tcp://127.0.0.1:*"]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toEqual(["filemq publish: /nonexistent/directory is not a directory"]);
    const noPassword = await runFilemq(["subscribe", "tcp://127.0.0.1:1", "--inbox", "/tmp/x", "--user", "guest"], { env: { FILEMQ_PASSWORD: undefined } });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr[0]).toMatch(/--user needs a password: --password-file FILE or the FILEMQ_PASSWORD/);
  });

  it("refuses a virtual path or alias that is not one as a wrong command line (status 2), before touching the disk", async () => {
    const source = await registry.directory("src");
    const inbox = join(await registry.directory("parent"), "inbox");
    const wrong: [string[], string][] = [
      [["subscribe", "tcp://127.0.0.1:1", "--inbox", inbox, "--path", "logs"], "filemq subscribe: --path \"logs\" is not a virtual path: it does not start with /"],
      [["subscribe", "tcp://127.0.0.1:1", "--inbox", inbox, "--path", "/a/../b"], "filemq subscribe: --path \"/a/../b\" is not a virtual path: it has a .. segment"],
      [["publish", source, "--alias", "logs", "--bind", "tcp://127.0.0.1:*"], "filemq publish: --alias \"logs\" is not a virtual path: it does not start with /"],
      [["relay", "tcp://127.0.0.1:1", "--inbox", inbox, "--bind", "tcp://127.0.0.1:*", "--path", "x"], "filemq relay: --path \"x\" is not a virtual path: it does not start with /"],
      [["relay", "tcp://127.0.0.1:1", "--inbox", inbox, "--bind", "tcp://127.0.0.1:*", "--alias", "x"], "filemq relay: --alias \"x\" is not a virtual path: it does not start with /"],
    ];
    for (const [args, line] of wrong) {
      const name = args[0];
      expect(await runFilemq(args)).toEqual({ code: 2, stdout: [], stderr: [line, `Try 'filemq help ${name}'.`] });
    }
    // The inbox of a command line that is wrong was not created.
    expect(existsSync(inbox)).toBe(false);
  });

  it("subscribe --once exits 0 with the publisher's whole tree in the inbox; publish stops cleanly on SIGTERM", async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, { "a.txt": "a\n", "deep/er/b.bin": randomBytes(2_500_000), "empty": "" });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const endpoint = await freeEndpoint();
    const publisher = filemq(["publish", source, "--bind", endpoint]);
    await publisher.line(/^publishing .* on tcp:\/\/127\.0\.0\.1:\d+$/);
    const subscriber = await runFilemq(["subscribe", endpoint, "--inbox", inbox, "--once"]);
    expect(subscriber.stderr).toEqual([]);
    expect(subscriber.code).toBe(0);
    expect(subscriber.stdout).toContain("caught up");
    expect(await treeDigests(inbox)).toEqual(await treeDigests(source));
    publisher.signal("SIGTERM");
    expect((await publisher.exited).code).toBe(0);
  });

  it("subscribe --once says in one line that the publisher cannot be reached, with status 1", async () => {
    const inbox = await registry.directory("inbox");
    const result = await runFilemq(["subscribe", await freeEndpoint(), "--inbox", inbox, "--once", "--timeout", "1"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(/^filemq subscribe: cannot reach tcp:\/\/127\.0\.0\.1:\d+: no answer within 1 s$/);
  });

  it("says in one line on stderr, and nothing else, that an endpoint cannot be connected to", async () => {
    const inbox = await registry.directory("inbox");
    // Not an endpoint at all: subscribe fails whether or not --once.
    for (const once of [["--once"], []]) {
      const bogus = await runFilemq(["subscribe", "bogus://x", "--inbox", inbox, ...once]);
      expect(bogus).toEqual({ code: 1, stdout: [], stderr: ['filemq subscribe: cannot connect "bogus://x": Protocol not supported (EPROTONOSUPPORT)'] });
    }
    // A host name that does not resolve (.invalid never does): with --once the command ends with that line.
    const unresolved = await runFilemq(["subscribe", "tcp://nowhere.invalid:5670", "--inbox", inbox, "--once", "--timeout", "5"]);
    expect(unresolved.code).toBe(1);
    expect(unresolved.stdout).toEqual([]);
    expect(unresolved.stderr).toHaveLength(1);
    expect(unresolved.stderr[0]).toMatch(/^filemq subscribe: cannot (connect "tcp:\/\/nowhere\.invalid:5670": .*ENOTFOUND|reach tcp:\/\/nowhere\.invalid:5670: no answer)/);
    // Without --once the subscriber goes on trying and says so once, as an event, with no log line besides;
    // --verbose adds the engine's own record of it.
    for (const verbose of [false, true]) {
      const running = filemq(["subscribe", "tcp://nowhere.invalid:5670", "--inbox", inbox, ...(verbose ? ["--verbose"] : [])]);
      const event = await running.line(/^connection failed: /);
      running.signal("SIGTERM");
      expect((await running.exited).code).toBe(0);
      const errors = running.stderr.filter((line) => / ERROR /.test(line));
      expect(errors).toEqual(verbose ? [expect.stringContaining(event.slice("connection failed: ".length))] : []);
      if (!verbose) expect(running.stderr).toEqual([]);
    }
  });

  it("a subscriber stopped by SIGTERM in the middle of a file says goodbye and leaves no temporary file", async () => {
    const server = registry.add(new RawServer(), async (s) => s.close());
    await server.bind();
    const inbox = await registry.directory("inbox");
    const subscriber = filemq(["subscribe", server.endpoint, "--inbox", inbox, "--json"]);
    const ohai = await server.nextOf("OHAI", 10_000);
    await server.send(ohai.routingId, { message: "OHAI_OK" });
    await server.nextOf("NOM");
    await server.send(ohai.routingId, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/dir/half.bin", offset: 0n, chunk: randomBytes(500_000) });
    await subscriber.event((event) => event.event === "progress");
    expect((await allPaths(inbox)).some((name) => name.endsWith(".part"))).toBe(true);
    subscriber.signal("SIGTERM");
    expect((await subscriber.exited).code).toBe(0);
    expect(await allPaths(inbox)).toEqual([".cache", "dir"]);
    await server.nextOf("KTHXBAI");
  });
});

const HAVE_SCRIPT = spawnSync("script", ["--version"]).status === 0;

/** Runs `filemq` on a pseudo-terminal made by util-linux `script`: its exit status and what the terminal got. */
function onTerminal(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, FILEMQ, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], timeout: 30_000 });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * The lines a terminal shows of some output, near enough: each line is what was last written after the
 * cursor went back to its start (carriage return, CSI 1 G, or the line erased with CSI 2 K), other control
 * sequences dropped.
 */
function terminalLines(output: string): string[] {
  return output.split("\n").map((line) => {
    const pieces = line.split(/\r|\x1b\[1G|\x1b\[2K/).map((piece) => piece.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trim());
    return pieces.filter((piece) => piece !== "").at(-1) ?? "";
  });
}

describe.runIf(HAVE_SCRIPT)("on a terminal (script -qefc)", () => {
  it("subscribe --once prints its last line, 'caught up', above the live display it clears", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "a.txt": "a\n", "b/c.bin": randomBytes(3_000_000) });
    const { endpoint } = await publisherOf(registry, source);
    const inbox = await registry.directory("inbox");
    const { code, output } = await onTerminal(["subscribe", endpoint, "--inbox", inbox, "--once"]);
    expect(code).toBe(0);
    const lines = terminalLines(output);
    expect(lines).toContain(`connected to ${endpoint}`);
    expect(lines).toContain("delivered /b/c.bin (3.00 MB)");
    // A line of its own, not the live status line ("caught up 2 files, ..."), which is cleared at the end.
    expect(lines).toContain("caught up");
    await mirrored(source, inbox);
  });
});

describe("relay --json", () => {
  it("writes one JSON object per line, each saying which side it is about, as its help says", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "a.txt": "relayed\n" });
    const { endpoint: upstream } = await publisherOf(registry, source);
    const downstream = await freeEndpoint();
    const relay = filemq(["relay", upstream, "--inbox", await registry.directory("relay"), "--bind", downstream, "--json"]);
    const inbox = await registry.directory("inbox");
    const { subscriber } = await subscriberOf(registry, downstream, inbox);
    await subscriber.caughtUp();
    await relay.event((event) => event.event === "sent" && event.filename === "/a.txt", 15_000, "the file sent downstream");
    relay.signal("SIGTERM");
    expect((await relay.exited).code).toBe(0);
    const records = relay.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.side !== "upstream" && record.side !== "downstream")).toEqual([]);
    expect(records.filter((record) => record.event === "delivered").map((record) => record.side)).toEqual(["upstream"]);
    expect(records.filter((record) => record.event === "sent").map((record) => record.side)).toEqual(["downstream"]);
  });
});

describe("a reader that goes away", () => {
  it("stops a subscriber writing --json into a pipe cleanly, as a signal would", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    const { endpoint } = await publisherOf(registry, source);
    const subscriber = filemq(["subscribe", endpoint, "--inbox", inbox, "--json"]);
    await subscriber.event((event) => event.event === "connected");
    // `filemq subscribe --json | head -1`: the reader is gone when the next event is written.
    subscriber.child.stdout?.destroy();
    await writeTree(source, { "later.txt": "after the reader left\n" });
    expect((await subscriber.exited).code).toBe(0);
    expect(subscriber.stderr).toEqual([]);
    expect((await allPaths(inbox)).filter((name) => name.endsWith(".part"))).toEqual([]);
  });
});

describe("a full disk", () => {
  it("makes no partial file visible, goes on with the other files, and --once exits 1 saying so", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    // Under RLIMIT_FSIZE a write past the limit fails (EFBIG) as it would on a full disk. One file is written
    // in one small chunk, the other in large chunks written in the background.
    await writeTree(source, { "big.bin": randomBytes(200_000), "huge.bin": randomBytes(3_000_000), "small.txt": "fits\n", "zz-after.txt": "after\n" });
    const { endpoint } = await publisherOf(registry, source);
    const subscriber = filemq(["subscribe", endpoint, "--inbox", inbox, "--once", "--json"], { wrapper: ["prlimit", "--fsize=150000"] });
    expect((await subscriber.exited).code).toBe(1);
    expect(subscriber.stderr.at(-1)).toBe(`filemq subscribe: caught up, but 2 files could not be written into ${inbox}`);
    expect(subscriber.events().filter((event) => event.event === "failed").map((event) => event.filename)).toEqual(["/big.bin", "/huge.bin"]);
    expect(await allPaths(inbox)).toEqual([".cache", "small.txt", "zz-after.txt"]);
  });
});

describe("a disk too full for the digest cache", () => {
  it("leaves no temporary file of it, and warns: the mirror is whole, so --once still exits 0", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    // Every file fits under the limit; the cache, a line per file, does not.
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.txt`, `file ${i}\n`]));
    await writeTree(source, files);
    const { endpoint } = await publisherOf(registry, source);
    const subscriber = filemq(["subscribe", endpoint, "--inbox", inbox, "--once"], { wrapper: ["prlimit", "--fsize=400"] });
    expect((await subscriber.exited).code).toBe(0);
    expect(subscriber.stderr.filter((line) => !/ WARN .*digest cache not saved: EFBIG/.test(line))).toEqual([]);
    expect(subscriber.stderr).not.toEqual([]);
    expect((await allPaths(inbox)).filter((name) => name.startsWith(".fmq-"))).toEqual([]);
    expect(await treeDigests(inbox)).toEqual(await treeDigests(source));
  });
});

describe("crashes and restarts", () => {
  it("a subscriber killed with SIGKILL mid-transfer and restarted ends identical; no partial file is ever visible", { timeout: 60_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    // Big enough that the transfer is still under way when the kill lands (a random block repeated).
    const block = randomBytes(4_000_000);
    const files: Record<string, Uint8Array> = { "big/one.bin": Buffer.concat(Array.from({ length: 100 }, (_, i) => { block[0] = i; return Buffer.from(block); })), "big/two.bin": randomBytes(60_000_000) };
    for (let i = 0; i < 50; i++) files[`small/${i}.dat`] = randomBytes(1000 + i);
    await writeTree(source, files);
    const { endpoint } = await publisherOf(registry, source);
    const sizes = new Map(Object.entries(files).map(([name, contents]) => [name, contents.length]));

    // Whatever is visible under a published name must be the whole file (it arrives by rename).
    const partials: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [name, digestSize] of await visibleSizes(inbox)) if (sizes.get(name) !== digestSize) partials.push(`${name}: ${digestSize}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    const first = filemq(["subscribe", endpoint, "--inbox", inbox, "--json"]);
    await first.event((event) => event.event === "progress" && String(event.filename).startsWith("/big/"), 20_000, "a big file under way");
    first.signal("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const leftovers = (await allPaths(inbox)).filter((name) => name.endsWith(".part"));
    expect(leftovers.length).toBe(1);

    const second = filemq(["subscribe", endpoint, "--inbox", inbox, "--once", "--json"]);
    expect((await second.exited).code).toBe(0);
    watching = false;
    await watcher;
    expect(partials).toEqual([]);
    expect(await treeDigests(inbox)).toEqual(await treeDigests(source));
    expect((await allPaths(inbox)).filter((name) => name.endsWith(".part"))).toEqual([]);
    // Files the first run completed were not sent again (the digest cache), except what did not fit its 255 entries.
    const again = second.events().filter((event) => event.event === "delivered").map((event) => String(event.filename));
    const firstDelivered = first.events().filter((event) => event.event === "delivered").map((event) => String(event.filename));
    for (const filename of firstDelivered) expect(again).not.toContain(filename);
  });

  it("a publisher restarted while a subscriber runs is caught up with, changes made meanwhile included (F5)", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, { "stays.txt": "stays\n", "goes.txt": "goes\n", "changes.txt": "before\n" });
    const endpoint = await freeEndpoint();
    // Same port again for both runs: the subscriber knows only the endpoint.
    const run = async (): Promise<Awaited<ReturnType<typeof publisherOf>>["publisher"]> => {
      const { publisher } = await publisherOf(registry, source);
      await publisher.bind(endpoint);
      return publisher;
    };
    const publisher = await run();
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox, { heartbeat: 300, backoff: { initial: 100, max: 500 } });
    await subscriber.caughtUp();
    await publisher.close();
    await rm(join(source, "goes.txt"));
    await writeFile(join(source, "changes.txt"), "after, and longer\n");
    await writeTree(source, { "new.txt": "new\n" });
    await eventually(() => events.some((event) => event.type === "disconnected"), 5000, "the subscriber to notice");
    await run();
    await mirrored(source, inbox);
    expect(events.filter((event) => event.type === "connected").length).toBeGreaterThanOrEqual(2);
  });
});
