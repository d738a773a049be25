/**
 * A context's pending events. Each context runs one event at a time, in arrival order; an event whose
 * actions await something holds up only its own context's queue.
 */
export class EventQueue<Item> {
  private readonly items: Item[] = [];
  private running = false;

  constructor(
    private readonly run: (item: Item) => unknown,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues an item; processing starts after the current event (so no context is ever re-entered). */
  push(item: Item): void {
    this.items.push(item);
    if (!this.running) {
      this.running = true;
      queueMicrotask(() => void this.drain());
    }
  }

  /** Drops every pending item (the context ended). */
  clear(): void {
    this.items.length = 0;
  }

  /** Removes and returns every pending item. */
  drainItems(): Item[] {
    return this.items.splice(0);
  }

  get length(): number {
    return this.items.length;
  }

  /** Runs items until the queue is empty or an item's work goes asynchronous; then resumes when it settles. */
  private drain(): void {
    while (this.items.length > 0) {
      const item = this.items.shift()!;
      let result: unknown;
      try {
        result = this.run(item);
      } catch (error) {
        this.onError(error);
        continue;
      }
      if (result instanceof Promise) {
        result.then(() => this.drain(), (error: unknown) => {
          this.onError(error);
          this.drain();
        });
        return;
      }
    }
    this.running = false;
  }
}
