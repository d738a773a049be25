#!/usr/bin/env node
/**
 * The `filemq` command: FileMQ publisher, subscriber and relay (protocols/filemq/cli).
 */
import { runFilemq } from "../protocols/filemq/cli/main.js";

const interrupted = new Promise<string>((resolve) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  // A reader that went away (`filemq subscribe --json | head -1`) ends a command cleanly, as SIGPIPE ends
  // other tools; unhandled, the write error would end the process before a subscriber could clean up.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "stdout error"));
});

runFilemq(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, interrupted }).then(
  (status) => {
    process.exitCode = status;
    // Whatever a library left running (a socket's last linger, a timer) must not keep a finished command alive.
    setTimeout(() => process.exit(status), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`filemq: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
