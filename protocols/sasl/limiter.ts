/**
 * A counting semaphore with a bounded wait queue: at most `maxRunning` holders, at most `maxWaiting`
 * waiting, and a refusal beyond that instead of an ever-growing queue.
 *
 * @module
 */

/** Gives a slot back; calling it more than once has no further effect. */
export type Release = () => void;

interface Waiter {
  readonly grant: (release: Release) => void;
  readonly refuse: () => void;
}

/** Limits how many password derivations run at once, so a flood of logins cannot exhaust memory or CPU. */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
  ) {}

  /**
   * A slot: at once if one is free, after the ones queued before otherwise. `undefined` when the queue is
   * full or the limiter is closed. The promise resolves to `undefined` if the limiter closes while waiting.
   */
  acquire(): Promise<Release | undefined> | undefined {
    if (this.closed) return undefined;
    if (this.running < this.maxRunning) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return undefined;
    return new Promise((resolve) => this.waiting.push({ grant: resolve, refuse: () => resolve(undefined) }));
  }

  /** Refuses everything queued and everything later; slots already held stay valid until released. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.refuse();
  }

  /** Holders at this moment. */
  get active(): number {
    return this.running;
  }

  /** Waiters at this moment. */
  get queued(): number {
    return this.waiting.length;
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays the same.
      if (next !== undefined) next.grant(this.releaser());
      else this.running--;
    };
  }
}
