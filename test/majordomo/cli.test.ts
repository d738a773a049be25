/**
 * The `majordomo` CLI as a user runs it: the built command in child processes (broker, worker with a shell
 * command, request, services), its help, its exit statuses and its one-line failures.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../support/engines.js";
import { Teardown } from "./support.js";
import { cliBroker, majordomo, runMajordomo } from "./processes.js";

const teardown = new Teardown();
afterEach(() => teardown.run());

/** The process ids of a process's children (Linux /proc). */
function childrenOf(pid: number | undefined): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  return existsSync(file) ? readFileSync(file, "utf8").trim().split(/\s+/).filter((id) => id !== "").map(Number) : [];
}

/** A worker process serving `service` with a shell command, once it is registered (MMI says 200). */
async function cliWorker(endpoint: string, service: string, command: string[], options: string[] = []): Promise<ReturnType<typeof majordomo>> {
  const worker = majordomo(teardown, ["worker", endpoint, service, "--reconnect", "200", ...options, "--", ...command]);
  for (let tries = 0; ; tries++) {
    const probe = await runMajordomo(teardown, ["services", endpoint, service, "--timeout", "1000"]);
    if (probe.code === 0) return worker;
    if (tries > 40 || worker.exitCode !== undefined) throw new Error(`worker did not register: ${worker.stderr}`);
  }
}

describe("majordomo --help", () => {
  it("prints the commands, and each command's options", async () => {
    const top = await runMajordomo(teardown, ["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("Usage: majordomo <command> [options]");
    for (const command of ["broker", "worker", "request", "services"]) {
      const help = await runMajordomo(teardown, [command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: majordomo ${command} `));
      expect(help.stdout).toContain("--verbose");
      expect(help.stderr).toBe("");
      expect((await runMajordomo(teardown, ["help", command])).stdout).toBe(help.stdout);
    }
    expect((await runMajordomo(teardown, ["--version"])).stdout).toMatch(/^majordomo \d+\.\d+\.\d+\n$/);
  });

  it("says in one line what is wrong with a command line, and exits 2", async () => {
    for (const [args, message] of [
      [["frobnicate"], "majordomo: unknown command 'frobnicate'"],
      [["request", "tcp://127.0.0.1:1"], "majordomo request: needs ENDPOINT, SERVICE and at least one BODY"],
      [["request", "tcp://127.0.0.1:1", "echo", "x", "--timeout", "soon"], 'majordomo request: --timeout must be a whole number, not "soon"'],
      [["worker", "tcp://127.0.0.1:1", "echo"], "majordomo worker: needs a command after --, e.g. -- tr a-z A-Z"],
      [["broker"], "majordomo broker: needs --bind ENDPOINT or a --config file that binds one"],
      [["services", "--bogus"], "majordomo services: unknown option '--bogus'"],
    ] as [string[], string][]) {
      const run = await runMajordomo(teardown, args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.split("\n")[0], args.join(" ")).toBe(message);
      expect(run.stdout).toBe("");
    }
  });
});

describe("majordomo broker, worker, request and services", () => {
  it("serve a request with a shell command and print the reply", async () => {
    const { endpoint } = await cliBroker(teardown);
    await cliWorker(endpoint, "upper", ["tr", "a-z", "A-Z"]);
    const reply = await runMajordomo(teardown, ["request", endpoint, "upper", "hello"]);
    expect(reply).toEqual({ code: 0, stdout: "HELLO\n", stderr: "" });
    const json = await runMajordomo(teardown, ["request", endpoint, "upper", "a", "b", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ service: "upper", body: [{ text: "AB" }] });
    const piped = await runMajordomo(teardown, ["request", endpoint, "upper", "-"], "from stdin\n");
    expect(piped.stdout).toBe("FROM STDIN\n");
  });

  it("carry frames over the default 1 MiB limit when every side is given --max-message-size", async () => {
    const limit = ["--max-message-size", String(4 << 20)];
    const { endpoint } = await cliBroker(teardown, limit);
    await cliWorker(endpoint, "echo", ["cat"], limit);
    const big = `${"x".repeat(2 << 20)}\n`;
    const reply = await runMajordomo(teardown, ["request", endpoint, "echo", "-", ...limit], big);
    expect(reply.code).toBe(0);
    expect(reply.stdout.length).toBe(big.length);
  });

  it("answer MMI questions one line per name, exit 1 when a name has no worker", async () => {
    const { endpoint } = await cliBroker(teardown);
    await cliWorker(endpoint, "echo", ["cat"]);
    expect(await runMajordomo(teardown, ["services", endpoint, "echo"])).toEqual({ code: 0, stdout: "echo 200\n", stderr: "" });
    const mixed = await runMajordomo(teardown, ["services", endpoint, "echo", "nothing", "--json"]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout.trim().split("\n").map((line) => JSON.parse(line) as object)).toEqual([{ service: "echo", code: 200 }, { service: "nothing", code: 404 }]);
  });

  it("fail in one line with a non-zero exit when no worker offers the service, or no broker answers", async () => {
    const { endpoint } = await cliBroker(teardown);
    const missing = await runMajordomo(teardown, ["request", endpoint, "nothing", "x", "--timeout", "200", "--retries", "1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('majordomo: no worker offers service "nothing" (the broker says 404; 2 attempts of 200 ms)\n');
    const silent = await runMajordomo(teardown, ["request", "tcp://127.0.0.1:1", "echo", "x", "--timeout", "100", "--retries", "0"]);
    expect(silent.code).toBe(1);
    expect(silent.stderr).toBe('majordomo: no answer from the broker for service "echo" (1 attempt of 100 ms)\n');
  });

  it("log a command that fails and answer nothing, then go on serving", async () => {
    const { endpoint } = await cliBroker(teardown);
    const worker = await cliWorker(endpoint, "picky", ["sh", "-c", 'read x; if [ "$x" = bad ]; then echo "refused $x" >&2; exit 3; fi; echo "ok $x"']);
    const refused = await runMajordomo(teardown, ["request", endpoint, "picky", "bad\n", "--timeout", "1000", "--retries", "0"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('majordomo: service "picky" did not reply (1 attempt of 1000 ms; the broker says it has a worker)\n');
    await worker.waitFor((process) => process.stderr.includes("sh exited with status 3: refused bad"), 10_000, "the failure to be logged");
    expect((await runMajordomo(teardown, ["request", endpoint, "picky", "good\n"])).stdout).toBe("ok good\n");
  });

  it("stop a worker on SIGTERM while its command runs: the command gets the signal, the broker the DISCONNECT", async () => {
    const { endpoint, broker } = await cliBroker(teardown);
    const worker = await cliWorker(endpoint, "stuck", ["sleep", "30"]);
    const request = majordomo(teardown, ["request", endpoint, "stuck", "x", "--timeout", "30000", "--retries", "0"]);
    await eventually(() => childrenOf(worker.child.pid).length > 0, 10_000, "the command to run");
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(worker.stderr).toContain("sleep was killed by SIGTERM");
    // Handed on at once because the worker said DISCONNECT, not once its silence expired.
    await broker.waitFor((process) => process.stderr.includes("worker gone holding a request"), 10_000, "the request to be handed on");
    await request.stop();
  });

  it("stop a worker promptly on SIGTERM when its broker is gone: the DISCONNECT has nowhere to go", async () => {
    const { endpoint, broker } = await cliBroker(teardown);
    const worker = await cliWorker(endpoint, "orphan", ["cat"]);
    await broker.stop();
    const started = Date.now();
    expect(await worker.stop("SIGTERM")).toBe(0);
    // Before, the DISCONNECT waited the whole grace of a running command (6 s) for a broker that was not there.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("trace every message in its ZPL form with --verbose", async () => {
    const { endpoint, broker } = await cliBroker(teardown, ["--verbose"]);
    await cliWorker(endpoint, "echo", ["cat"]);
    const traced = await runMajordomo(teardown, ["request", endpoint, "echo", "hi", "--verbose"]);
    expect(traced.stdout).toBe("hi\n");
    expect(traced.stderr).toContain('--> sent\nmdp01_client_msg\n    message = "MDP01_CLIENT_MSG_REQUEST"\n    content\n        delimiter\n        protocol = "MDPC01"\n        service = "echo"\n');
    expect(traced.stderr).toContain("<-- received\nmdp01_client_msg\n");
    await broker.waitFor((process) => process.stderr.includes('message = "MDP01_WORKER_MSG_REPLY"'), 10_000, "the REPLY trace");
    expect(broker.stderr).toMatch(/<-- received\nmdp01_client_msg\n    message = "MDP01_CLIENT_MSG_REQUEST"\n    routing_id = "[0-9a-f]{10}"\n/);
    expect(broker.stderr).toContain('--> sent\nmdp01_worker_msg\n    message = "MDP01_WORKER_MSG_WORKER_REQUEST"\n');
  });

  it("run a broker from a ZPL configuration file, print every endpoint it binds, and stop on SIGTERM with status 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mdp-cli-"));
    teardown.add(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "broker.zpl");
    const ipc = `ipc://${join(dir, "broker.ipc")}`;
    writeFileSync(config, `broker\n    heartbeat = 200\n    bind\n        endpoint = tcp://127.0.0.1:*\n        endpoint = ${ipc}\n`);
    const broker = majordomo(teardown, ["broker", "--config", config]);
    await broker.waitFor((process) => process.stdout.split("\n").length > 2, 10_000, "both endpoints");
    const [tcp, second] = broker.stdout.split("\n");
    expect(tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(second).toBe(ipc);
    for (const endpoint of [tcp, ipc]) expect((await runMajordomo(teardown, ["services", endpoint, "none"])).stdout).toBe("none 404\n");
    expect(await broker.stop()).toBe(0);
  });

  it("fail in one line when an endpoint of the configuration cannot be bound", async () => {
    const { endpoint } = await cliBroker(teardown);
    const dir = mkdtempSync(join(tmpdir(), "mdp-cli-"));
    teardown.add(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "broker.zpl");
    writeFileSync(config, `broker\n    bind\n        endpoint = ${endpoint}\n`);
    const run = await runMajordomo(teardown, ["broker", "--config", config, "--bind", "tcp://127.0.0.1:*"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`majordomo: cannot bind "${endpoint}": Address already in use (EADDRINUSE)\n`);
  });

  it("refuses a configuration with a bad value in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mdp-cli-"));
    teardown.add(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "broker.zpl");
    writeFileSync(config, "broker\n    liveness = 0\n");
    const run = await runMajordomo(teardown, ["broker", "--config", config, "--bind", "tcp://127.0.0.1:*"]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe("majordomo: configuration broker/liveness must be a whole number from 1 to 858993, not 0");
  });
});
