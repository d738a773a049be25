/**
 * The one sender of a socket. zeromq.js allows one send in progress per socket, so every message goes
 * through this queue, which holds at most `limit` messages: beyond that `push` refuses a message and counts
 * it, and the engine decides what a refusal means (a server drops it, as ZeroMQ does at its high-water mark
 * on ROUTER sockets; a client reports it to the sender). Each message may carry a note (the message it was
 * encoded from) that a failed send is reported with.
 */

/** What the queue needs of a socket. */
export interface Sendable {
  send(frames: Buffer[]): Promise<void>;
}

export class Outgoing<Note = undefined> {
  private readonly queue: Buffer[][] = [];
  /** The note of each queued message, at the same index as its frames. */
  private readonly notes: (Note | undefined)[] = [];
  private head = 0;
  private sending = false;
  /** Whether a message is being handed to the socket now (taken off the queue, its send not yet settled). */
  private handing = false;
  private idle: (() => void)[] = [];
  /** Messages refused because the queue was full. */
  dropped = 0;

  constructor(
    private readonly socket: Sendable,
    private readonly limit: number,
    /**
     * A send ZeroMQ refused, with the message's frames (a ROUTER's first frame is the peer's routing id) and
     * the note it was queued with.
     */
    private readonly onError: (error: unknown, frames: Buffer[], note: Note | undefined) => void,
  ) {}

  /** Messages waiting for their turn (not counting one being handed to the socket now). */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Messages not handed to the socket yet: those waiting and the one being handed now. */
  get unsent(): number {
    return this.length + (this.handing ? 1 : 0);
  }

  /** Queues a message; false when the queue is full and the message was not queued. */
  push(frames: Buffer[], note?: Note): boolean {
    if (this.length >= this.limit) {
      this.dropped++;
      return false;
    }
    this.queue.push(frames);
    this.notes.push(note);
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
    this.notes.length = 0;
    this.head = 0;
  }

  private async pump(): Promise<void> {
    this.sending = true;
    while (this.head < this.queue.length) {
      const frames = this.queue[this.head];
      const note = this.notes[this.head];
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.notes.splice(0, this.head);
        this.head = 0;
      }
      this.handing = true;
      try {
        await this.socket.send(frames);
      } catch (error) {
        this.onError(error, frames, note);
      } finally {
        this.handing = false;
      }
    }
    this.clear();
    this.sending = false;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }
}
