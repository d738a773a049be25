/**
 * Per-login lockout: after too many failures in a window a login is locked for a while, each further lock
 * twice as long as the previous one up to a ceiling. Time comes from an injected clock.
 *
 * @module
 */

/** When logins are locked, and for how long. */
export interface LockoutPolicy {
  /** Failures within {@link windowMs} that lock a login (default 5). */
  readonly maxFailures: number;
  /** The window failures are counted in, ms (default 60 s). */
  readonly windowMs: number;
  /** The first lock, ms (default 30 s); every further lock doubles it. */
  readonly lockMs: number;
  /** The longest lock, ms (default 15 min). A login with no failure and no lock for this long starts afresh. */
  readonly maxLockMs: number;
  /** Most logins remembered at once (default 10,000); beyond it the least recently failed is forgotten. */
  readonly maxTracked: number;
}

/** The policy of our PLAIN rules: 5 failures in 60 s lock for 30 s, doubling up to 15 min. */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  maxFailures: 5,
  windowMs: 60_000,
  lockMs: 30_000,
  maxLockMs: 15 * 60_000,
  maxTracked: 10_000,
});

interface LoginRecord {
  /** Times of the failures since the last lock, oldest first, only those inside the window. */
  failures: number[];
  /** Locks so far; the next lasts lockMs · 2^locks. */
  locks: number;
  /** End of the current or last lock; 0 if never locked. */
  lockedUntil: number;
  /** Last failure or lock end, whichever is later: when the record started to age. */
  lastActivity: number;
}

/** Failure bookkeeping of every login seen recently (unknown logins too, so locks reveal nothing). */
export class LoginLockout {
  // Map order is least recently failed first (a failure re-inserts), which is the eviction order.
  private readonly records = new Map<string, LoginRecord>();

  constructor(
    private readonly policy: LockoutPolicy,
    private readonly clock: () => number,
  ) {}

  /** Milliseconds the login stays locked, or 0 if it may try now. */
  lockedFor(login: string): number {
    const record = this.current(login);
    return record === undefined ? 0 : Math.max(0, record.lockedUntil - this.clock());
  }

  /**
   * Counts a failed verification; returns the length of the lock it started, or 0. A failure that ends
   * while the login is already locked (a verification that started before the lock) is not counted.
   */
  recordFailure(login: string): number {
    const now = this.clock();
    const record = this.current(login) ?? { failures: [], locks: 0, lockedUntil: 0, lastActivity: now };
    if (record.lockedUntil > now) return 0;
    record.failures = record.failures.filter((time) => now - time < this.policy.windowMs);
    record.failures.push(now);
    record.lastActivity = now;
    let lockMs = 0;
    if (record.failures.length >= this.policy.maxFailures) {
      lockMs = Math.min(this.policy.lockMs * 2 ** record.locks, this.policy.maxLockMs);
      record.locks++;
      record.failures = [];
      record.lockedUntil = now + lockMs;
      record.lastActivity = record.lockedUntil;
    }
    this.records.delete(login);
    this.records.set(login, record);
    while (this.records.size > this.policy.maxTracked) this.records.delete(this.records.keys().next().value as string);
    return lockMs;
  }

  /** A successful login clears its record. */
  recordSuccess(login: string): void {
    this.records.delete(login);
  }

  /** Logins currently remembered (for tests and monitoring). */
  get size(): number {
    return this.records.size;
  }

  /** The login's record, forgetting it first if it has aged out. */
  private current(login: string): LoginRecord | undefined {
    const record = this.records.get(login);
    if (record !== undefined && this.clock() - record.lastActivity >= this.policy.maxLockMs) {
      this.records.delete(login);
      return undefined;
    }
    return record;
  }
}
