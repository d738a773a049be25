/**
 * A hand-written ZMTP 3.0 peer over node:net, for tests that must say on the wire what no ZeroMQ socket would
 * send: a frame header announcing more than 4 GiB, then only a little data. It does the NULL handshake
 * (greeting, READY) as a client or as a server, then writes raw octets and reports when the other side closes.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { eventually } from "../support/engines.js";

/** The 64-octet ZMTP 3.0 greeting with the NULL mechanism. */
function greeting(asServer: boolean): Buffer {
  const octets = Buffer.alloc(64);
  octets[0] = 0xff;
  octets[9] = 0x7f;
  octets[10] = 3; // version 3.0
  octets[11] = 0;
  octets.write("NULL", 12, "ascii");
  octets[32] = asServer ? 1 : 0;
  return octets;
}

/** A READY command announcing `socketType`. */
function ready(socketType: string): Buffer {
  const name = Buffer.from("Socket-Type", "ascii");
  const value = Buffer.from(socketType, "ascii");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  const body = Buffer.concat([Buffer.of(5), Buffer.from("READY", "ascii"), Buffer.of(name.length), name, length, value]);
  return Buffer.concat([Buffer.of(0x04, body.length), body]);
}

/** The header of a data frame of `size` octets, in the long form (flags 0x02, 64-bit size). */
export function longFrameHeader(size: bigint, more = false): Buffer {
  const header = Buffer.alloc(9);
  header[0] = 0x02 | (more ? 0x01 : 0);
  header.writeBigUInt64BE(size, 1);
  return header;
}

/** The frames of one message, short or long form as their size needs. */
export function messageOctets(frames: readonly Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap((frame, index) => {
    const more = index < frames.length - 1 ? 0x01 : 0;
    const header = frame.length < 256 ? Buffer.of(more, frame.length) : longFrameHeader(BigInt(frame.length), more === 1);
    return [header, frame];
  }));
}

/** One raw ZMTP connection after the NULL handshake. */
export class RawZmtp {
  closed = false;
  private buffered = Buffer.alloc(0);
  /** Where the next unread frame starts in `buffered`, once the handshake is done. */
  private cursor = 0;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
    });
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => (this.closed = true));
  }

  /** Sends the greeting and READY, and waits for the peer's greeting and READY command. */
  async handshake(asServer: boolean, socketType: string, timeoutMs = 5000): Promise<void> {
    this.socket.write(greeting(asServer));
    await eventually(() => this.buffered.length >= 64 || this.closed, timeoutMs, "the peer's ZMTP greeting");
    this.socket.write(ready(socketType));
    // The peer's READY: flags 0x04 (short command) or 0x06 (long), then its size and body.
    const readyEnd = (): number | undefined => {
      if (this.buffered.length < 66) return undefined;
      const flags = this.buffered[64];
      if ((flags & 0x02) === 0) return 66 + this.buffered[65];
      return this.buffered.length < 73 ? undefined : 73 + Number(this.buffered.readBigUInt64BE(65));
    };
    await eventually(() => {
      const end = readyEnd();
      return (end !== undefined && this.buffered.length >= end) || this.closed;
    }, timeoutMs, "the peer's READY command");
    if (this.closed) throw new Error("the peer closed the connection during the handshake");
    this.cursor = readyEnd() ?? 0;
  }

  write(octets: Buffer): void {
    this.socket.write(octets);
  }

  sendMessage(frames: readonly Buffer[]): void {
    this.socket.write(messageOctets(frames));
  }

  /** The next complete message received; fails after `timeoutMs` or when the peer closes first. */
  async nextMessage(timeoutMs = 5000): Promise<Buffer[]> {
    let message: { frames: Buffer[]; end: number } | undefined;
    await eventually(() => (message = this.parseMessage()) !== undefined || this.closed, timeoutMs, "a message from the peer");
    if (message === undefined) throw new Error("the peer closed the connection");
    this.cursor = message.end;
    return message.frames;
  }

  private parseMessage(): { frames: Buffer[]; end: number } | undefined {
    const frames: Buffer[] = [];
    let at = this.cursor;
    for (;;) {
      if (this.buffered.length < at + 2) return undefined;
      const flags = this.buffered[at];
      const long = (flags & 0x02) !== 0;
      if (long && this.buffered.length < at + 9) return undefined;
      const size = long ? Number(this.buffered.readBigUInt64BE(at + 1)) : this.buffered[at + 1];
      const start = at + (long ? 9 : 2);
      if (this.buffered.length < start + size) return undefined;
      at = start + size;
      // Commands (PING, ...) between messages are not part of any message.
      if ((flags & 0x04) !== 0) continue;
      frames.push(this.buffered.subarray(start, at));
      if ((flags & 0x01) === 0) return { frames, end: at };
    }
  }

  /** Resolves once the peer closed the connection; fails after `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<void> {
    return eventually(() => this.closed, timeoutMs, "the peer to close the connection");
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Connects to a ZeroMQ socket listening on `port` and does the handshake as a DEALER. */
export async function connectRaw(port: number, socketType = "DEALER"): Promise<RawZmtp> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const peer = new RawZmtp(socket);
  await peer.handshake(false, socketType);
  return peer;
}

/** A raw ZMTP listener standing in for a server; every connection is handshaken as a ROUTER. */
export class RawZmtpServer {
  readonly peers: RawZmtp[] = [];
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async listen(): Promise<RawZmtpServer> {
    const server = createServer();
    const raw = new RawZmtpServer(server);
    server.on("connection", (socket) => {
      const peer = new RawZmtp(socket);
      peer.handshake(true, "ROUTER").then(() => raw.peers.push(peer), () => peer.close());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return raw;
  }

  get endpoint(): string {
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("not listening on TCP");
    return `tcp://127.0.0.1:${address.port}`;
  }

  close(): void {
    for (const peer of this.peers) peer.close();
    this.server.close();
  }
}
