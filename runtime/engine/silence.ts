/**
 * The one timer behind every per-peer period of the engines: it fires after a period without traffic, once or
 * again every period while the silence lasts, and traffic restarts it. A server's expiry fires once; its
 * heartbeat and a client's expiry repeat; a client's heartbeat repeats and is simply never restarted by traffic.
 */

export class SilenceTimer {
  private timer: NodeJS.Timeout | undefined;
  private periodMs = 0;
  /** Periods that passed since the timer was last started or restarted: 1 during the first firing. */
  periods = 0;

  constructor(
    /** Fires again every period while nothing restarts the timer; otherwise only once per silence. */
    private readonly repeat: boolean,
    private readonly fire: () => void,
  ) {}

  /** The period in force, 0 when stopped. */
  get period(): number {
    return this.periodMs;
  }

  /**
   * Starts counting silence from now, with this period (0 stops the timer). Called with the period already
   * in force it costs one `refresh()`, which is why the server calls it on every message: a period changed
   * by a new configuration then applies from the peer's next message.
   */
  start(periodMs: number): void {
    this.periods = 0;
    if (periodMs === this.periodMs && this.timer !== undefined) {
      // Also re-arms a one-shot timer that has fired.
      this.timer.refresh();
      return;
    }
    this.stop();
    if (periodMs === 0) return;
    this.periodMs = periodMs;
    this.timer = setTimeout(fired, periodMs, this);
  }

  /** Traffic: the silence starts again, with the period in force (nothing when stopped). */
  restart(): void {
    if (this.timer === undefined) return;
    this.periods = 0;
    this.timer.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.periodMs = 0;
    this.periods = 0;
  }

  /** @internal The timer went off. */
  fired(): void {
    this.periods++;
    // Re-armed before the callback, so that a callback that stops or restarts the timer has the last word.
    if (this.repeat) this.timer?.refresh();
    this.fire();
  }
}

/** The callback of every silence timer, given the timer: a server keeps one per peer, so no closure each. */
function fired(timer: SilenceTimer): void {
  timer.fired();
}
