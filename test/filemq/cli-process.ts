/**
 * The `filemq` command as a child process, the way a user runs it (`dist/bin/filemq.js`, built by
 * `npm test` before the tests run): its output lines, its JSON events, and its exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventually } from "../support/engines.js";

/** The built command. */
export const FILEMQ = fileURLToPath(new URL("../../dist/bin/filemq.js", import.meta.url));

/** A running `filemq`. */
export class FilemqProcess {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = { stdout: "", stderr: "" };

  /** `netns` runs it in a network namespace; `wrapper` under a command such as `prlimit --fsize=N`. */
  constructor(args: readonly string[], options: { env?: NodeJS.ProcessEnv; netns?: string; wrapper?: readonly string[] } = {}) {
    const wrapper = options.netns !== undefined ? ["ip", "netns", "exec", options.netns] : options.wrapper ?? [];
    const command = [...wrapper, process.execPath, FILEMQ, ...args];
    this.child = spawn(command[0], command.slice(1), { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of ["stdout", "stderr"] as const) {
      this.child[stream]?.setEncoding("utf8");
      this.child[stream]?.on("data", (text: string) => {
        const lines = (this.partial[stream] + text).split("\n");
        this.partial[stream] = lines.pop() ?? "";
        this[stream].push(...lines);
      });
    }
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
  }

  /** Every JSON event printed so far (`--json`). */
  events(): Record<string, unknown>[] {
    return this.stdout.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Waits for a JSON event matching `predicate`. */
  async event(predicate: (event: Record<string, unknown>) => boolean, timeoutMs = 15_000, what = "an event"): Promise<Record<string, unknown>> {
    await eventually(() => this.events().some(predicate), timeoutMs, `${what}; stderr: ${this.stderr.join("\n")}`);
    return this.events().find(predicate) ?? {};
  }

  /** Waits for an output line matching `pattern`. */
  async line(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    await eventually(() => this.stdout.some((line) => pattern.test(line)), timeoutMs, `a line like ${pattern}; stderr: ${this.stderr.join("\n")}`);
    return this.stdout.find((line) => pattern.test(line)) ?? "";
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends it if still running (teardown). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** Runs `filemq` to its end. */
export async function runFilemq(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string[]; stderr: string[] }> {
  const process = new FilemqProcess(args, options);
  const timer = setTimeout(() => process.signal("SIGKILL"), options.timeoutMs ?? 20_000);
  const { code } = await process.exited;
  clearTimeout(timer);
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: process.stdout, stderr: process.stderr };
}
