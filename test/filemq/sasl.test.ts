/**
 * FileMQ with SASL PLAIN (`sasl-plain.md` §2–§5, `filemq.md` F11): accounts from the configuration and from a
 * `filemq passwd` file, a wrong password that gets no data and the same answer as an unknown login, any YARLY
 * content answered with SRSLY (never a crash), a server-side conversation made of the C-captured vector
 * frames, and passwords absent from every log and trace.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseZpl } from "../../runtime/zpl/parse.js";
import { hashPassword } from "../../protocols/sasl/index.js";
import { startPublisher } from "../../protocols/filemq/server.js";
import { messageTracer } from "../../protocols/filemq/cli/common.js";
import { MemoryLogger } from "../support/engines.js";
import { FILEMQ, runFilemq } from "./cli-process.js";
import { RawClient } from "./peers.js";
import { Registry, eventSeen, fmqVector, mirrored, vectorFrames, subscriberOf, testLogger, treeDigests, writeTree } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

/** A publisher of `source` that requires PLAIN, with these accounts (login → password). */
async function plainPublisher(source: string, accounts: Record<string, string>, logger = testLogger): Promise<string> {
  const lines = ["server", "    stable_age = 100", "security", "    anonymous = 0", "    plain = 1"];
  for (const [login, password] of Object.entries(accounts)) lines.push("        account", `            login = ${login}`, `            hash = "${await hashPassword(password)}"`);
  const publisher = registry.add(await startPublisher({ config: parseZpl(lines.join("\n") + "\n"), mounts: [{ location: source, alias: "/" }], logger }), (p) => p.close());
  await new Promise((resolve) => setTimeout(resolve, 150));
  await publisher.rescan();
  return publisher.bind("tcp://127.0.0.1:*");
}

function rawClient(endpoint: string): RawClient {
  return registry.add(new RawClient(endpoint), async (client) => client.close());
}

describe("SASL PLAIN", () => {
  it("lets a subscriber with the right password in, and gives a wrong password no data and the unknown login's answer", async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "secret.txt": "for members\n" });
    const endpoint = await plainPublisher(source, { guest: "guest", admin: "s3cret-pw" });

    const inbox = await registry.directory("inbox");
    const member = await subscriberOf(registry, endpoint, inbox, { login: "admin", password: "s3cret-pw" });
    await member.subscriber.caughtUp();
    await mirrored(source, inbox);

    const answers: string[] = [];
    for (const [login, password] of [["admin", "wrong"], ["nobody", "s3cret-pw"]]) {
      const denied = await registry.directory("inbox");
      const started = Date.now();
      const { events } = await subscriberOf(registry, endpoint, denied, { login, password });
      await eventSeen(events, (event) => event.type === "denied", 5000, "denied");
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      answers.push(JSON.stringify(events.filter((event) => event.type === "denied")));
      expect([...(await treeDigests(denied)).keys()]).toEqual([]);
    }
    expect(answers[0]).toBe(answers[1]);
    expect(answers[0]).toBe(JSON.stringify([{ type: "denied", reason: "access denied" }]));
  });

  it("answers any YARLY content with SRSLY, identical whatever went wrong, and keeps serving (F11)", async () => {
    const source = await registry.directory("src");
    const endpoint = await plainPublisher(source, { guest: "guest" });
    const responses: [string, Buffer][] = [
      ["PLAIN", Buffer.from("\0guest\0wrong")],
      ["PLAIN", Buffer.from("\0nobody\0guest")],
      ["GSSAPI", Buffer.from("\0guest\0guest")],
      ["ANONYMOUS", Buffer.alloc(0)],
      ["PLAIN", Buffer.alloc(0)],
      ["PLAIN", Buffer.from("guest")],
      ["PLAIN", Buffer.from("\0guest\0guest\0extra")],
      ["PLAIN", Buffer.from("someone-else\0guest\0guest")],
      ["PLAIN", Buffer.alloc(5000, 0x61)],
      ["PLAIN", Buffer.from([0, 0xff, 0xfe, 0, 0x67])],
      ["", Buffer.from("\0\0")],
    ];
    const answers = await Promise.all(responses.map(async ([mechanism, response]) => {
      const client = rawClient(endpoint);
      expect(await client.request({ message: "OHAI" })).toMatchObject({ message: "ORLY", mechanisms: ["PLAIN"], challenge: Buffer.alloc(0) });
      return client.request({ message: "YARLY", mechanism, response }, 10_000);
    }));
    for (const answer of answers) expect(answer).toEqual({ message: "SRSLY", reason: "access denied" });
    const good = rawClient(endpoint);
    await good.request({ message: "OHAI" });
    expect(await good.request({ message: "YARLY", mechanism: "PLAIN", response: Buffer.from("\0guest\0guest") }, 5000)).toEqual({ message: "OHAI_OK" });
  });

  it("answers a command sent while its login is being verified with RTFM", async () => {
    const source = await registry.directory("src");
    const endpoint = await plainPublisher(source, { guest: "guest" });
    const client = rawClient(endpoint);
    await client.request({ message: "OHAI" });
    await client.send({ message: "YARLY", mechanism: "PLAIN", response: Buffer.from("\0guest\0guest") });
    expect((await client.request({ message: "ICANHAZ", path: "/" })).message).toBe("RTFM");
  });

  it("accepts a conversation of C-captured frames: OHAI, ORLY, YARLY guest/guest, ICANHAZ with RESYNC, NOM, CHEEZBURGERs", async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "hello.txt": "Hello, World\n" });
    const endpoint = await plainPublisher(source, { guest: "guest" });
    const client = rawClient(endpoint);
    await client.sendFrames(vectorFrames(fmqVector("OHAI", "empty")));
    expect(await client.next()).toMatchObject({ message: "ORLY", mechanisms: ["PLAIN"], challenge: Buffer.alloc(0) });
    await client.sendFrames(vectorFrames(fmqVector("YARLY", "sasl-plain-guest")));
    expect(await client.next(5000)).toEqual({ message: "OHAI_OK" });
    await client.sendFrames(vectorFrames(fmqVector("ICANHAZ", "resync-cache")));
    expect(await client.next()).toEqual({ message: "ICANHAZ_OK" });
    await client.sendFrames(vectorFrames(fmqVector("NOM", "first-credit")));
    const burgers = [];
    for (let i = 0; i < 4; i++) burgers.push(await client.nextOf("CHEEZBURGER"));
    // The data chunk is byte for byte what the C server sends; its end differs by the eof octet (ours: 1).
    const chunk = fmqVector("CHEEZBURGER", "file-chunk");
    expect(burgers[0]).toMatchObject({ sequence: 0n, operation: 1, filename: "/hello.txt", offset: 0n, eof: 0 });
    expect(Buffer.from(burgers[0].chunk).toString("hex")).toBe(chunk.frames[1]);
    expect(burgers[1]).toMatchObject({ sequence: 1n, operation: 1, filename: "/hello.txt", offset: 13n, eof: 1 });
    // The cache named files this publisher does not have: they are deleted in the subscriber's mirror.
    expect(burgers.slice(2).map((burger) => [burger.operation, burger.filename])).toEqual([[2, "/diff.txt"], [2, "/same.txt"]]);
  });
});

describe("secrets", () => {
  it("never show a password in logs or --verbose traces, on either side", async () => {
    const password = "pa55-word-in-no-log";
    const serverLog = new MemoryLogger();
    const clientLog = new MemoryLogger();
    const source = await registry.directory("src");
    await writeTree(source, { "a.txt": "a\n" });
    const endpoint = await plainPublisher(source, { guest: password, other: "x" }, serverLog);
    const inbox = await registry.directory("inbox");
    const { subscriber } = await subscriberOf(registry, endpoint, inbox, { login: "guest", password, logger: clientLog, verbose: true, traceMessages: messageTracer(clientLog, true) });
    await subscriber.caughtUp();
    const wrong = await subscriberOf(registry, endpoint, await registry.directory("inbox"), { login: "guest", password: `${password}-not`, logger: clientLog, verbose: true, traceMessages: messageTracer(clientLog, true) });
    await eventSeen(wrong.events, (event) => event.type === "denied", 5000, "denied");
    expect(serverLog.messages("warn").some((message) => /SASL PLAIN passwords travel in clear on tcp:/.test(message))).toBe(true);
    const everything = JSON.stringify([...serverLog.lines, ...clientLog.lines]);
    expect(everything).toContain("YARLY");
    expect(everything).toContain("<redacted>");
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(Buffer.from(password).toString("hex"));
  });

  it("filemq passwd writes hashes; filemq subscribe --verbose reads the password from a file and never prints it", { timeout: 30_000 }, async () => {
    const password = "correct horse battery";
    const directory = await registry.directory("conf");
    const accounts = join(directory, "accounts.zpl");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [FILEMQ, "passwd", accounts, "guest"], { stdio: ["pipe", "pipe", "pipe"] });
      child.stdin.end(`${password}\n`);
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`passwd exited ${code}`))));
    });
    expect(await readFile(accounts, "utf8")).toMatch(/hash = "scrypt\$16384\$8\$1\$/);
    expect(await readFile(accounts, "utf8")).not.toContain(password);
    const config = join(directory, "server.zpl");
    await writeFile(config, ["server", "    stable_age = 100", "security", "    plain = 1", "        file = accounts.zpl", ""].join("\n"));
    const source = await registry.directory("src");
    await writeTree(source, { "a.txt": "a\n" });
    const publisher = registry.add(await startPublisher({ config, mounts: [{ location: source, alias: "/" }], logger: testLogger }), (p) => p.close());
    await new Promise((resolve) => setTimeout(resolve, 150));
    await publisher.rescan();
    const endpoint = await publisher.bind("tcp://127.0.0.1:*");
    const passwordFile = join(directory, "password");
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    const inbox = await registry.directory("inbox");
    const ok = await runFilemq(["subscribe", endpoint, "--inbox", inbox, "--user", "guest", "--password-file", passwordFile, "--once", "--verbose"]);
    expect(ok.code).toBe(0);
    expect(ok.stderr.join("\n")).toContain("YARLY");
    expect([...ok.stdout, ...ok.stderr].join("\n")).not.toContain(password);
    await writeFile(passwordFile, "wrong\n");
    const denied = await runFilemq(["subscribe", endpoint, "--inbox", await registry.directory("inbox"), "--user", "guest", "--password-file", passwordFile, "--once"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toEqual([`filemq subscribe: ${endpoint}: access denied`]);
  });
});
