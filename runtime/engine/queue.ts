/**
 * A context's pending events. Each context runs one event at a time, in arrival order; an event whose
 * actions await something holds up only its own context's queue.
 */
export class EventQueue<Item> {
  private readonly items: Item[] = [];
  private running = false;

  constructor(
    private readonly run: (item: Item) => Promise<void>,
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

  get length(): number {
    return this.items.length;
  }

  private async drain(): Promise<void> {
    try {
      while (this.items.length > 0) {
        const item = this.items.shift()!;
        try {
          await this.run(item);
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
