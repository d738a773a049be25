/**
 * One connected peer's context on a server (`ctx`): its machine state, the message that raised the event, the
 * reply being built, its queue of pending events and its timers. What actions do through it (send, wakeup,
 * log) goes to the server, which owns the socket.
 */
import type { AnyMessage } from "../wire/codec.js";
import type { MalformedError } from "../wire/errors.js";
import { errorText, type ActionFailed } from "./errors.js";
import type { LogFields, LogLevel } from "./log.js";
import { MachineState } from "./machine.js";
import { EventQueue } from "./queue.js";
import type { ServerEngine } from "./server.js";
import type { SilenceTimer } from "./silence.js";
import { Wakeup } from "./wakeup.js";

/** A queued event for one context. */
export interface Pending<M> {
  readonly event: string;
  readonly message?: M;
  readonly error?: MalformedError;
  /** For a wakeup event: the token of the wakeup that fired. */
  readonly wakeup?: number;
}

/**
 * One connected peer's context, given to every action. `Request` narrows the message type for actions that
 * only run on particular messages.
 */
export class ServerContext<M extends AnyMessage, Fields extends object, Event extends string, Client, Request extends M | undefined = M> extends MachineState<Event> {
  /** The state the protocol implementation keeps for this peer. */
  client!: Client;
  /**
   * The last message received from this peer (the one that raised the current event, for protocol events);
   * undefined while only malformed ones came. Generated action types say which it can be.
   */
  request!: Request;
  /** Fields of the next message the built-in `send` action sends; reset after each send. */
  reply: Partial<Fields> = {};
  /** The decoding error, during a `malformed` event. */
  error: MalformedError | undefined;
  /** The action failure that raised the current `exception` event (its `cause` is what the action threw). */
  failure: ActionFailed | undefined;
  /** False once the context has terminated: events sent to it are dropped. */
  valid = true;
  /** @internal Pending events, run one at a time. */
  readonly queue: EventQueue<Pending<M>>;
  /** @internal Raises `expired` (or ends the context) after the peer's silence; made with the first message. */
  expiry: SilenceTimer | undefined;
  /** @internal Raises `heartbeat` during the peer's silence, when the server has a heartbeat period. */
  heartbeat: SilenceTimer | undefined;
  /** @internal */
  readonly wakeupTimer = new Wakeup();

  constructor(
    /** The server this peer is connected to. */
    readonly server: ServerEngine<M, Fields, Event, Client>,
    /** The peer's ROUTER routing id. */
    readonly routingId: Buffer,
    /** A number unique within this server, for logs. */
    readonly id: number,
    initial: string,
    run: (context: ServerContext<M, Fields, Event, Client>, pending: Pending<M>) => unknown,
  ) {
    super(initial);
    this.queue = new EventQueue((pending) => run(this as unknown as ServerContext<M, Fields, Event, Client>, pending), (error) =>
      this.log("error", `event failed: ${errorText(error)}`));
  }

  /** Sends a message to this peer now (the `send` action sends `reply` as the model's message). */
  send(message: M["message"], fields: Partial<Fields> = {}): void {
    this.server.sendTo(this.routingId, { ...fields, message } as unknown as M);
  }

  /** Raises `event` on this context after `ms`, replacing a pending wakeup; any event cancels it. */
  wakeup(ms: number, event: Event): void {
    this.server.armWakeup(this as unknown as ServerContext<M, Fields, Event, Client>, ms, event);
  }

  /** Logs with this peer's id. */
  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.server.logger.log(level, message, { client: this.id, state: this.state, ...fields });
  }
}
