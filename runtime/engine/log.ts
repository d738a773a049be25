/**
 * Structured logging for engines. A logger is an object you pass in; the default writes one line per record
 * to stderr. Verbose mode traces state, event and action per step, as zproto's verbose mode does.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Extra, structured facts of a record. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where engines write what happens. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Least severe level written (default `info`). */
  readonly level?: LogLevel;
  /** Written before every message, e.g. the engine's class name. */
  readonly name?: string;
  /** Where lines go (default: process.stderr). */
  readonly write?: (line: string) => void;
}

/** A logger writing `time level name: message key=value ...` lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const prefix = options.name ? `${options.name}: ` : "";
  return {
    log(level, message, fields) {
      if (ORDER[level] < threshold) return;
      let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${prefix}${message}`;
      if (fields) {
        for (const [key, value] of Object.entries(fields)) if (value !== undefined) line += ` ${key}=${typeof value === "string" && /\s/.test(value) ? JSON.stringify(value) : value}`;
      }
      write(line);
    },
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = { log() {} };

/**
 * Lets through at most `burst` records per key per `intervalMs`, and counts what it held back, so that a
 * peer sending garbage cannot flood the log.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly burst = 10,
    private readonly intervalMs = 1000,
  ) {}

  /** Whether to log now; when a new window opens, how many were suppressed in the last one. */
  allow(key: string, now = Date.now()): { allowed: boolean; suppressed: number } {
    let window = this.windows.get(key);
    if (window === undefined || now - window.start >= this.intervalMs) {
      const suppressed = window?.suppressed ?? 0;
      window = { start: now, count: 0, suppressed: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 1000) this.windows.clear();
      window.count = 1;
      return { allowed: true, suppressed };
    }
    if (window.count < this.burst) {
      window.count++;
      return { allowed: true, suppressed: 0 };
    }
    window.suppressed++;
    return { allowed: false, suppressed: 0 };
  }

  /** Logs `message` to `logger` when `key` is allowed now, with how many records of it were held back before. */
  log(logger: Logger, level: LogLevel, key: string, message: string, fields?: LogFields): void {
    const { allowed, suppressed } = this.allow(key);
    if (allowed) logger.log(level, message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
