/**
 * Loading PLAIN accounts from ZPL: inline accounts, the separate accounts file, legacy cleartext passwords,
 * and configuration errors that name their key in one clear sentence.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseZpl, writeZpl, type ZplNode } from "../../runtime/zpl/index.js";
import { SaslConfigError, hashPassword } from "../../protocols/sasl/index.js";
import { FAST, attempt, authenticatorFor, rejection } from "./support.js";

let dir: string;
let guestHash: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sasl-config-"));
  guestHash = await hashPassword("guest", FAST);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configError(config: ZplNode, options: { baseDir?: string } = {}): Promise<SaslConfigError> {
  const error = await rejection(authenticatorFor(config, options));
  if (!(error instanceof SaslConfigError)) throw error;
  return error;
}

const zpl = (...lines: string[]) => parseZpl(lines.join("\n") + "\n");

describe("inline accounts (security/plain/account)", () => {
  it("refuses an account without a login", async () => {
    const error = await configError(zpl("security", "    plain = 1", "        account", `            hash = "${guestHash}"`));
    expect(error.key).toBe("security/plain/account");
    expect(error.message).toBe('security/plain/account #1 has no login; every account needs "login = <name>".');
  });

  it("refuses a login that is the same as another after preparation", async () => {
    const error = await configError(
      zpl("security", "    plain = 1", "        account", "            login = guest", `            hash = "${guestHash}"`, "        account", "            login = ｇｕｅｓｔ", `            hash = "${guestHash}"`),
    );
    expect(error.key).toBe("security/plain/account");
    expect(error.message).toMatch(/^security\/plain\/account #2 \(login "ｇｕｅｓｔ"\) is the same login as security\/plain\/account #1 once both are prepared/);
  });

  it("refuses an unknown hash prefix, naming it but not quoting the value", async () => {
    const error = await configError(zpl("security", "    plain = 1", "        account", "            login = guest", '            hash = "md5$0123456789abcdef"'));
    expect(error.key).toBe("security/plain/account");
    expect(error.message).toMatch(/^The hash of security\/plain\/account #1 \(login "guest"\) has an unknown algorithm prefix "md5\$"/);
    expect(error.message).not.toContain("0123456789abcdef");
  });

  it("refuses a cleartext password put under hash without showing it", async () => {
    const error = await configError(zpl("security", "    plain = 1", "        account", "            login = guest", "            hash = hunter2"));
    expect(error.message).toMatch(/unknown algorithm prefix/);
    expect(error.message).not.toContain("hunter2");
  });

  it("refuses an account with both hash and password, or neither, or a key twice", async () => {
    const both = await configError(zpl("security", "    plain = 1", "        account", "            login = guest", `            hash = "${guestHash}"`, "            password = guest"));
    expect(both.message).toMatch(/has both a hash and a cleartext password; keep only the hash\.$/);
    const neither = await configError(zpl("security", "    plain = 1", "        account", "            login = guest", "            group = g"));
    expect(neither.message).toMatch(/has neither a hash nor a password/);
    const twice = await configError(zpl("security", "    plain = 1", "        account", "            login = a", "            login = b", `            hash = "${guestHash}"`));
    expect(twice.message).toBe('security/plain/account #1 has 2 "login" entries; give each account one.');
  });

  it("refuses logins and cleartext passwords PLAIN could never carry", async () => {
    const empty = await configError(zpl("security", "    plain = 1", "        account", "            login", `            hash = "${guestHash}"`));
    expect(empty.message).toBe("The login of security/plain/account #1 is empty.");
    const long = await configError(zpl("security", "    plain = 1", "        account", `            login = ${"x".repeat(256)}`, `            hash = "${guestHash}"`));
    expect(long.message).toMatch(/longer than 255 octets/);
    const badPassword = await configError(zpl("security", "    plain = 1", "        account", "            login = guest", "            password"));
    expect(badPassword.message).toMatch(/^The password of security\/plain\/account #1 \(login "guest"\) is empty, so it could never be used\.$/);
  });

  it("refuses limits that are not whole numbers in range, naming the key", async () => {
    const text = await configError(zpl("security", "    plain = 1", "        max_concurrent = four"));
    expect(text.key).toBe("security/plain/max_concurrent");
    expect(text.message).toBe('security/plain/max_concurrent must be a whole number from 1 to 64, not "four".');
    const range = await configError(zpl("security", "    plain = 1", "        max_queue = -1"));
    expect(range.message).toBe("security/plain/max_queue must be a whole number from 0 to 100000, not -1.");
  });

  it("warns about unknown entries, weak hashes and a configuration without accounts", async () => {
    const { logger } = await authenticatorFor(zpl("security", "    plain = 1", "        account", "            login = guest", `            hash = "${guestHash}"`, "            pasword = x"));
    const warnings = logger.messages("warn");
    expect(warnings).toContain('security/plain/account #1 (login "guest") has an unknown entry "pasword", which is ignored.');
    expect(warnings.some((text) => text.includes("N = 1024, weaker than the recommended 16384"))).toBe(true);
    const empty = await authenticatorFor(zpl("security", "    plain = 1"));
    expect(empty.logger.messages("warn")).toContain("security/plain has no accounts, so every PLAIN login will be refused.");
    expect(empty.auth.accountCount).toBe(0);
  });
});

describe("legacy cleartext passwords", () => {
  it("hashes them at load, warns, and removes the cleartext from the tree", async () => {
    const config = zpl("security", "    plain = 1", "        account", "            login = guest", "            password = Clear-Text-9", "            group = guest");
    const { auth, logger } = await authenticatorFor(config);
    expect(logger.messages("warn")).toContain(
      'security/plain/account #1 (login "guest") has a cleartext password: it was hashed and removed from the configuration in memory; store a hash instead (filemq passwd).',
    );
    const saved = writeZpl(config);
    expect(saved).not.toContain("Clear-Text-9");
    expect(config.locate("security/plain/account/password")).toBeUndefined();
    expect(config.get("security/plain/account/hash")).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await auth.authenticate(attempt("guest", "Clear-Text-9"))).toEqual({ granted: true, login: "guest", group: "guest" });
    // Loading the same tree again (a reload) now finds the hash and needs no cleartext.
    const again = await authenticatorFor(config);
    expect(await again.auth.authenticate(attempt("guest", "Clear-Text-9"))).toMatchObject({ granted: true });
    expect(again.logger.messages("warn").some((text) => text.includes("cleartext"))).toBe(false);
    expect(JSON.stringify([logger.lines, again.logger.lines])).not.toContain("Clear-Text-9");
  });
});

describe("the accounts file (security/plain/file)", () => {
  async function accountsFile(name: string, text: string, mode: number): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  }

  it("reads top-level accounts, relative to baseDir, alongside inline ones", async () => {
    const adminHash = await hashPassword("admin-pw", FAST);
    await accountsFile("accounts.zpl", `# accounts\naccount\n    login = admin\n    hash = "${adminHash}"\n    group = admins\n`, 0o600);
    const config = zpl("security", "    plain = 1", "        file = accounts.zpl", "        account", "            login = guest", `            hash = "${guestHash}"`);
    const { auth, logger } = await authenticatorFor(config, { baseDir: dir });
    expect(await auth.authenticate(attempt("admin", "admin-pw"))).toEqual({ granted: true, login: "admin", group: "admins" });
    expect(await auth.authenticate(attempt("guest", "guest"))).toMatchObject({ granted: true });
    expect(logger.messages("warn").some((text) => text.includes("accounts.zpl is"))).toBe(false);
  });

  it("warns when group or others can read the file", async () => {
    const path = await accountsFile("open.zpl", `account\n    login = guest\n    hash = "${guestHash}"\n`, 0o644);
    const { logger } = await authenticatorFor(zpl("security", "    plain = 1", `        file = "${path}"`));
    expect(logger.messages("warn")).toContain(`The accounts file ${path} is readable by group and others (mode 644); restrict it to its owner (chmod 600 ${path}).`);
    await chmod(path, 0o640);
    const group = await authenticatorFor(zpl("security", "    plain = 1", `        file = "${path}"`));
    expect(group.logger.messages("warn").some((text) => text.includes("readable by group (mode 640)"))).toBe(true);
  });

  it("refuses a duplicate login across config and file, naming both places", async () => {
    await accountsFile("dup.zpl", `account\n    login = guest\n    hash = "${guestHash}"\n`, 0o600);
    const error = await configError(zpl("security", "    plain = 1", "        file = dup.zpl", "        account", "            login = guest", `            hash = "${guestHash}"`), { baseDir: dir });
    expect(error.key).toBe("security/plain/file");
    expect(error.message).toMatch(/^account #1 of dup\.zpl \(login "guest"\) is the same login as security\/plain\/account #1/);
  });

  it("refuses a missing file, an invalid one and an empty key", async () => {
    const missing = await configError(zpl("security", "    plain = 1", "        file = nowhere.zpl"), { baseDir: dir });
    expect(missing.key).toBe("security/plain/file");
    expect(missing.message).toMatch(/^The accounts file named by security\/plain\/file \(.*nowhere\.zpl\) cannot be read: ENOENT/);
    await accountsFile("broken.zpl", "account\n      login = guest\n", 0o600);
    const broken = await configError(zpl("security", "    plain = 1", "        file = broken.zpl"), { baseDir: dir });
    expect(broken.message).toMatch(/is not valid ZPL: .*broken\.zpl:2:7: indentation must be a multiple of 4 spaces/);
    const empty = await configError(zpl("security", "    plain = 1", "        file"));
    expect(empty.message).toBe("security/plain/file is empty; give the path of the accounts file.");
  });

  it("warns about top-level entries other than account", async () => {
    await accountsFile("extra.zpl", `account\n    login = guest\n    hash = "${guestHash}"\nsecurity\n`, 0o600);
    const { logger } = await authenticatorFor(zpl("security", "    plain = 1", "        file = extra.zpl"), { baseDir: dir });
    expect(logger.messages("warn")).toContain('The accounts file extra.zpl has a top-level "security" entry, which is ignored; only "account" entries are read.');
  });
});
