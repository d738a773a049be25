/**
 * `filemq passwd` (runPasswd): the password from a pipe or from a real pseudo-terminal without echo, the
 * accounts file it writes (ZPL, mode 0600, atomic, other accounts and comments kept), and its refusals.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseZpl } from "../../runtime/zpl/index.js";
import { PasswdAbortedError, SaslCredentialError, hashPassword, runPasswd, verifyPassword } from "../../protocols/sasl/index.js";
import { FAST, attempt, authenticatorFor, rejection } from "./support.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sasl-passwd-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A non-terminal input holding `text`, and an output that collects what was written. */
function pipes(text: string | Buffer) {
  const input = new PassThrough();
  input.end(text);
  const output = new PassThrough();
  let written = "";
  output.on("data", (chunk: Buffer) => (written += chunk.toString()));
  return { input, output, written: () => written };
}

async function passwd(file: string, user: string, text: string | Buffer) {
  const io = pipes(text);
  await runPasswd({ file, user, input: io.input, output: io.output, params: FAST });
  return io.written();
}

async function accountHash(file: string, login: string): Promise<string | undefined> {
  const root = parseZpl(await readFile(file, "utf8"));
  return root.all("account").find((account) => account.get("login") === login)?.get("hash");
}

describe("runPasswd from a pipe", () => {
  it("creates the accounts file with mode 0600 and a hash of the first line, never printing the password", async () => {
    const file = join(dir, "new.zpl");
    const written = await passwd(file, "guest", "Pipe-Secret-1\nignored second line\n");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const hash = await accountHash(file, "guest");
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword("Pipe-Secret-1", hash ?? "")).toBe(true);
    expect(written).toBe(`added account "guest" to ${file}\n`);
    expect(written + (await readFile(file, "utf8"))).not.toContain("Pipe-Secret");
  });

  it("uses the default scrypt parameters unless told otherwise, and accepts a last line without a line break", async () => {
    const file = join(dir, "defaults.zpl");
    const io = pipes("crlf-pw\r\n");
    await runPasswd({ file, user: "guest", input: io.input, output: io.output });
    const hash = (await accountHash(file, "guest")) ?? "";
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword("crlf-pw", hash)).toBe(true);
    await passwd(file, "other", "no-newline");
    expect(await verifyPassword("no-newline", (await accountHash(file, "other")) ?? "")).toBe(true);
  });

  it("replaces an existing account's hash (matched after preparation), dropping a cleartext password, keeping the rest", async () => {
    const file = join(dir, "existing.zpl");
    const adminHash = await hashPassword("admin-pw", FAST);
    await writeFile(file, `# FileMQ accounts\naccount\n    login = ｇｕｅｓｔ\n    password = old-clear\n    group = visitors\naccount\n    login = admin\n    hash = "${adminHash}"\n`);
    await chmod(file, 0o640);
    const written = await passwd(file, "guest", "New-Secret-2\n");
    const text = await readFile(file, "utf8");
    expect(text).not.toContain("old-clear");
    expect(text).toContain("# FileMQ accounts");
    const root = parseZpl(text);
    expect(root.all("account")).toHaveLength(2);
    expect(root.all("account")[0].get("group")).toBe("visitors");
    expect(await verifyPassword("New-Secret-2", root.all("account")[0].get("hash") ?? "")).toBe(true);
    expect(root.all("account")[1].get("hash")).toBe(adminHash);
    // An existing file keeps its mode; its openness is pointed out.
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(written).toContain(`warning: ${file} can be read by other users (mode 640); chmod 600 ${file}`);
    expect(written).toContain(`changed the password of "guest" in ${file}`);
    // And the server accepts the result.
    const config = parseZpl(`security\n    plain = 1\n        file = "${file}"\n`);
    const { auth } = await authenticatorFor(config);
    expect(await auth.authenticate(attempt("guest", "New-Secret-2"))).toEqual({ granted: true, login: "ｇｕｅｓｔ".normalize("NFKC"), group: "visitors" });
    expect(await auth.authenticate(attempt("admin", "admin-pw"))).toMatchObject({ granted: true });
  });

  it("leaves no temporary file behind", async () => {
    const sub = join(dir, "tidy");
    await rm(sub, { recursive: true, force: true });
    await (await import("node:fs/promises")).mkdir(sub);
    await passwd(join(sub, "a.zpl"), "guest", "pw-1\n");
    await passwd(join(sub, "a.zpl"), "guest", "pw-2\n");
    expect(await readdir(sub)).toEqual(["a.zpl"]);
  });

  it("refuses empty input, an empty or unusable password, and an unusable login, writing nothing", async () => {
    const file = join(dir, "refused.zpl");
    const cases: [string, string | Buffer, new (...args: never[]) => Error, RegExp][] = [
      ["guest", "", PasswdAbortedError, /no password given/],
      ["guest", "\n", SaslCredentialError, /^The password is empty\.$/],
      ["guest", "Tab\tSecret\n", SaslCredentialError, /^The password contains a control character/],
      ["guest", Buffer.from([0x41, 0xff, 0x0a]), SaslCredentialError, /^The password is not valid UTF-8\.$/],
      ["guest", "x".repeat(2000) + "\n", PasswdAbortedError, /longer than 1024 octets/],
      ["", "pw\n", SaslCredentialError, /^The login is empty\.$/],
      ["bad\nlogin", "pw\n", SaslCredentialError, /^The login contains a control character/],
    ];
    for (const [user, text, type, message] of cases) {
      const io = pipes(text);
      const error = await rejection(runPasswd({ file, user, input: io.input, output: io.output, params: FAST }));
      expect(error).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain("Secret");
    }
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it("refuses an accounts file that is not valid ZPL, and leaves it alone", async () => {
    const file = join(dir, "broken.zpl");
    await writeFile(file, "account\n  login = x\n");
    expect((await rejection(passwd(file, "guest", "pw\n"))).message).toMatch(/is not a valid accounts file: .*broken\.zpl:2:3/);
    expect(await readFile(file, "utf8")).toBe("account\n  login = x\n");
  });

  it("refuses a terminal whose echo cannot be turned off", async () => {
    const io = pipes("pw\n");
    const input = Object.assign(io.input, { isTTY: true });
    expect((await rejection(runPasswd({ file: join(dir, "tty.zpl"), user: "guest", input, output: io.output }))).message).toMatch(/echo cannot be turned off/);
  });
});

const HAVE_SCRIPT = spawnSync("script", ["--version"]).status === 0;
const CHILD = fileURLToPath(new URL("./child/passwd.ts", import.meta.url));
const REGISTER = fileURLToPath(new URL("../engine/child/register.mjs", import.meta.url));

/**
 * Runs the passwd child on a real pseudo-terminal made by util-linux `script`, answering each prompt with
 * the next entry once the prompt has appeared (so nothing is typed before echo is off).
 */
function onTerminal(file: string, user: string, entries: readonly string[]): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, "--import", REGISTER, CHILD, file, user].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
  let output = "";
  let answered = 0;
  const prompts = [/Password for [^:]*: $/, /Retype password: $/];
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    while (answered < entries.length && prompts[Math.min(answered, 1)].test(output.trimEnd() + " ")) {
      child.stdin.write(entries[answered]);
      answered++;
      output += "\u0000"; // marks the answer, so the same prompt is not answered twice
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: output.replaceAll("\u0000", "") }));
  });
}

describe.runIf(HAVE_SCRIPT)("runPasswd on a pseudo-terminal (script -qefc)", () => {
  it("prompts twice without echo and stores the hash", async () => {
    const file = join(dir, "tty-ok.zpl");
    const { code, output } = await onTerminal(file, "guest", ["Tty-Secret-3\r", "Tty-Secret-3\r"]);
    expect(output).toContain("Password for guest: ");
    expect(output).toContain("Retype password: ");
    expect(output).toContain(`added account "guest" to ${file}`);
    expect(output).not.toContain("Tty-Secret");
    expect(code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const hash = (await accountHash(file, "guest")) ?? "";
    expect(await verifyPassword("Tty-Secret-3", hash)).toBe(true);
  });

  it("applies backspace and Ctrl-U as a terminal would", async () => {
    const file = join(dir, "tty-edit.zpl");
    const { code, output } = await onTerminal(file, "guest", ["wrong\x15Ed1tX\x7f\r", "Ed1t\r"]);
    expect(code).toBe(0);
    expect(await verifyPassword("Ed1t", (await accountHash(file, "guest")) ?? "")).toBe(true);
    expect(output).not.toContain("Ed1t");
  });

  it("refuses two different entries and writes nothing", async () => {
    const file = join(dir, "tty-differ.zpl");
    const { code, output } = await onTerminal(file, "guest", ["One-Secret\r", "Two-Secret\r"]);
    expect(code).toBe(1);
    expect(output).toContain("passwd: the two passwords differ; nothing was changed");
    expect(output).not.toContain("-Secret");
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it("stops on Ctrl-C and writes nothing", async () => {
    const file = join(dir, "tty-interrupt.zpl");
    const { code, output } = await onTerminal(file, "guest", ["half\x03"]);
    expect(code).toBe(1);
    expect(output).toContain("passwd: interrupted");
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });
});
