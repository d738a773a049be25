/**
 * Raw FILEMQ/1 peers for tests: a DEALER that plays a client against our publisher and a ROUTER that plays
 * a server against our subscriber, so that tests decide every byte the other side gets. Both keep what they
 * receive, decoded with the generated codec (frames that do not decode are kept apart).
 */
import { Dealer, Router } from "zeromq";
import { decode, encode, type FmqMsg, type FmqMsgDraft } from "../../generated/filemq/fmq_msg.js";
import { eventually } from "../support/engines.js";

/** Messages received, read in order. */
class Received<Item> {
  readonly items: Item[] = [];
  cursor = 0;

  async next(timeoutMs: number, what: string): Promise<Item> {
    await eventually(() => this.items.length > this.cursor, timeoutMs, what);
    return this.items[this.cursor++];
  }

  get unread(): number {
    return this.items.length - this.cursor;
  }
}

/** A raw DEALER speaking FILEMQ/1 to a publisher. */
export class RawClient {
  readonly socket = new Dealer({ linger: 0 });
  readonly received = new Received<FmqMsg>();
  readonly garbage: Buffer[][] = [];

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
    void this.receive();
  }

  send(message: FmqMsgDraft): Promise<void> {
    return this.socket.send(encode(message));
  }

  sendFrames(frames: Buffer[]): Promise<void> {
    return this.socket.send(frames);
  }

  next(timeoutMs = 5000, what = "a message from the server"): Promise<FmqMsg> {
    return this.received.next(timeoutMs, what);
  }

  /** The next message of a kind, skipping others (HUGZ heartbeats, say). */
  async nextOf<K extends FmqMsg["message"]>(kind: K, timeoutMs = 5000): Promise<Extract<FmqMsg, { message: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = await this.next(Math.max(1, deadline - Date.now()), `a ${kind} from the server`);
      if (message.message === kind) return message as Extract<FmqMsg, { message: K }>;
    }
  }

  /** Sends and returns the next message received. */
  async request(message: FmqMsgDraft, timeoutMs = 5000): Promise<FmqMsg> {
    await this.send(message);
    return this.next(timeoutMs, `an answer to ${message.message}`);
  }

  /** Every message received so far (read or not). */
  get all(): readonly FmqMsg[] {
    return this.received.items;
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        try {
          this.received.items.push(decode(frames));
        } catch {
          this.garbage.push(frames);
        }
      }
    } catch {
      // closed
    }
  }
}

/** What a raw server received: the message (or undecodable frames) with its sender's routing id. */
export interface FromClient {
  readonly routingId: Buffer;
  readonly message: FmqMsg;
  readonly frames: Buffer[];
}

/** A raw ROUTER speaking FILEMQ/1 to a subscriber. */
export class RawServer {
  readonly socket = new Router({ linger: 0 });
  readonly received = new Received<FromClient>();
  endpoint = "";

  async bind(endpoint = "tcp://127.0.0.1:*"): Promise<string> {
    await this.socket.bind(endpoint);
    this.endpoint = this.socket.lastEndpoint ?? endpoint;
    void this.receive();
    return this.endpoint;
  }

  send(routingId: Buffer, message: FmqMsgDraft): Promise<void> {
    return this.socket.send([routingId, ...encode(message)]);
  }

  sendFrames(routingId: Buffer, frames: Buffer[]): Promise<void> {
    return this.socket.send([routingId, ...frames]);
  }

  async nextOf<K extends FmqMsg["message"]>(kind: K, timeoutMs = 5000): Promise<FromClient & { message: Extract<FmqMsg, { message: K }> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.received.next(Math.max(1, deadline - Date.now()), `a ${kind} from the client`);
      if (item.message.message === kind) return item as FromClient & { message: Extract<FmqMsg, { message: K }> };
    }
  }

  count(kind: FmqMsg["message"]): number {
    return this.received.items.filter((item) => item.message.message === kind).length;
  }

  close(): void {
    if (!this.socket.closed) this.socket.close();
  }

  private async receive(): Promise<void> {
    try {
      for await (const [routingId, ...frames] of this.socket) {
        try {
          this.received.items.push({ routingId, message: decode(frames), frames });
        } catch {
          // Subscribers under test send only valid messages; a test that needs garbage reads the socket itself.
        }
      }
    } catch {
      // closed
    }
  }
}
