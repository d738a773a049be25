/** Helpers for engine tests on real sockets. */
import { createLogger, type LogLevel, type Logger } from "../../runtime/engine/log.js";

/** A logger that keeps what it is told, so tests can assert on it. */
export class MemoryLogger implements Logger {
  readonly lines: { level: LogLevel; message: string; fields?: Readonly<Record<string, unknown>> }[] = [];

  log(level: LogLevel, message: string, fields?: Readonly<Record<string, string | number | boolean | undefined>>): void {
    this.lines.push({ level, message, ...(fields ? { fields } : {}) });
  }

  messages(level?: LogLevel): string[] {
    return this.lines.filter((line) => level === undefined || line.level === level).map((line) => line.message);
  }
}

/** Writes to stderr only when ZPROTO_TEST_VERBOSE is set. */
export const testLogger: Logger = process.env.ZPROTO_TEST_VERBOSE ? createLogger({ level: "debug" }) : { log() {} };

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
