/**
 * A context's wakeup timer (`spec/models.md` §3.6, §3.8): at most one pending, replaced by a newer one and
 * cancelled by any event on the context. "Pending" includes a wakeup whose timer has fired but whose event is
 * still queued behind an event that is running (an async action): each firing carries a token, and only the
 * token of the wakeup armed last, with no event run since, is still current when its event comes up.
 */

export class Wakeup {
  private timer: NodeJS.Timeout | undefined;
  private token = 0;

  /** Arms the wakeup, replacing a pending one; `fire` queues the event with the token it is given. `ms` is checked by the caller. */
  arm(ms: number, fire: (token: number) => void): void {
    clearTimeout(this.timer);
    const token = ++this.token;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fire(token);
    }, ms);
  }

  /** Cancels the pending wakeup, also one that fired and waits in the queue. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.token++;
  }

  /** Whether a fired wakeup with this token still stands: nothing replaced or cancelled it meanwhile. */
  isCurrent(token: number): boolean {
    return token === this.token;
  }
}
