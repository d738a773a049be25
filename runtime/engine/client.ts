/**
 * The client engine (`spec/models.md` §4): one DEALER connection to one server, the model's state machine,
 * and an API of async methods. A method raises its event and resolves on an accepted reply, rejects on a
 * failure reply, on its timeout (finite, always) and on close; calls run one at a time, in call order.
 */
import { Dealer, type Context } from "zeromq";
import type { AnyMessage, FrameCodec } from "../wire/codec.js";
import { MalformedError } from "../wire/errors.js";
import { plural } from "../wire/plural.js";
import type { ZplNode } from "../zpl/tree.js";
import { MethodCalls, type MethodSpec, type Waiter } from "./calls.js";
import { ClientContext } from "./client-context.js";
import { loadConfig, durationSetting } from "./config.js";
import { withDeadline, type CallOptions, type CloseOptions } from "./deadline.js";
import { ClientTerminated, EngineClosed, SendQueueFull, SocketError, checkTimeout, checkTimerDelay, errorText, type ActionFailed } from "./errors.js";
import { Inbox } from "./inbox.js";
import { checkLimit, frameLimit } from "./limits.js";
import { RateLimiter, createLogger, type Logger } from "./log.js";
import { Machine, execute, messageEvent, type MachineTable, type StepRunner } from "./machine.js";
import { guarded, type EngineOptions } from "./options.js";
import { Outgoing } from "./outgoing.js";
import { EventQueue } from "./queue.js";
import { createRunner } from "./runner.js";
import { clientSocketSecurity, type ClientSecurity, type ClientSocketSecurity } from "./security.js";
import { SilenceTimer } from "./silence.js";
import { checkResolvable, connectSocket, openSocket } from "./sockets.js";
import { guardedTracer, type MessageTracer } from "./trace.js";
import { Wakeup } from "./wakeup.js";

export { ClientContext } from "./client-context.js";
export type { MethodSpec } from "./calls.js";

/** Options of a client. */
export interface ClientOptions extends EngineOptions {
  /** Default timeout of method calls in ms (else `client/timeout`, else 5000). */
  readonly timeout?: number;
  /** Transport security (CURVE or PLAIN); none (NULL) by default. */
  readonly security?: ClientSecurity;
  /**
   * Called when a connection cannot work (a refused handshake, an endpoint that does not resolve), with the
   * cause, besides the log line and the rejection of a call waiting on it: clients that keep no call waiting
   * (a subscriber that reconnects by itself) learn it here.
   */
  readonly onConnectionFailed?: (error: unknown) => void;
}

/** What a client asks of the code that implements its actions, besides the actions. */
export interface ClientHooks<Context, Client> {
  /** Creates the state the implementation keeps for this connection. */
  createClient(context: Context): Client;
  /** The machine terminated or the client closed. */
  terminated?(context: Context): void;
}

interface Pending<M, Args> {
  readonly event: string;
  readonly message?: M;
  readonly error?: MalformedError;
  /** For a method's event: the call that raised it, and its arguments. */
  readonly call?: Waiter;
  readonly args?: Partial<Args>;
  /** For a wakeup event: the token of the wakeup that fired. */
  readonly wakeup?: number;
}

type AnyClientContext<M extends AnyMessage, Fields extends object, Event extends string, Client, Args extends object, Replies extends object> =
  ClientContext<M, Fields, Event, Client, Args, Replies>;

/** The engine behind every generated client. */
export class ClientEngine<M extends AnyMessage, Fields extends object, Event extends string, Client, Args extends object, Replies extends object> {
  readonly logger: Logger;
  /** Whether the session is up, as the actions last said. */
  connected = false;
  config: ZplNode | undefined;
  protected readonly context: AnyClientContext<M, Fields, Event, Client, Args, Replies>;
  private readonly machine: Machine;
  private readonly runner: StepRunner<AnyClientContext<M, Fields, Event, Client, Args, Replies>>;
  private readonly queue: EventQueue<Pending<M, Args>>;
  private readonly calls: MethodCalls<Args>;
  /** What the actions delivered to the application. */
  private readonly delivered = new Inbox<M>();
  private readonly limiter = new RateLimiter();
  private readonly traceMessage: MessageTracer | undefined;
  private socket: Dealer | undefined;
  private outgoing: Outgoing | undefined;
  private readonly endpoints: string[] = [];
  /** Set by close(): calls still queued reject with EngineClosed instead of running; close() again joins it. */
  private closing: Promise<void> | undefined;
  private readonly heartbeatTimer: SilenceTimer;
  private readonly expiryTimer: SilenceTimer;
  private readonly wakeupTimer = new Wakeup();
  private defaultTimeout = 5000;
  /** Messages that may wait to be handed to ZeroMQ (`sendQueueLimit`). */
  private readonly sendQueueLimit: number;
  private terminatedFlag = false;
  private closed = false;
  private readonly handlesMalformed: boolean;
  /** Options of every DEALER this client opens: limits, context and security. */
  private readonly socketOptions: ClientSocketSecurity & { readonly maxMessageSize: number; readonly context?: Context };
  /** The first action failure of the event running now: it ends a call still waiting when the event is done. */
  private firstFailure: ActionFailed | undefined;

  constructor(
    table: MachineTable,
    private readonly codec: FrameCodec<M, unknown>,
    private readonly methods: Readonly<Record<string, MethodSpec>>,
    private readonly actions: ClientHooks<AnyClientContext<M, Fields, Event, Client, Args, Replies>, Client> & object,
    private readonly options: ClientOptions = {},
  ) {
    this.machine = new Machine(table);
    this.logger = options.logger ?? createLogger({ name: table.name });
    this.handlesMalformed = this.machine.handles("malformed");
    if (options.timeout !== undefined) this.defaultTimeout = checkTimeout("timeout option", options.timeout);
    this.sendQueueLimit = checkLimit("sendQueueLimit", options.sendQueueLimit ?? 10_000, 1);
    this.socketOptions = {
      maxMessageSize: frameLimit(options.maxMessageSize, table.maxMessageSize),
      ...(options.context !== undefined ? { context: options.context } : {}),
      ...(options.security !== undefined ? clientSocketSecurity(options.security) : {}),
    };
    this.traceMessage = guardedTracer(options.traceMessages, (error) => this.limiter.log(this.logger, "warn", "tracer", `message tracer failed: ${errorText(error)}`));
    this.queue = new EventQueue((pending) => this.run(pending), (error) => this.logger.log("error", `event failed: ${errorText(error)}`));
    this.heartbeatTimer = new SilenceTimer(true, () => this.queue.push({ event: "heartbeat" }));
    this.expiryTimer = new SilenceTimer(true, () => this.queue.push({ event: "expired" }));
    this.context = new ClientContext<M, Fields, Event, Client, Args, Replies>(this, this.machine.initial);
    // A call is refused when its turn comes once the client closed (but for the destructor) or terminated.
    const refusal = (method: string): Error | undefined =>
      this.closed || (this.closing !== undefined && method !== "destructor") ? new EngineClosed(method)
        : this.terminatedFlag ? new ClientTerminated(method) : undefined;
    this.calls = new MethodCalls<Args>(this.logger, refusal, (event, call, args) => this.queue.push({ event, call, args }));
    this.runner = createRunner<AnyClientContext<M, Fields, Event, Client, Args, Replies>>({
      actions: this.actions,
      handlesException: this.machine.handles("exception"),
      send: (context, message) => {
        const fields = context.outgoing;
        context.outgoing = {};
        this.sendMessage({ ...fields, message } as unknown as M);
      },
      terminate: () => this.terminate(),
      failed: (failure) => {
        this.firstFailure ??= failure;
        guarded(this.logger, "onActionFailed threw", () => this.options.onActionFailed?.(failure));
      },
      trace: (context, what) => this.logger.log("info", what, { state: context.state }),
    });
    this.runner.tracing = options.verbose ?? false;
    this.context.client = this.actions.createClient(this.context);
  }

  /** The machine's current state. */
  get state(): string {
    return this.context.state;
  }

  /** True once the machine reached `terminate`: every call now rejects with `ClientTerminated`. */
  get terminated(): boolean {
    return this.terminatedFlag;
  }

  /** @internal Expiry periods in a row without a message from the server (`ctx.silentPeriods`). */
  get silentPeriods(): number {
    return this.expiryTimer.periods;
  }

  /** Applies the configuration and runs the model's `constructor` method, if it has one, with `args`. */
  protected async construct(args: Partial<Args>, options: CallOptions = {}): Promise<void> {
    try {
      this.config = await loadConfig(this.options.config);
      if (this.options.timeout === undefined) this.defaultTimeout = durationSetting(this.config, "client/timeout", 5000);
      const verbose = this.config.get("client/verbose");
      if (verbose !== undefined) this.runner.tracing = verbose === "1" || this.runner.tracing;
      if (Object.prototype.hasOwnProperty.call(this.methods, "constructor")) {
        await this.call("constructor", args, options);
      }
    } catch (error) {
      await this.shutdown();
      throw error;
    }
  }

  /**
   * Calls an API method: raises its event with `args` and waits for an accepted reply. Calls are served one
   * at a time in call order; the timeout counts from the call.
   */
  protected call(method: string, args: Partial<Args>, options: CallOptions = {}): Promise<unknown> {
    if (!Object.prototype.hasOwnProperty.call(this.methods, method)) return Promise.reject(new Error(`no method ${method}`));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(method, options.timeout ?? this.defaultTimeout);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.calls.call(method, this.methods[method], args, timeoutMs, options.signal);
  }

  /** @internal An action's reply to the waiting call (`ctx.reply`). */
  replyToCaller(name: string, fields: Readonly<Record<string, unknown>>): void {
    this.calls.reply(name, fields);
  }

  /**
   * Queues an internal `event` on the machine, to run after the current event (never re-entrant). Work an
   * action started without awaiting it (a request handler, a transfer) reports back this way, so the
   * machine keeps handling timers and messages meanwhile. Dropped once the client terminated or closed.
   */
  sendEvent(event: Event): void {
    if (this.terminatedFlag || this.closed) return;
    this.queue.push({ event });
  }

  /** @internal Queues a message for the application. */
  deliverToApplication(message: M): void {
    this.delivered.push(message);
  }

  /**
   * The next message the actions delivered to the application. Rejects with `TimeoutError` after the
   * timeout and with `EngineClosed` once the client closes.
   */
  recv(options: CallOptions = {}): Promise<M> {
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout("recv", options.timeout ?? this.defaultTimeout);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.delivered.recv(timeoutMs, options.signal);
  }

  /** Messages the actions deliver, until the client closes. */
  messages(): AsyncGenerator<M, void, undefined> {
    return this.delivered.messages();
  }

  /**
   * @internal Encodes and queues a message to the server. Throws {@link SendQueueFull} when `sendQueueLimit`
   * messages already wait: the sender learns that this one is not sent (in an action, an action failure).
   */
  sendMessage(message: M): void {
    if (this.outgoing === undefined) {
      this.logger.log(this.closed ? "debug" : "warn", `${message.message} not sent: ${this.closed ? "the client is closed" : "not connected"}`);
      return;
    }
    const frames = this.codec.encode(message);
    if (!this.outgoing.push(frames)) throw new SendQueueFull(message.message, this.sendQueueLimit);
    this.traceMessage?.("sent", message);
  }

  /**
   * Sends a message at once, without an event: what a generated `<send>` method does. Throws
   * {@link EngineClosed} once close() was called and {@link SendQueueFull} when the send queue is full; either
   * way the message is not sent, and the caller knows it.
   */
  protected sendNow(message: M): void {
    // Actions may still send while close() runs the destructor; a caller outside the machine may not: what it
    // sends now would be drained with luck, or dropped with a debug record once the socket is gone.
    if (this.closing !== undefined || this.closed) throw new EngineClosed(message.message);
    this.sendMessage(message);
  }

  /**
   * @internal Connects to `endpoint`. Throws a {@link SocketError} when no socket can be opened or the endpoint
   * is not one; a host name that does not resolve fails the waiting call as soon as the lookup says so.
   * Nothing once the client closed: no socket may outlive close().
   */
  connectTo(endpoint: string): void {
    if (this.closed) return;
    const known = this.endpoints.includes(endpoint);
    if (known && this.socket !== undefined) return;
    // open() connects every endpoint already known.
    const socket = this.socket ?? this.open();
    if (known) return;
    connectSocket(socket, endpoint);
    this.endpoints.push(endpoint);
    checkResolvable(endpoint).catch((error: unknown) => {
      if (this.socket === socket) this.connectionFailed(error);
    });
  }

  /** The connection cannot work: logged, and the call waiting on it ends with the cause. */
  private connectionFailed(error: unknown): void {
    this.limiter.log(this.logger, "error", "connection-failed", errorText(error));
    this.calls.rejectWaiting(() => error, true);
    guarded(this.logger, "onConnectionFailed threw", () => this.options.onConnectionFailed?.(error));
  }

  /** @internal Replaces the DEALER with a new one connected to the same endpoints. */
  reopen(): void {
    if (this.closed) return;
    this.dropSocket();
    this.open();
  }

  // Timers are armed only while the machine runs: work an action left running may still try afterwards.

  /** @internal */
  armHeartbeat(ms: number): void {
    checkTimerDelay("heartbeat", ms);
    if (this.terminatedFlag || this.closed) return;
    this.heartbeatTimer.start(this.machine.handles("heartbeat") ? ms : 0);
  }

  /** @internal */
  armExpiry(ms: number): void {
    checkTimerDelay("expiry", ms);
    if (this.terminatedFlag || this.closed) return;
    this.expiryTimer.start(this.machine.handles("expired") ? ms : 0);
  }

  /** @internal */
  armWakeup(ms: number, event: Event): void {
    checkTimerDelay("wakeup", ms);
    if (this.terminatedFlag || this.closed) return;
    this.wakeupTimer.arm(ms, (wakeup) => this.queue.push({ event, wakeup }));
  }

  /**
   * Runs the model's `destructor` method if it has one, lets queued messages go out, then closes the socket,
   * clears every timer and settles everything pending. The timeout bounds the whole close: what is still
   * unsent when it runs out is dropped (and logged with its count), so a dead server cannot hold close() up.
   * What ZeroMQ took for the connection but has not written yet gets what remains of the timeout after the
   * socket closed (its linger). Calling it again while it runs returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return this.closing ?? Promise.resolve();
    if (this.closing === undefined) {
      let timeoutMs: number;
      let sendTimeoutMs: number | undefined;
      try {
        timeoutMs = checkTimeout("close", options.timeout ?? this.defaultTimeout);
        if (options.sendTimeout !== undefined) sendTimeoutMs = checkTimeout("close sendTimeout", options.sendTimeout);
      } catch (error) {
        return Promise.reject(error);
      }
      const deadline = Date.now() + timeoutMs;
      this.closing = (async () => {
        // Calls still pending or queued end now; only the destructor runs.
        this.calls.rejectWaiting((method) => new EngineClosed(method));
        if (!this.terminatedFlag && Object.prototype.hasOwnProperty.call(this.methods, "destructor")) {
          try {
            await this.call("destructor", {}, { ...options, timeout: timeoutMs });
          } catch (error) {
            this.logger.log("debug", `destructor: ${errorText(error)}`);
          }
        }
        const sendDeadline = sendTimeoutMs === undefined ? deadline : Math.min(deadline, Date.now() + sendTimeoutMs);
        await this.shutdown(deadline, options.unsent === "drop" ? "debug" : "warn", sendDeadline);
      })();
    }
    return this.closing;
  }

  /**
   * Ends the client; queued messages get until `sendDeadline` to be handed to ZeroMQ, and what remains is
   * logged at `unsentLevel`; what ZeroMQ took gets until `deadline` to be written.
   */
  private async shutdown(deadline = Date.now(), unsentLevel: "warn" | "debug" = "warn", sendDeadline = deadline): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // An event still waiting on an action's promise runs no further action: nothing may send or arm a timer now.
    this.context.stopped = true;
    this.disarm();
    this.queue.clear();
    const outgoing = this.outgoing;
    if (outgoing !== undefined) {
      try {
        await withDeadline("close", Math.max(1, sendDeadline - Date.now()), () => outgoing.drained());
      } catch {
        // The message being handed to ZeroMQ counts too: it waits for a connection that is not there.
        const unsent = outgoing.unsent;
        if (unsent > 0) this.logger.log(unsentLevel, `close: ${plural(unsent, "queued message")} not sent before the timeout; dropped`);
      }
    }
    // Handed to ZeroMQ is not yet written: the socket lingers for the rest of the timeout, or its last messages
    // would be discarded with it. Only a live connection holds any (the DEALER is ZMQ_IMMEDIATE), so a dead
    // server cannot hold up the process's exit.
    this.dropSocket(deadline - Date.now());
    this.calls.rejectWaiting((method) => new EngineClosed(method));
    this.delivered.end();
    if (!this.terminatedFlag) this.notifyTerminated();
  }

  private terminate(): void {
    if (this.terminatedFlag) return;
    this.terminatedFlag = true;
    this.disarm();
    this.queue.clear();
    this.calls.rejectWaiting((method) => new ClientTerminated(method));
    this.delivered.end();
    this.notifyTerminated();
  }

  private notifyTerminated(): void {
    guarded(this.logger, "terminated hook failed", () => this.actions.terminated?.(this.context));
  }

  private disarm(): void {
    this.heartbeatTimer.stop();
    this.expiryTimer.stop();
    this.wakeupTimer.cancel();
  }

  private open(): Dealer {
    // ZMQ_IMMEDIATE: ZeroMQ takes a message only for a completed connection. Until there is one, messages wait
    // in the send queue, where they are counted and bounded, rather than in a pipe to nowhere that close()
    // would linger on.
    const socket = openSocket(() => new Dealer({ linger: 0, immediate: true, ...this.socketOptions }));
    for (const endpoint of this.endpoints) socket.connect(endpoint);
    this.socket = socket;
    this.outgoing = new Outgoing(socket, this.sendQueueLimit, (error) => {
      if (this.socket === socket) this.logger.log("warn", `send failed: ${errorText(error)}`);
    });
    void this.receiveLoop(socket);
    if (this.options.security !== undefined) void this.watchHandshakes(socket);
    return socket;
  }

  /** With security, a refused handshake is the real reason a call would time out: report it at once. */
  private async watchHandshakes(socket: Dealer): Promise<void> {
    try {
      for await (const event of socket.events) {
        if (this.socket !== socket) break;
        if (event.type === "handshake:error:auth" || event.type === "handshake:error:protocol" || event.type === "handshake:error:other") {
          this.connectionFailed(new SocketError("handshake", event.address, event.error));
        }
      }
    } catch {
      // The socket closed: its events end with it.
    }
  }

  /** @internal Closes the DEALER; what ZeroMQ still holds for the server gets `lingerMs` to go out (none by default). */
  dropSocket(lingerMs = 0): void {
    const socket = this.socket;
    this.socket = undefined;
    this.outgoing?.clear();
    this.outgoing = undefined;
    if (socket === undefined) return;
    socket.linger = Math.max(0, lingerMs);
    socket.close();
  }

  private async receiveLoop(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        if (this.socket !== socket) break;
        this.received(frames);
      }
    } catch (error) {
      if (this.socket === socket && !this.closed) this.logger.log("error", `receive failed: ${errorText(error)}`);
    }
  }

  /** A message from the server; one that does not decode raises `malformed` or is dropped, never ends receiving. */
  private received(frames: Buffer[]): void {
    this.expiryTimer.restart();
    let message: M;
    try {
      message = this.codec.decode(frames);
    } catch (error) {
      if (!(error instanceof MalformedError)) {
        this.limiter.log(this.logger, "error", "decoder", `decoder failed unexpectedly; message dropped: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      } else if (error.kind === "BadSignature") {
        this.limiter.log(this.logger, "debug", "bad-signature", `dropped a message with a foreign signature: ${error.message}`);
      } else if (this.handlesMalformed) {
        this.queue.push({ event: "malformed", error });
      } else {
        this.limiter.log(this.logger, "warn", "malformed", `dropped a malformed message: ${error.message}`);
      }
      return;
    }
    this.traceMessage?.("received", message);
    this.queue.push({ event: messageEvent(message.message), message });
  }

  private run(pending: Pending<M, Args>): boolean | Promise<boolean> | undefined {
    if (this.terminatedFlag || this.closed) return undefined;
    if (pending.wakeup !== undefined && !this.wakeupTimer.isCurrent(pending.wakeup)) return undefined;
    const context = this.context;
    if (pending.message !== undefined) context.request = pending.message;
    if (pending.args !== undefined) context.args = pending.args;
    context.error = pending.error;
    context.failure = undefined;
    this.wakeupTimer.cancel();
    this.calls.eventStarted(pending.call);
    this.firstFailure = undefined;
    const result = execute(this.machine, this.runner, context, pending.event);
    if (result instanceof Promise) return result.finally(() => this.eventDone(pending));
    this.eventDone(pending);
    return result;
  }

  private eventDone(pending: Pending<M, Args>): void {
    const failure = this.firstFailure;
    this.firstFailure = undefined;
    this.calls.eventDone(pending.call, failure);
  }

}
