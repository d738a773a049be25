/**
 * The one sender of a socket. zeromq.js allows one send in progress per socket, so every message goes
 * through this queue, which holds at most `limit` messages: beyond that a message is dropped, as ZeroMQ does
 * at its high-water mark on ROUTER sockets, and counted.
 */

/** What the queue needs of a socket. */
export interface Sendable {
  send(frames: Buffer[]): Promise<void>;
}

export class Outgoing {
  private readonly queue: Buffer[][] = [];
  private head = 0;
  private sending = false;
  private idle: (() => void)[] = [];
  /** Messages dropped because the queue was full. */
  dropped = 0;

  constructor(
    private readonly socket: Sendable,
    private readonly limit: number,
    /** A send ZeroMQ refused, with the message's frames (a ROUTER's first frame is the peer's routing id). */
    private readonly onError: (error: unknown, frames: Buffer[]) => void,
  ) {}

  /** Messages waiting. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Queues a message; false when it was dropped because the queue is full. */
  push(frames: Buffer[]): boolean {
    if (this.length >= this.limit) {
      this.dropped++;
      return false;
    }
    this.queue.push(frames);
    if (!this.sending) void this.pump();
    return true;
  }

  /** Resolves once everything queued so far was handed to the socket. */
  drained(): Promise<void> {
    if (!this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Forgets queued messages (the socket is closing). */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
  }

  private async pump(): Promise<void> {
    this.sending = true;
    while (this.head < this.queue.length) {
      const frames = this.queue[this.head];
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      try {
        await this.socket.send(frames);
      } catch (error) {
        this.onError(error, frames);
      }
    }
    this.queue.length = 0;
    this.head = 0;
    this.sending = false;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }
}
