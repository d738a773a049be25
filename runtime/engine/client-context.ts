/**
 * The context a client's actions are given (`ctx`): the machine's state, the last message, the call's
 * arguments, and what actions may do (reply to the call, deliver to the application, send, connect, arm
 * timers). It forwards to its engine, which owns the socket, the timers and the calls.
 */
import type { AnyMessage } from "../wire/codec.js";
import type { MalformedError } from "../wire/errors.js";
import type { ClientEngine } from "./client.js";
import type { ActionFailed } from "./errors.js";
import type { LogFields, LogLevel } from "./log.js";
import { MachineState } from "./machine.js";

/**
 * The context a client's actions are given. `Args` is the bag of all method arguments, `Replies` maps reply
 * names to their fields.
 */
export class ClientContext<M extends AnyMessage, Fields extends object, Event extends string, Client, Args extends object, Replies extends object, Request extends M | undefined = M | undefined> extends MachineState<Event> {
  /** The state the implementation keeps. */
  client!: Client;
  /**
   * The last message received from the server: undefined until one arrives (during the constructor, say).
   * Generated action types narrow it to the message that raised the event where only messages run an action.
   */
  request!: Request;
  /** Fields of the next message the built-in `send` action sends; reset after each send. */
  outgoing: Partial<Fields> = {};
  /** Arguments of the method call that raised the current (or last) method event. */
  args: Partial<Args> = {};
  /** The decoding error, during a `malformed` event. */
  error: MalformedError | undefined;
  /** The action failure that raised the current `exception` event (its `cause` is what the action threw). */
  failure: ActionFailed | undefined;

  constructor(
    /** The engine, for what the context does not offer directly. */
    readonly engine: ClientEngine<M, Fields, Event, Client, Args, Replies>,
    initial: string,
  ) {
    super(initial);
  }

  /** Answers the waiting method call (if it accepts this reply; otherwise the reply is discarded). */
  reply<Name extends keyof Replies & string>(name: Name, fields: Replies[Name]): void {
    this.engine.replyToCaller(name, fields as Readonly<Record<string, unknown>>);
  }

  /** Passes a message to the application, which reads it with `recv()`. */
  deliver(message: M["message"], fields: Partial<Fields> = {}): void {
    this.engine.deliverToApplication({ ...fields, message } as unknown as M);
  }

  /** Sends a message to the server now. */
  send(message: M["message"], fields: Partial<Fields> = {}): void {
    this.engine.sendMessage({ ...fields, message } as unknown as M);
  }

  /**
   * Connects the DEALER to an endpoint (the socket is created on first use). Throws a `SocketError` when the
   * socket cannot be opened (the context's socket limit) or `endpoint` is not one; a host name that does not
   * resolve ends the waiting call with a `SocketError` as soon as the lookup fails.
   */
  connect(endpoint: string): void {
    this.engine.connectTo(endpoint);
  }

  /** Closes the DEALER and opens a new one to the same endpoints: the server sees a new peer. */
  reconnect(): void {
    this.engine.reopen();
  }

  /**
   * Closes the DEALER and drops what is still queued for the server (the session is over, or never began):
   * nothing more goes out, and close() has nothing to wait for. `reconnect()` opens a new one.
   */
  disconnect(): void {
    this.engine.dropSocket();
  }

  /** Raises `heartbeat` every `ms` (0 disarms). */
  setHeartbeat(ms: number): void {
    this.engine.armHeartbeat(ms);
  }

  /**
   * Raises `expired` after `ms` without any message from the server, and every `ms` after (0 disarms).
   * Arming it restarts the count of {@link ClientContext.silentPeriods}.
   */
  setExpiry(ms: number): void {
    this.engine.armExpiry(ms);
  }

  /**
   * How many expiry periods in a row have passed without a message from the server: 1 during the first
   * `expired`, 2 during the second, and so on; 0 again once a message arrives. Lets a model heartbeat on the
   * first silent periods and give the server up after a few.
   */
  get silentPeriods(): number {
    return this.engine.silentPeriods;
  }

  /** Raises `event` after `ms`, replacing a pending wakeup; any event cancels it. */
  wakeup(ms: number, event: Event): void {
    this.engine.armWakeup(ms, event);
  }

  /** Records whether the session is up (the API's `connected`). */
  setConnected(connected: boolean): void {
    this.engine.connected = connected;
  }

  /** Logs with the machine's state. */
  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.engine.logger.log(level, message, { state: this.state, ...fields });
  }
}
