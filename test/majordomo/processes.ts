/**
 * Child processes for the CLI and interop tests: the built `majordomo` CLI and Python peers, run as a user
 * would run them, with their output kept for assertions and a teardown that stops them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { eventually } from "../support/engines.js";
import type { Teardown } from "./support.js";

/** The built CLI (npm test builds first). */
export const MAJORDOMO = "dist/bin/majordomo.js";

/** Debian's interpreter, the one with python3-zmq (the python3 on PATH may lack it). */
export const PYTHON = "/usr/bin/python3";

/** A process that runs until stopped, with what it wrote so far. */
export class Running {
  stdout = "";
  stderr = "";
  exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  constructor(teardown: Teardown, readonly child: ChildProcess, readonly what: string) {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once("exit", (code) => {
      this.exitCode = code;
      resolve();
    }));
    teardown.add(() => this.stop());
  }

  /** Waits until `condition` holds for what the process wrote; fails with its output otherwise. */
  async waitFor(condition: (process: Running) => boolean, timeoutMs = 10_000, what = "output"): Promise<void> {
    try {
      await eventually(() => condition(this) || this.exitCode !== undefined, timeoutMs, what);
    } catch (error) {
      throw new Error(`${this.what}: ${(error as Error).message}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
    }
    if (!condition(this)) throw new Error(`${this.what} exited (${this.exitCode}) before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
  }

  /** Sends SIGTERM (or `signal`) and waits for the exit; SIGKILL if it does not go. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null | undefined> {
    if (this.exitCode === undefined) {
      this.child.kill(signal);
      const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    return this.exitCode;
  }

  /** Waits for the process to end by itself. */
  async done(timeoutMs = 20_000): Promise<number | null | undefined> {
    await this.waitFor(() => this.exitCode !== undefined, timeoutMs, "the exit");
    return this.exitCode;
  }
}

/** Starts `node dist/bin/majordomo.js args...`. */
export function majordomo(teardown: Teardown, args: string[], input?: string): Running {
  const child = spawn(process.execPath, [MAJORDOMO, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  return new Running(teardown, child, `majordomo ${args.join(" ")}`);
}

/** Runs the CLI to its end. */
export async function runMajordomo(teardown: Teardown, args: string[], input?: string): Promise<{ code: number | null | undefined; stdout: string; stderr: string }> {
  const run = majordomo(teardown, args, input);
  const code = await run.done();
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** A broker started by the CLI on a free loopback port; resolves once it printed its endpoint. */
export async function cliBroker(teardown: Teardown, extra: string[] = []): Promise<{ broker: Running; endpoint: string }> {
  const broker = majordomo(teardown, ["broker", "--bind", "tcp://127.0.0.1:*", ...extra]);
  await broker.waitFor((process) => /^tcp:\/\/\S+\n/.test(process.stdout), 10_000, "the bound endpoint");
  return { broker, endpoint: broker.stdout.split("\n")[0] };
}

/**
 * Whether Debian's python3 can import zmq; the interop tests need it (`.ci/run` installs python3-zmq).
 * Returns the reason when it cannot.
 */
export function pythonZmqMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import zmq"], { encoding: "utf8" });
  if (probe.error !== undefined) return `${PYTHON} cannot run (${probe.error.message}): install python3 and python3-zmq (apt-get install -y python3-zmq)`;
  if (probe.status !== 0) return `${PYTHON} cannot import zmq: install python3-zmq (apt-get install -y python3-zmq)`;
  return undefined;
}

/** Starts `/usr/bin/python3 -u -B script args...` (unbuffered, and no __pycache__ in the fixtures). */
export function python(teardown: Teardown, script: string, args: string[]): Running {
  const child = spawn(PYTHON, ["-u", "-B", script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin?.end();
  return new Running(teardown, child, `python ${script}`);
}
