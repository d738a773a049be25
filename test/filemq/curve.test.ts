/**
 * FileMQ over CURVE (`sasl-plain.md` §6): certificates from `filemq keygen`; a subscriber that knows the
 * publisher's public key mirrors the tree; one that does not, or whose key is not on the publisher's list,
 * gets nothing; SASL PLAIN inside the encrypted connection draws no warning about passwords in clear.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseZpl } from "../../runtime/zpl/parse.js";
import { readCertificate, writeCertificatePair } from "../../protocols/filemq/curve.js";
import { startRelay } from "../../protocols/filemq/relay.js";
import { startPublisher } from "../../protocols/filemq/server.js";
import { MemoryLogger } from "../support/engines.js";
import { runFilemq } from "./cli-process.js";
import { Registry, mirrored, subscriberOf, testLogger, treeDigests, writeTree } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

describe("CURVE", () => {
  it("filemq keygen writes a secret certificate for its owner only and a public one", async () => {
    const directory = await registry.directory("keys");
    const run = await runFilemq(["keygen", join(directory, "server.cert")]);
    expect(run.code).toBe(0);
    expect((await stat(join(directory, "server.cert"))).mode & 0o777).toBe(0o600);
    const own = await readCertificate(join(directory, "server.cert"), { secret: true });
    const shared = await readCertificate(join(directory, "server.cert.pub"), { secret: false });
    expect(shared.publicKey).toBe(own.publicKey);
    expect(await readFile(join(directory, "server.cert.pub"), "utf8")).not.toContain("secret-key");
    expect((await runFilemq(["keygen", join(directory, "server.cert")])).code).toBe(1);
    await expect(readCertificate(join(directory, "server.cert.pub"), { secret: true })).rejects.toThrow(/no valid curve\/secret-key/);
  });

  it("mirrors for a subscriber that knows the publisher's key, and for no one else on the allow list's terms", { timeout: 30_000 }, async () => {
    const keys = await registry.directory("keys");
    for (const name of ["server", "member", "stranger"]) await writeCertificatePair(join(keys, `${name}.cert`));
    const source = await registry.directory("src");
    await writeTree(source, { "secret-plans.txt": "encrypted on the wire\n" });
    const config = parseZpl([
      "server", "    stable_age = 100", "security", "    anonymous = 1", "    curve = 1",
      `        certificate = ${join(keys, "server.cert")}`, `        client = ${join(keys, "member.cert.pub")}`, "",
    ].join("\n"));
    const publisher = registry.add(await startPublisher({ config, mounts: [{ location: source, alias: "/" }], logger: testLogger }), (p) => p.close());
    await new Promise((resolve) => setTimeout(resolve, 150));
    await publisher.rescan();
    const endpoint = await publisher.bind("tcp://127.0.0.1:*");
    const serverKey = (await readCertificate(join(keys, "server.cert.pub"), { secret: false })).publicKey;
    const member = await readCertificate(join(keys, "member.cert"), { secret: true });

    const inbox = await registry.directory("inbox");
    const { subscriber } = await subscriberOf(registry, endpoint, inbox, { security: { mechanism: "curve", serverKey, publicKey: member.publicKey, secretKey: member.secretKey ?? "" } });
    await subscriber.caughtUp();
    await mirrored(source, inbox);

    // A client without CURVE hears nothing; one with an unlisted key, or the wrong server key, is refused at
    // the handshake and says so in one line.
    const outsiders: [string[], RegExp][] = [
      [[], /^filemq subscribe: cannot reach tcp:\/\/127\.0\.0\.1:\d+: no answer within 2 s$/],
      [["--curve-server", join(keys, "server.cert.pub"), "--curve", join(keys, "stranger.cert")], /^filemq subscribe: handshake with "tcp:\/\/127\.0\.0\.1:\d+" refused/],
      [["--curve-server", join(keys, "stranger.cert.pub")], /^filemq subscribe: handshake with "tcp:\/\/127\.0\.0\.1:\d+" refused/],
    ];
    for (const [args, line] of outsiders) {
      const outsider = await registry.directory("inbox");
      const run = await runFilemq(["subscribe", endpoint, "--inbox", outsider, "--once", "--timeout", "2", ...args]);
      expect(run.code).toBe(1);
      // One line, on stderr, and no other (no log record of the same failure, no event line on stdout).
      expect(run.stderr).toEqual([expect.stringMatching(line)]);
      expect(run.stdout.filter((output) => /connection failed/.test(output))).toEqual([]);
      expect([...(await treeDigests(outsider)).keys()]).toEqual([]);
    }
    const cli = await registry.directory("inbox");
    const ok = await runFilemq(["subscribe", endpoint, "--inbox", cli, "--once", "--curve-server", join(keys, "server.cert.pub"), "--curve", join(keys, "member.cert")]);
    expect(ok.code).toBe(0);
    await mirrored(source, cli);
  });

  it("a relay reaches a CURVE publisher upstream and serves its mirror downstream", { timeout: 30_000 }, async () => {
    const keys = await registry.directory("keys");
    await writeCertificatePair(join(keys, "server.cert"));
    const source = await registry.directory("src");
    await writeTree(source, { "relayed.txt": "through an encrypted hop\n" });
    const config = parseZpl(["server", "    stable_age = 100", "security", "    anonymous = 1", "    curve = 1", `        certificate = ${join(keys, "server.cert")}`, ""].join("\n"));
    const publisher = registry.add(await startPublisher({ config, mounts: [{ location: source, alias: "/" }], logger: testLogger }), (p) => p.close());
    await new Promise((resolve) => setTimeout(resolve, 150));
    await publisher.rescan();
    const upstream = await publisher.bind("tcp://127.0.0.1:*");
    const serverKey = (await readCertificate(join(keys, "server.cert.pub"), { secret: false })).publicKey;
    const relay = registry.add(await startRelay({
      upstream, inbox: await registry.directory("relay"), logger: testLogger,
      subscriber: { security: { mechanism: "curve", serverKey } },
    }), (r) => r.close());
    const downstream = await relay.bind("tcp://127.0.0.1:*");
    const inbox = await registry.directory("inbox");
    await subscriberOf(registry, downstream, inbox);
    await mirrored(source, inbox);
  });

  it("does not warn about PLAIN passwords in clear when CURVE protects them", async () => {
    const keys = await registry.directory("keys");
    await writeCertificatePair(join(keys, "server.cert"));
    const logger = new MemoryLogger();
    const source = await registry.directory("src");
    const config = parseZpl(["security", "    curve = 1", `        certificate = ${join(keys, "server.cert")}`, "    plain = 1", "        account", "            login = guest", "            password = guest", ""].join("\n"));
    const publisher = registry.add(await startPublisher({ config, mounts: [{ location: source, alias: "/" }], logger }), (p) => p.close());
    await publisher.bind("tcp://127.0.0.1:*");
    expect(logger.messages("warn").filter((message) => /travel in clear/.test(message))).toEqual([]);
  });
});
