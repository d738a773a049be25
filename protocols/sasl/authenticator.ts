/**
 * The server side of SASL PLAIN: verifies one YARLY against the configured accounts. Every failure looks the
 * same to the peer (one outcome, one answer, one minimum delay); logins are locked after repeated failures;
 * password derivations are limited in number and queue; failures are logged without the password.
 *
 * @module
 */

import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { setTimeout as sleepFor } from "node:timers/promises";
import type { ZplNode } from "../../runtime/zpl/index.js";
import { RateLimiter, createLogger, type LogFields, type Logger } from "../../runtime/engine/log.js";
import { ConcurrencyLimiter } from "./limiter.js";
import { DEFAULT_LOCKOUT_POLICY, LoginLockout, type LockoutPolicy } from "./lockout.js";
import { loadAccounts, readLimits, type Account } from "./plain-config.js";
import { PLAIN, decodePlainResponse } from "./plain-message.js";
import { DEFAULT_SCRYPT_PARAMS, dummyHash, matchesHash, type ScryptParams, type StoredHash } from "./scrypt-hash.js";
import { loginForLog } from "./text.js";

/** One YARLY as the server received it. */
export interface AuthAttempt {
  /** YARLY.mechanism. */
  readonly mechanism: string;
  /** YARLY.response, the PLAIN message. Not modified; the caller may overwrite it once this call returns. */
  readonly response: Uint8Array;
  /** The mechanisms the server listed in its ORLY for this session. */
  readonly offered: readonly string[];
  /** Identifies the session in log lines (e.g. the engine's client id). */
  readonly session: string;
}

/** Why an attempt failed. Only the server's log sees this; the peer gets {@link DENIED_REASON} whatever it is. */
export type AuthFailureReason =
  /** No account has this login. */
  | "unknown"
  /** The password does not match. */
  | "wrong"
  /** The response breaks a PLAIN rule (structure, length, UTF-8, control characters, authzid). */
  | "malformed"
  /** The mechanism is not PLAIN, or PLAIN was not offered. */
  | "mechanism"
  /** The login is locked after repeated failures; nothing was verified. */
  | "locked"
  /** Too many verifications at once, or the verifier failed. */
  | "overload"
  /** The authenticator was closed before the attempt was decided. */
  | "closed";

/** The result of {@link PlainAuthenticator.authenticate}. */
export type AuthOutcome =
  | {
      readonly granted: true;
      /** The login as configured, after preparation. */
      readonly login: string;
      /** The account's `group`, if configured. */
      readonly group?: string;
    }
  | { readonly granted: false; readonly reason: AuthFailureReason };

/** The one answer every failure gets (the SRSLY reason). */
export const DENIED_REASON = "access denied";

/** Options of {@link PlainAuthenticator.fromConfig}; explicit options take precedence over the configuration. */
export interface AuthenticatorOptions {
  /** Receives warnings at load and one line per outcome (default: stderr, named `sasl`). */
  readonly logger?: Logger;
  /** Directory a relative `security/plain/file` is resolved against (default: the working directory). */
  readonly baseDir?: string;
  /** Minimum time from the call to the outcome, ms (default 200). */
  readonly minDelay?: number;
  /** Derivations at once (default `security/plain/max_concurrent`, else 4). */
  readonly maxConcurrent?: number;
  /** Verifications waiting for a slot; beyond it attempts fail as `overload` (default `security/plain/max_queue`, else 64). */
  readonly maxQueue?: number;
  /** Lockout policy (default 5 failures in 60 s lock for 30 s, doubling up to 15 min). */
  readonly lockout?: Partial<LockoutPolicy>;
  /** Monotonic milliseconds (default `performance.now`); lockout and the minimum delay are measured with it. */
  readonly clock?: () => number;
  /**
   * Waits `ms` on {@link clock} unless `signal` aborts first (default: a timer). Tests inject a fake pair.
   * It may return early; the authenticator waits again until the clock has passed the minimum delay.
   */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Default of {@link AuthenticatorOptions.minDelay}. */
export const DEFAULT_MIN_DELAY_MS = 200;
/** Default of {@link AuthenticatorOptions.maxConcurrent}. */
export const DEFAULT_MAX_CONCURRENT = 4;
/** Default of {@link AuthenticatorOptions.maxQueue}. */
export const DEFAULT_MAX_QUEUE = 64;

/** What was decided, with what the log line needs. */
interface Decision {
  readonly outcome: AuthOutcome;
  /** The login as presented (for the log), when the response got that far. */
  readonly login?: string;
  /** Which rule a malformed response broke, or what failed inside the verifier. */
  readonly problem?: string;
}

const MECHANISMS: readonly string[] = Object.freeze([PLAIN]);

function failure(reason: AuthFailureReason, login?: string, problem?: string): Decision {
  return { outcome: { granted: false, reason }, login, problem };
}

/** Verifies SASL PLAIN responses against configured accounts. Create it with {@link PlainAuthenticator.fromConfig}. */
export class PlainAuthenticator {
  /** The mechanisms to offer in ORLY, in order: `["PLAIN"]`. */
  readonly mechanisms: readonly string[] = MECHANISMS;

  private readonly lockout: LoginLockout;
  private readonly limiter: ConcurrencyLimiter;
  private readonly dummy: StoredHash;
  private readonly logLimiter = new RateLimiter(10, 1000);
  private readonly aborter = new AbortController();
  private readonly closing: Promise<Decision>;
  private resolveClosing: (decision: Decision) => void = () => {};
  private closed = false;

  private constructor(
    private readonly accounts: ReadonlyMap<string, Account>,
    private readonly logger: Logger,
    private readonly minDelay: number,
    private readonly clock: () => number,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>,
    limits: { readonly maxConcurrent: number; readonly maxQueue: number },
    policy: LockoutPolicy,
  ) {
    // Every authentication in progress waits on this one signal; the queue limit bounds them, not Node's
    // default of ten listeners, whose warning would only be noise under a burst of logins.
    setMaxListeners(0, this.aborter.signal);
    this.lockout = new LoginLockout(policy, clock);
    this.limiter = new ConcurrencyLimiter(limits.maxConcurrent, limits.maxQueue);
    this.dummy = dummyHash(commonParams(accounts));
    this.closing = new Promise((resolve) => (this.resolveClosing = resolve));
  }

  /**
   * Loads the accounts of a configuration: `security/plain/account` entries (`login`, `hash` or legacy
   * cleartext `password`, optional `group`) and the accounts file named by `security/plain/file` (a ZPL
   * file whose top level holds `account` entries; a warning if group or others can read it). Reads
   * `security/plain/max_concurrent` and `security/plain/max_queue`. Whether PLAIN is enabled at all
   * (`security/plain = 1`) is the caller's decision.
   *
   * Cleartext passwords are hashed at load, warned about, and replaced in `config` by their `hash`.
   *
   * @throws {@link SaslConfigError} naming the key, e.g. a missing login, a login twice (after preparation),
   *   a hash with an unknown prefix, an unreadable accounts file, a limit that is not a whole number
   */
  static async fromConfig(config: ZplNode, options: AuthenticatorOptions = {}): Promise<PlainAuthenticator> {
    const logger = options.logger ?? createLogger({ name: "sasl" });
    const accounts = await loadAccounts(config, { baseDir: options.baseDir, warn: (message) => logger.log("warn", message) });
    const limits = readLimits(config);
    return new PlainAuthenticator(
      accounts,
      logger,
      options.minDelay ?? DEFAULT_MIN_DELAY_MS,
      options.clock ?? (() => performance.now()),
      options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal })),
      {
        maxConcurrent: options.maxConcurrent ?? limits.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
        maxQueue: options.maxQueue ?? limits.maxQueue ?? DEFAULT_MAX_QUEUE,
      },
      { ...DEFAULT_LOCKOUT_POLICY, ...options.lockout },
    );
  }

  /** How many accounts were loaded. */
  get accountCount(): number {
    return this.accounts.size;
  }

  /**
   * Verifies one YARLY (rules P1-P8). Never rejects, whatever the attempt holds. Resolves no earlier than
   * the minimum delay after the call, whatever the outcome, except after {@link close}, when pending and
   * later attempts resolve at once as `closed`. Logs the outcome (never the password).
   */
  async authenticate(attempt: AuthAttempt): Promise<AuthOutcome> {
    if (this.closed) return failure("closed").outcome;
    const deadline = this.clock() + this.minDelay;
    const decided = this.decide(attempt).then(async (decision) => {
      await this.waitUntil(deadline);
      return decision;
    });
    const decision = await Promise.race([decided, this.closing]);
    try {
      this.report(String(attempt.session), decision);
    } catch {
      // A logger that throws must not turn an answer into a rejected promise.
    }
    return decision.outcome;
  }

  /** Stops timers and refuses queued work; pending authentications resolve as failures (`closed`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.limiter.close();
    this.aborter.abort();
    this.resolveClosing(failure("closed"));
  }

  private async decide(attempt: AuthAttempt): Promise<Decision> {
    try {
      if (attempt.mechanism !== PLAIN || !attempt.offered.includes(PLAIN)) return failure("mechanism");
      const decoded = decodePlainResponse(attempt.response);
      if (!decoded.ok) return failure("malformed", decoded.claimedLogin, decoded.problem);
      try {
        return await this.verify(decoded.login, decoded.password);
      } finally {
        decoded.password.fill(0);
      }
    } catch (error) {
      // Only the verifier itself can get here (e.g. scrypt out of memory); the peer still sees a failure.
      return failure("overload", undefined, error instanceof Error ? error.message : String(error));
    }
  }

  private async verify(login: string, password: Buffer): Promise<Decision> {
    if (this.lockout.lockedFor(login) > 0) return failure("locked", login);
    const slot = this.limiter.acquire();
    if (slot === undefined) return failure("overload", login);
    const release = await slot;
    if (release === undefined) return failure("closed", login);
    try {
      // Checked again: the login may have been locked while this attempt waited in the queue.
      if (this.lockout.lockedFor(login) > 0) return failure("locked", login);
      const account = this.accounts.get(login);
      const matched = await matchesHash(password, account?.hash ?? this.dummy);
      if (account !== undefined && matched) {
        this.lockout.recordSuccess(login);
        return { outcome: { granted: true, login: account.login, ...(account.group ? { group: account.group } : {}) }, login };
      }
      const lockMs = this.lockout.recordFailure(login);
      if (lockMs > 0) this.logger.log("warn", "PLAIN login locked after repeated failures", { login: loginForLog(login), seconds: Math.ceil(lockMs / 1000) });
      return failure(account === undefined ? "unknown" : "wrong", login);
    } finally {
      release();
    }
  }

  private async waitUntil(deadline: number): Promise<void> {
    let remaining: number;
    while (!this.closed && (remaining = deadline - this.clock()) > 0) {
      try {
        await this.sleep(remaining, this.aborter.signal);
      } catch {
        return; // aborted by close(); the race in authenticate() has already settled
      }
    }
  }

  private report(session: string, decision: Decision): void {
    const { outcome } = decision;
    const fields: Record<string, string | undefined> = {
      login: decision.login === undefined ? undefined : loginForLog(decision.login),
      session: loginForLog(session),
    };
    if (outcome.granted) {
      this.logger.log("info", "PLAIN login granted", fields);
      return;
    }
    if (outcome.reason === "closed") {
      this.logger.log("debug", "PLAIN login abandoned: authenticator closed", fields);
      return;
    }
    const { allowed, suppressed } = this.logLimiter.allow(outcome.reason, this.clock());
    if (!allowed) return;
    const extra: LogFields = { ...fields, reason: outcome.reason, problem: decision.problem, suppressed: suppressed > 0 ? suppressed : undefined };
    this.logger.log(outcome.reason === "overload" && decision.problem !== undefined ? "error" : "warn", "PLAIN login refused", extra);
  }
}

/** The parameters most accounts use, so the dummy verification costs what a real one does. */
function commonParams(accounts: ReadonlyMap<string, Account>): ScryptParams {
  const counts = new Map<string, { params: ScryptParams; count: number }>();
  for (const { hash } of accounts.values()) {
    const key = `${hash.N}/${hash.r}/${hash.p}`;
    const entry = counts.get(key) ?? { params: { N: hash.N, r: hash.r, p: hash.p }, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  let best: { params: ScryptParams; count: number } | undefined;
  for (const entry of counts.values()) if (best === undefined || entry.count > best.count) best = entry;
  return best?.params ?? DEFAULT_SCRYPT_PARAMS;
}
