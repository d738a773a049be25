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
import { loadConfig, durationSetting, type ConfigSource } from "./config.js";
import { withDeadline, type CallOptions } from "./deadline.js";
import { ActionFailed, ClientTerminated, EngineClosed, MethodFailed, SocketError, TimeoutError, checkTimeout, checkTimerDelay, errorText } from "./errors.js";
import { frameLimit } from "./limits.js";
import { RateLimiter, createLogger, type LogFields, type LogLevel, type Logger } from "./log.js";
import { Machine, MachineState, execute, messageEvent, type MachineTable, type StepRunner } from "./machine.js";
import { Outgoing } from "./outgoing.js";
import { EventQueue } from "./queue.js";
import { clientSocketSecurity, type ClientSecurity, type ClientSocketSecurity } from "./security.js";
import { checkResolvable, connectSocket, openSocket } from "./sockets.js";
import type { MessageTracer, TraceDirection } from "./trace.js";
import { Wakeup } from "./wakeup.js";

/** Options of a client. */
export interface ClientOptions {
  /** Configuration (`client/timeout`, `client/verbose`, ...): a ZPL tree, a ZPL file or path/value pairs. */
  readonly config?: ConfigSource;
  readonly verbose?: boolean;
  readonly logger?: Logger;
  /** Default timeout of method calls in ms (else `client/timeout`, else 5000). */
  readonly timeout?: number;
  /** Messages queued for sending before the caller waits (default 10 000). */
  readonly sendQueueLimit?: number;
  /**
   * Largest frame the server may send, in octets (ZMQ_MAXMSGSIZE): a larger one closes the connection at its
   * header. Default: the model's `max_message_size`, else 1 MiB; from 1024 to 2^31 − 1.
   */
  readonly maxMessageSize?: number;
  /** Transport security (CURVE or PLAIN); none (NULL) by default. */
  readonly security?: ClientSecurity;
  /**
   * Called when a connection cannot work (a refused handshake, an endpoint that does not resolve), with the
   * cause, besides the log line and the rejection of a call waiting on it: clients that keep no call waiting
   * (a subscriber that reconnects by itself) learn it here.
   */
  readonly onConnectionFailed?: (error: unknown) => void;
  /** The zeromq.js context of the client's socket (default: zeromq's global context); see `maxSockets`. */
  readonly context?: Context;
  /**
   * Called with every action failure, modelled (`exception`) or not, after it was logged: the way to make
   * them fail tests. What it throws is logged.
   */
  readonly onActionFailed?: (failure: ActionFailed) => void;
  /** Sees every message received (once decoded) and sent (before encoding). */
  readonly traceMessages?: MessageTracer;
}

/** What the engine knows of one API method. */
export interface MethodSpec {
  readonly event: string;
  readonly accepts: readonly string[];
  /** Accepted replies that reject the call. */
  readonly failures: readonly string[];
  /** The reply field the call resolves with; without it the call resolves with `undefined`. */
  readonly returns?: string;
  /** Raises no event: only waits for an accepted reply. */
  readonly immediate?: boolean;
}

/** What a client asks of the code that implements its actions, besides the actions. */
export interface ClientHooks<Context, Client> {
  /** Creates the state the implementation keeps for this connection. */
  createClient(context: Context): Client;
  /** The machine terminated or the client closed. */
  terminated?(context: Context): void;
}

/** A method call waiting for its reply. */
interface Waiter {
  readonly method: string;
  readonly spec: MethodSpec;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Its event has started running: from then on replies may answer it. */
  started: boolean;
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

  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.engine.logger.log(level, message, { state: this.state, ...fields });
  }
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
  private readonly limiter = new RateLimiter();
  private socket: Dealer | undefined;
  private outgoing: Outgoing | undefined;
  private readonly endpoints: string[] = [];
  /** The call waiting for a reply, if any. */
  private waiter: Waiter | undefined;
  /** The call whose event is running now; replies during a method's event answer only that call. */
  private executing: Waiter | undefined;
  /** Set by close(): calls still queued reject with EngineClosed instead of running. */
  private closing = false;
  private calls: Promise<unknown> = Promise.resolve();
  private readonly delivered: M[] = [];
  private readonly readers: { resolve: (message: M | undefined) => void }[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryMs = 0;
  /** @internal Expiry periods in a row without a message from the server. */
  silentPeriods = 0;
  private readonly wakeupTimer = new Wakeup();
  private defaultTimeout = 5000;
  private verbose: boolean;
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
    this.verbose = options.verbose ?? false;
    this.handlesMalformed = this.machine.handles("malformed");
    const handlesException = this.machine.handles("exception");
    if (options.timeout !== undefined) this.defaultTimeout = checkTimeout("timeout option", options.timeout);
    this.socketOptions = {
      maxMessageSize: frameLimit(options.maxMessageSize, table.maxMessageSize),
      ...(options.context !== undefined ? { context: options.context } : {}),
      ...(options.security !== undefined ? clientSocketSecurity(options.security) : {}),
    };
    this.context = new ClientContext<M, Fields, Event, Client, Args, Replies>(this, this.machine.initial);
    this.queue = new EventQueue((pending) => this.run(pending), (error) =>
      this.logger.log("error", `event failed: ${error instanceof Error ? error.message : String(error)}`));
    // The runner's getter reads the engine's verbosity, which can change at any time.
    const self = this;
    this.runner = {
      send: (context, message) => {
        const fields = context.outgoing;
        context.outgoing = {};
        this.sendMessage({ ...fields, message } as unknown as M);
      },
      call: (context, action) => (this.actions as unknown as Record<string, (context: unknown) => unknown>)[action](context),
      terminate: () => this.terminate(),
      unhandled: (context, event) => context.log("warn", `event ${event} is not handled in state ${context.state}; dropped`, { event }),
      failed: (context, action, error) => {
        const failure = new ActionFailed(action, context.event, context.state, error);
        context.failure = failure;
        context.log("error", `action ${action} failed: ${errorText(error)}`, { event: context.event });
        this.firstFailure ??= failure;
        try {
          this.options.onActionFailed?.(failure);
        } catch (thrown) {
          this.logger.log("error", `onActionFailed threw: ${errorText(thrown)}`);
        }
        return handlesException ? "exception" : undefined;
      },
      get tracing() {
        return self.verbose;
      },
      trace: (context, what) => this.logger.log("info", what, { state: context.state }),
    };
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

  /** Applies the configuration and runs the model's `constructor` method, if it has one, with `args`. */
  protected async construct(args: Partial<Args>, options: CallOptions = {}): Promise<void> {
    try {
      this.config = await loadConfig(this.options.config);
      if (this.options.timeout === undefined) this.defaultTimeout = durationSetting(this.config, "client/timeout", 5000);
      const verbose = this.config.get("client/verbose");
      if (verbose !== undefined) this.verbose = verbose === "1" || this.verbose;
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
    const spec = this.methods[method];
    if (spec === undefined) return Promise.reject(new Error(`no method ${method}`));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(method, options.timeout ?? this.defaultTimeout);
    } catch (error) {
      return Promise.reject(error);
    }
    const deadline = Date.now() + timeoutMs;
    const result = this.calls.then(() => this.dispatch(method, spec, args, deadline, timeoutMs, options.signal));
    this.calls = result.catch(() => undefined);
    return result;
  }

  private dispatch(method: string, spec: MethodSpec, args: Partial<Args>, deadline: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.closed || (this.closing && method !== "destructor")) return Promise.reject(new EngineClosed(method));
    if (this.terminatedFlag) return Promise.reject(new ClientTerminated(method));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new TimeoutError(method, timeoutMs));
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (this.waiter === waiter) this.waiter = undefined;
      };
      const waiter: Waiter = {
        method, spec, started: spec.immediate === true,
        resolve: (value) => { settle(); resolve(value); },
        reject: (error) => { settle(); reject(error); },
      };
      const timer = setTimeout(() => waiter.reject(new TimeoutError(method, timeoutMs)), remaining);
      const onAbort = (): void => waiter.reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (spec.accepts.length > 0) this.waiter = waiter;
      // The event carries its own arguments and call: it may run after this call has timed out.
      if (!spec.immediate) this.queue.push({ event: spec.event, call: waiter, args });
      if (spec.accepts.length === 0) waiter.resolve(undefined);
    });
  }

  /**
   * @internal An action's reply. During a method's event it can answer only that method's call (a call
   * that already timed out gets nothing, and nothing else gets its reply); during other events it answers
   * the waiting call once that call's event has run.
   */
  replyToCaller(name: string, fields: Readonly<Record<string, unknown>>): void {
    const waiter = this.waiter;
    const answerable = this.executing !== undefined ? this.executing === waiter : waiter?.started === true;
    if (waiter === undefined || !answerable || !waiter.spec.accepts.includes(name)) {
      this.logger.log("debug", `reply ${name} discarded: no call waits for it`);
      return;
    }
    if (waiter.spec.failures.includes(name)) waiter.reject(new MethodFailed(waiter.method, name, fields));
    else waiter.resolve(waiter.spec.returns !== undefined ? fields[waiter.spec.returns] : undefined);
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
    const reader = this.readers.shift();
    if (reader) reader.resolve(message);
    else this.delivered.push(message);
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
    const message = this.delivered.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.closed || this.terminatedFlag) return Promise.reject(new EngineClosed("recv"));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      // A reader that gave up leaves the queue, so the next message goes to someone still waiting.
      const leave = (error: unknown): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const index = this.readers.indexOf(reader);
        if (index >= 0) this.readers.splice(index, 1);
        reject(error);
      };
      const reader = {
        resolve: (value: M | undefined) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (value === undefined) reject(new EngineClosed("recv"));
          else resolve(value);
        },
      };
      const timer = setTimeout(() => leave(new TimeoutError("recv", timeoutMs)), timeoutMs);
      const onAbort = (): void => leave(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.readers.push(reader);
    });
  }

  /** Messages the actions deliver, until the client closes. */
  async *messages(): AsyncGenerator<M, void, undefined> {
    for (;;) {
      const message = this.delivered.shift();
      if (message !== undefined) {
        yield message;
        continue;
      }
      if (this.closed || this.terminatedFlag) return;
      const next = await new Promise<M | undefined>((resolve) => this.readers.push({ resolve }));
      if (next === undefined) return;
      yield next;
    }
  }

  /** @internal Encodes and queues a message to the server. */
  sendMessage(message: M): void {
    if (this.outgoing === undefined) {
      this.logger.log("warn", `${message.message} not sent: not connected`);
      return;
    }
    if (this.options.traceMessages !== undefined) this.traceMessage("sent", message);
    if (!this.outgoing.push(this.codec.encode(message))) this.rateLimited("warn", "send queue full: message dropped");
  }

  /** Hands a message to the tracer, which must not change what the engine does by failing. */
  private traceMessage(direction: TraceDirection, message: M): void {
    try {
      this.options.traceMessages?.(direction, message);
    } catch (error) {
      this.rateLimited("warn", `message tracer failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * @internal Connects to `endpoint`. Throws a {@link SocketError} when no socket can be opened or the endpoint
   * is not one; a host name that does not resolve fails the waiting call as soon as the lookup says so.
   */
  connectTo(endpoint: string): void {
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
    this.rateLimited("error", errorText(error));
    const waiter = this.waiter;
    if (waiter !== undefined && waiter.started) waiter.reject(error);
    try {
      this.options.onConnectionFailed?.(error);
    } catch (failure) {
      this.rateLimited("warn", `onConnectionFailed failed: ${errorText(failure)}`);
    }
  }

  /** @internal Replaces the DEALER with a new one connected to the same endpoints. */
  reopen(): void {
    this.dropSocket();
    if (!this.closed) this.open();
  }

  /** @internal */
  armHeartbeat(ms: number): void {
    checkTimerDelay("heartbeat", ms);
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (ms > 0 && this.machine.handles("heartbeat")) this.heartbeatTimer = setInterval(() => this.queue.push({ event: "heartbeat" }), ms);
  }

  /** @internal */
  armExpiry(ms: number): void {
    checkTimerDelay("expiry", ms);
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryMs = ms;
    this.silentPeriods = 0;
    if (ms > 0 && this.machine.handles("expired")) {
      const fire = (): void => {
        this.silentPeriods++;
        this.queue.push({ event: "expired" });
        // Repeats every period while the server stays silent.
        this.expiryTimer = setTimeout(fire, this.expiryMs);
      };
      this.expiryTimer = setTimeout(fire, ms);
    }
  }

  /** @internal */
  armWakeup(ms: number, event: Event): void {
    this.wakeupTimer.arm(ms, (wakeup) => this.queue.push({ event, wakeup }));
  }

  /**
   * Runs the model's `destructor` method if it has one, lets queued messages go out, then closes the socket,
   * clears every timer and settles everything pending. The timeout bounds the whole close: what is still
   * unsent when it runs out is dropped (and logged), so a dead server cannot hold close() up.
   */
  async close(options: CallOptions = {}): Promise<void> {
    if (this.closed || this.closing) return;
    const timeoutMs = checkTimeout("close", options.timeout ?? this.defaultTimeout);
    const deadline = Date.now() + timeoutMs;
    // Calls still pending or queued end now; only the destructor runs.
    this.closing = true;
    this.waiter?.reject(new EngineClosed(this.waiter.method));
    if (!this.terminatedFlag && Object.prototype.hasOwnProperty.call(this.methods, "destructor")) {
      try {
        await this.call("destructor", {}, options);
      } catch (error) {
        this.logger.log("debug", `destructor: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await this.shutdown(deadline);
  }

  /** Ends the client; queued messages get until `deadline` to be handed to the socket. */
  private async shutdown(deadline = Date.now()): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    this.queue.clear();
    const outgoing = this.outgoing;
    if (outgoing !== undefined) {
      try {
        await withDeadline("close", Math.max(1, deadline - Date.now()), () => outgoing.drained());
      } catch {
        this.logger.log("warn", `close: ${plural(outgoing.length, "queued message")} not sent before the timeout; dropped`);
        outgoing.clear();
      }
    }
    this.dropSocket();
    this.waiter?.reject(new EngineClosed(this.waiter.method));
    for (const reader of this.readers.splice(0)) reader.resolve(undefined);
    if (!this.terminatedFlag) this.notifyTerminated();
  }

  private terminate(): void {
    if (this.terminatedFlag) return;
    this.terminatedFlag = true;
    this.disarm();
    this.queue.clear();
    this.waiter?.reject(new ClientTerminated(this.waiter.method));
    for (const reader of this.readers.splice(0)) reader.resolve(undefined);
    this.notifyTerminated();
  }

  private notifyTerminated(): void {
    try {
      this.actions.terminated?.(this.context);
    } catch (error) {
      this.logger.log("error", `terminated hook failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private disarm(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.expiryTimer);
    this.heartbeatTimer = this.expiryTimer = undefined;
    this.wakeupTimer.cancel();
  }

  private open(): Dealer {
    const socket = openSocket(() => new Dealer({ linger: 0, ...this.socketOptions }));
    for (const endpoint of this.endpoints) socket.connect(endpoint);
    this.socket = socket;
    this.outgoing = new Outgoing(socket, this.options.sendQueueLimit ?? 10_000, (error) => {
      if (this.socket === socket) this.logger.log("warn", `send failed: ${error instanceof Error ? error.message : String(error)}`);
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
      // The socket closed.
    }
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.outgoing?.clear();
    this.outgoing = undefined;
    socket?.close();
  }

  private async receiveLoop(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        if (this.socket !== socket) break;
        this.received(frames);
      }
    } catch (error) {
      if (this.socket === socket && !this.closed) this.logger.log("error", `receive failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private received(frames: Buffer[]): void {
    this.expiryTimer?.refresh();
    this.silentPeriods = 0;
    let message: M;
    try {
      message = this.codec.decode(frames);
    } catch (error) {
      if (!(error instanceof MalformedError)) throw error;
      if (error.kind === "BadSignature") this.rateLimited("debug", `dropped a message with a foreign signature: ${error.message}`);
      else if (this.handlesMalformed) this.queue.push({ event: "malformed", error });
      else this.rateLimited("warn", `dropped a malformed message: ${error.message}`);
      return;
    }
    if (this.options.traceMessages !== undefined) this.traceMessage("received", message);
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
    this.executing = pending.call;
    if (pending.call !== undefined) pending.call.started = true;
    this.firstFailure = undefined;
    const result = execute(this.machine, this.runner, context, pending.event);
    if (result instanceof Promise) return result.finally(() => this.eventDone(pending));
    this.eventDone(pending);
    return result;
  }

  /**
   * After an event (and the `exception` event the model raised for its failure): a call that waited on it and
   * is still unanswered while an action failed ends now, with the failure, rather than at its timeout.
   */
  private eventDone(pending: Pending<M, Args>): void {
    this.executing = undefined;
    const failure = this.firstFailure;
    this.firstFailure = undefined;
    const waiter = this.waiter;
    if (failure === undefined || waiter === undefined) return;
    if (waiter === pending.call || waiter.started) waiter.reject(failure);
  }

  private rateLimited(level: LogLevel, message: string): void {
    const { allowed, suppressed } = this.limiter.allow(message.slice(0, 24));
    if (allowed) this.logger.log(level, message, suppressed > 0 ? { suppressed } : undefined);
  }
}
