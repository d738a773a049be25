/**
 * The server engine (`spec/models.md` §3): one ROUTER socket, one state machine per connected peer, keyed by
 * routing id. Generated servers drive it with their machine table and the user's actions; it never stops for
 * what a peer sends: malformed input is dropped or given to the model's `malformed` event, an event a state
 * does not handle is logged and dropped, and a failing action ends only its own event.
 */
import { Router, type Context } from "zeromq";
import type { AnyMessage, FrameCodec } from "../wire/codec.js";
import { MalformedError } from "../wire/errors.js";
import { maxFramesOf, tooManyFrames } from "../wire/frame-count.js";
import { writeFile } from "node:fs/promises";
import { ZplNode } from "../zpl/tree.js";
import { writeZpl } from "../zpl/write.js";
import { loadConfig, durationSetting, watchConfig, type ConfigSource } from "./config.js";
import { withDeadline, type CallOptions } from "./deadline.js";
import { ActionFailed, EngineClosed, MAX_TIMER_MS, SocketError, errorText } from "./errors.js";
import { DEFAULT_CLIENT_QUEUE_LIMIT, DEFAULT_PEER_SEND_LIMIT, checkLimit, frameLimit } from "./limits.js";
import { RateLimiter, createLogger, type LogFields, type LogLevel, type Logger } from "./log.js";
import { Machine, MachineState, execute, messageEvent, type MachineTable, type StepRunner } from "./machine.js";
import { Outgoing } from "./outgoing.js";
import { EventQueue } from "./queue.js";
import { serverSocketSecurity, serverZapPolicy, type ServerSecurity } from "./security.js";
import { openSocket } from "./sockets.js";
import type { MessageTracer, TraceDirection } from "./trace.js";
import { Wakeup } from "./wakeup.js";
import { registerZap, uniqueDomain } from "./zap.js";

/** Options of a server. */
export interface ServerOptions {
  /** Configuration: a ZPL tree, a ZPL file (reloaded when it changes if `watchConfig`), or path/value pairs. */
  readonly config?: ConfigSource;
  readonly watchConfig?: boolean;
  /** Trace every state, event and action (also `server/verbose = 1`). */
  readonly verbose?: boolean;
  readonly logger?: Logger;
  /** Messages, to all peers together, waiting to be handed to ZeroMQ before new ones are dropped (default 100 000). */
  readonly sendQueueLimit?: number;
  /**
   * Largest frame a peer may send, in octets (ZMQ_MAXMSGSIZE): a peer announcing a larger frame is disconnected
   * at its header, before its data arrives. Default: the model's `max_message_size`, else 1 MiB; from 1024 to
   * 2^31 − 1.
   */
  readonly maxMessageSize?: number;
  /**
   * Messages queued for one peer (ZMQ_SNDHWM, counted per peer; default 1000). A message that finds a peer's
   * queue full is dropped and the peer's session ends: it sends without reading. 0 lifts the bound (the C
   * engines' setting): a peer that never reads then makes the server queue without end.
   */
  readonly sendHighWaterMark?: number;
  /** Messages of one peer waiting for its actions (they run one event at a time); more are dropped (default 1000). */
  readonly clientQueueLimit?: number;
  /** Transport security (CURVE or PLAIN, decided by the process's ZAP handler); none (NULL) by default. */
  readonly security?: ServerSecurity;
  /**
   * The zeromq.js context of the server's sockets (default: zeromq's global context). Its `maxSockets` is the
   * process's socket limit (1,023 in libzmq's default); see docs/limits.md.
   */
  readonly context?: Context;
  /**
   * Called with every action failure, modelled (`exception`) or not, after it was logged: the way to make
   * them fail tests. What it throws is logged.
   */
  readonly onActionFailed?: (failure: ActionFailed) => void;
  /** Default timeout in ms of the server's own API calls (`start`, `bind`, `load`, `save`); 5000 if not given. */
  readonly callTimeout?: number;
  /**
   * Derives the per-peer silence timers from a configuration about to be put in force; throwing refuses the
   * configuration. Without it, `expired` comes after `server/timeout` ms (default 60 000) and there is no
   * heartbeat. Protocols whose configuration names these periods differently (FileMQ's `server/heartbeat`,
   * in seconds) supply their own.
   */
  readonly clientTimers?: (config: ZplNode) => ClientTimers;
  /** Sees every message received (once decoded) and sent (before encoding), with the peer's routing id. */
  readonly traceMessages?: MessageTracer;
}

/**
 * Per-peer timers, in ms, both restarted by every message from the peer. `heartbeat` raises the model's
 * `heartbeat` event after that long without a message and again every period while the silence lasts (the
 * Guide-era engine's heartbeat); `expiry` raises `expired` once per silent period.
 */
export interface ClientTimers {
  /** Silence before `heartbeat`, repeated while it lasts; 0 or absent: no heartbeat timer. */
  readonly heartbeat?: number;
  /** Silence before `expired` (or before a context without an `expired` handler is reaped). */
  readonly expiry: number;
}

/** What a server asks of the code that implements a protocol, besides its actions. */
export interface ServerHooks<Context, Client> {
  /** Creates the state kept for a newly connected peer (zproto's client_initialize). */
  createClient(context: Context): Client;
  /** A peer's context ended: by `terminate`, expiry or server close (zproto's client_terminate). */
  clientTerminated?(context: Context): void;
  /**
   * A configuration is about to be put in force (at start, `load`, `configure` or a reload): the
   * implementation checks and takes its own settings from it (zproto's server_configuration). Throwing
   * refuses the whole configuration; the one in force stays.
   */
  serverConfigured?(config: ZplNode): void;
  /** The server closed; every context has ended (zproto's server_terminate). */
  serverTerminated?(): void;
}

/** Why a peer's session ended. */
type Ending = "terminated" | "expired" | "disconnected" | "not reading" | "server closing";

/** A queued event for one context. */
interface Pending<M> {
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
  /** Pending events, run one at a time. */
  readonly queue: EventQueue<Pending<M>>;
  expiryTimer: NodeJS.Timeout | undefined;
  heartbeatTimer: NodeJS.Timeout | undefined;
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
      this.log("error", `event failed: ${error instanceof Error ? error.message : String(error)}`));
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

/** Any context of a given server, whatever request type its actions see. */
type AnyContext<M extends AnyMessage, Fields extends object, Event extends string, Client> = ServerContext<M, Fields, Event, Client, M | undefined>;

/**
 * The engine behind every generated server. `Fields` is the bag of all message fields (the type of
 * `reply`), `Event` the events actions may raise (generated servers leave out the protocol messages, which
 * only messages raise), `Client` the per-peer state of the implementation.
 */
export class ServerEngine<M extends AnyMessage, Fields extends object, Event extends string, Client> {
  readonly logger: Logger;
  /** The configuration tree in force. */
  config: ZplNode | undefined;
  private readonly machine: Machine;
  private readonly socket: Router;
  private readonly outgoing: Outgoing;
  private readonly contexts = new Map<string, AnyContext<M, Fields, Event, Client>>();
  private readonly runner: StepRunner<AnyContext<M, Fields, Event, Client>>;
  private readonly limiter = new RateLimiter();
  private readonly monitors = new Set<NodeJS.Timeout>();
  private readonly handlesExpired: boolean;
  private readonly handlesHeartbeat: boolean;
  private readonly handlesMalformed: boolean;
  private readonly handlesException: boolean;
  private readonly bound = new Set<string>();
  /** The most frames a message of the protocol has (undefined: a `msg` field leaves it open). */
  private readonly frameLimit: number | undefined;
  private readonly peerSendLimit: number;
  private readonly clientQueueLimit: number;
  /** Resolves once the ZAP handler decides this server's handshakes (with `security`); gives the unregister function. */
  private readonly zap: Promise<() => void> | undefined;
  private nextId = 1;
  private timeoutMs = 60_000;
  private heartbeatMs = 0;
  private verbose: boolean;
  private receiving: Promise<void> | undefined;
  private stopWatching: (() => void) | undefined;
  private closed = false;
  private started: Promise<void> | undefined;

  constructor(
    table: MachineTable,
    private readonly codec: FrameCodec<M, unknown>,
    private readonly actions: ServerHooks<AnyContext<M, Fields, Event, Client>, Client> & object,
    private readonly options: ServerOptions = {},
  ) {
    this.machine = new Machine(table);
    this.logger = options.logger ?? createLogger({ name: table.name });
    this.verbose = options.verbose ?? false;
    this.handlesExpired = this.machine.handles("expired");
    this.handlesHeartbeat = this.machine.handles("heartbeat");
    this.handlesMalformed = this.machine.handles("malformed");
    this.handlesException = this.machine.handles("exception");
    this.frameLimit = maxFramesOf(codec);
    this.peerSendLimit = checkLimit("sendHighWaterMark", options.sendHighWaterMark ?? DEFAULT_PEER_SEND_LIMIT, 0);
    this.clientQueueLimit = checkLimit("clientQueueLimit", options.clientQueueLimit ?? DEFAULT_CLIENT_QUEUE_LIMIT, 1);
    const maxMessageSize = frameLimit(options.maxMessageSize, table.maxMessageSize);
    // Security is checked before the socket opens: a bad key is a RangeError, and no socket is left open.
    const secured = options.security !== undefined
      ? { domain: uniqueDomain(table.name), policy: serverZapPolicy(options.security), security: options.security }
      : undefined;
    const securityOptions = secured !== undefined ? serverSocketSecurity(secured.security, secured.domain) : {};
    this.socket = openSocket(() => new Router({
      linger: 0,
      // A send to a peer that left fails (EHOSTUNREACH) and one to a peer whose queue is full fails (EAGAIN)
      // at once, instead of vanishing or waiting: one peer that does not read cannot hold up the others.
      mandatory: true,
      sendTimeout: 0,
      sendHighWaterMark: this.peerSendLimit,
      maxMessageSize,
      ...(options.context !== undefined ? { context: options.context } : {}),
      ...securityOptions,
    }));
    if (secured !== undefined) {
      this.zap = registerZap(this.socket.context, secured.domain, secured.policy, this.logger);
      // Awaited by start(); until then a failure must not count as unhandled.
      this.zap.catch(() => undefined);
    }
    this.outgoing = new Outgoing(this.socket, options.sendQueueLimit ?? 100_000, (error, frames) => this.sendFailed(error, frames));
    // The runner's getter reads the engine's verbosity, which can change at any time.
    const self = this;
    this.runner = {
      send: (context, message) => {
        const reply = context.reply;
        context.reply = {};
        this.sendTo(context.routingId, { ...reply, message } as unknown as M);
      },
      call: (context, action) => (this.actions as unknown as Record<string, (context: unknown) => unknown>)[action](context),
      terminate: (context) => this.destroy(context, "terminated"),
      unhandled: (context, event) => context.log("warn", `event ${event} is not handled in state ${context.state}; dropped`, { event }),
      failed: (context, action, error) => {
        const failure = new ActionFailed(action, context.event, context.state, error);
        context.failure = failure;
        context.log("error", `action ${action} failed: ${errorText(error)}`, { event: context.event });
        this.reportFailure(failure);
        return this.handlesException ? "exception" : undefined;
      },
      get tracing() {
        return self.verbose;
      },
      trace: (context, what) => this.logger.log("info", what, { client: context.id }),
    };
  }

  /** Number of connected peers. */
  get clientCount(): number {
    return this.contexts.size;
  }

  /** The TCP port of the endpoint bound last, if it was a TCP endpoint. */
  get port(): number | undefined {
    const match = /:(\d+)$/.exec(this.socket.lastEndpoint ?? "");
    return match ? Number(match[1]) : undefined;
  }

  /**
   * Applies the configuration given in the options (binding its endpoints) and starts serving. Rejects with
   * `TimeoutError` if that takes longer than the timeout; the server then goes on starting in the background.
   */
  start(options: CallOptions = {}): Promise<void> {
    return this.bounded("start", options, () => this.startOnce());
  }

  private startOnce(): Promise<void> {
    this.started ??= (async () => {
      // No port opens before the ZAP handler decides this server's handshakes.
      await this.zap;
      const source = this.options.config;
      this.applyConfig(await loadConfig(source));
      if (typeof source === "string" && this.options.watchConfig) {
        this.stopWatching = watchConfig(source, (tree) => this.reloadConfig(tree, source), (error) =>
          this.logger.log("error", `configuration ${source} not reloaded: ${error instanceof Error ? error.message : String(error)}`));
      }
      await this.bindConfigured();
      this.receiving ??= this.receiveLoop();
    })();
    return this.started;
  }

  /**
   * Binds an endpoint (`tcp://127.0.0.1:*` picks a free port) and returns the endpoint actually bound. An
   * address still held by a server of this process that just closed is retried until the timeout.
   */
  bind(endpoint: string, options: CallOptions = {}): Promise<string> {
    return this.bounded("bind", options, async (deadline) => {
      if (this.closed) throw new EngineClosed("bind");
      await this.startOnce();
      // Retrying stops before the deadline so that a port that stays taken reports EADDRINUSE, not a timeout.
      await bindRetrying(this.socket, endpoint, Math.min(deadline - 100, Date.now() + BIND_RETRY_MS));
      const actual = this.socket.lastEndpoint ?? endpoint;
      this.bound.add(endpoint);
      this.logger.log("info", `bound ${actual}`);
      return actual;
    });
  }

  /**
   * Loads a ZPL configuration file and applies it (binding any new endpoints), as `LOAD file` does in C. A
   * load that timed out or was aborted applies nothing, even if the file is read later.
   */
  load(file: string, options: CallOptions = {}): Promise<void> {
    return this.bounded("load", options, async (deadline) => {
      if (this.closed) throw new EngineClosed("load");
      const tree = await loadConfig(file);
      if (this.closed || Date.now() >= deadline || options.signal?.aborted) return;
      this.applyConfig(tree);
      await this.bindConfigured();
    });
  }

  /** Writes the configuration in force to a ZPL file; secrets (`password`, `hash`) are redacted. */
  save(file: string, options: CallOptions = {}): Promise<void> {
    return this.bounded("save", options, () =>
      writeFile(file, writeZpl(this.config ?? ZplNode.createRoot(), { redact: ["password", "hash"] })));
  }

  /** Runs an API call within its timeout; `work` gets the deadline (ms since the epoch) to pace retries by. */
  private bounded<T>(operation: string, options: CallOptions, work: (deadline: number) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeout ?? this.options.callTimeout ?? 5000;
    const deadline = Date.now() + timeoutMs;
    return withDeadline(operation, timeoutMs, () => work(deadline), options.signal);
  }

  /**
   * Sets one configuration value, as `SET path value` does in the C engines, and applies it. Throws, leaving
   * the configuration in force untouched, when the value is invalid.
   */
  configure(path: string, value: string): void {
    const tree = this.config?.clone() ?? ZplNode.createRoot();
    tree.set(path, value);
    this.applyConfig(tree);
  }

  /** Switches tracing on or off. */
  setVerbose(on: boolean): void {
    this.verbose = on;
  }

  /** Queues `event` on another peer's context (run after the current event; never re-entrant). */
  sendEvent(context: AnyContext<M, Fields, Event, Client>, event: Event): void {
    if (context.valid) this.deliver(context, { event });
  }

  /** Queues `event` on every peer's context, except one if given. */
  broadcast(event: Event, options: { except?: AnyContext<M, Fields, Event, Client> } = {}): void {
    for (const context of this.contexts.values()) if (context !== options.except) this.deliver(context, { event });
  }

  /** Runs `callback` every `ms` until the server closes; returns a function that stops it. */
  monitor(ms: number, callback: () => void): () => void {
    const timer = setInterval(() => {
      try {
        callback();
      } catch (error) {
        this.logger.log("error", `monitor failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, ms);
    this.monitors.add(timer);
    return () => {
      clearInterval(timer);
      this.monitors.delete(timer);
    };
  }

  /** Encodes a message and queues it for the peer with this routing id. */
  sendTo(routingId: Buffer, message: M): void {
    if (this.options.traceMessages !== undefined) this.traceMessage("sent", message, routingId);
    const frames = this.codec.encode(message);
    frames.unshift(routingId);
    if (!this.outgoing.push(frames)) this.rateLimited("warn", "send-queue-full", "send queue full: message dropped");
  }

  /** Stops serving: no more receives or sends, every timer cleared, every context ended. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching?.();
    for (const timer of this.monitors) clearInterval(timer);
    this.monitors.clear();
    for (const context of [...this.contexts.values()]) this.destroy(context, "server closing");
    this.outgoing.clear();
    try {
      this.actions.serverTerminated?.();
    } catch (error) {
      this.logger.log("error", `serverTerminated failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    // No unbind first: libzmq 4.3.5 can abort when a ROUTER unbinds while peers are disconnecting. The
    // port is released shortly after close(); bind() waits for that when a server restarts in-process.
    this.socket.close();
    await this.receiving;
    const unregister = await this.zap?.catch(() => undefined);
    unregister?.();
  }

  /** @internal Arms a context's wakeup timer. */
  armWakeup(context: AnyContext<M, Fields, Event, Client>, ms: number, event: Event): void {
    context.wakeupTimer.arm(ms, (wakeup) => {
      if (context.valid) this.deliver(context, { event, wakeup });
    });
  }

  /** Takes a configuration tree; throws, keeping the one in force, when a value is invalid. */
  private applyConfig(tree: ZplNode): void {
    const timers = this.options.clientTimers?.(tree) ?? { expiry: durationSetting(tree, "server/timeout", 60_000) };
    const timeoutMs = checkTimerPeriod("expiry", timers.expiry);
    const heartbeatMs = timers.heartbeat === undefined || timers.heartbeat === 0 ? 0 : checkTimerPeriod("heartbeat", timers.heartbeat);
    const verbose = tree.get("server/verbose") ?? tree.get("server/animate");
    this.actions.serverConfigured?.(tree);
    this.config = tree;
    this.timeoutMs = timeoutMs;
    this.heartbeatMs = heartbeatMs;
    if (timeoutMs < 1000) this.logger.log("warn", `server/timeout is ${timeoutMs} ms; below 1000 ms peers may expire under load`);
    if (verbose !== undefined) this.verbose = verbose === "1" || this.options.verbose === true;
    const echo = tree.get(`${this.machine.table.name}/echo`);
    if (echo) this.logger.log("info", echo);
    if (this.receiving) void this.bindConfigured();
  }

  private reloadConfig(tree: ZplNode, source: string): void {
    try {
      this.applyConfig(tree);
      this.logger.log("info", `configuration ${source} reloaded`);
    } catch (error) {
      this.logger.log("error", `configuration ${source} not reloaded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async bindConfigured(): Promise<void> {
    for (const node of this.config?.all(`${this.machine.table.name}/bind/endpoint`) ?? []) {
      const endpoint = node.value ?? "";
      if (endpoint === "" || this.bound.has(endpoint)) continue;
      this.bound.add(endpoint);
      try {
        await bindRetrying(this.socket, endpoint);
        this.logger.log("info", `bound ${this.socket.lastEndpoint ?? endpoint}`);
      } catch (error) {
        this.logger.log("error", errorText(error));
      }
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) this.received(frames);
    } catch (error) {
      if (!this.closed) this.logger.log("error", `receive failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private received(frames: Buffer[]): void {
    if (frames.length < 2) {
      this.rateLimited("debug", "no-frames", "message without frames after the routing id dropped");
      return;
    }
    const routingId = frames[0];
    const key = routingId.toString("latin1");
    // Counted, not walked: a message of a million empty frames costs no more than its count.
    if (this.frameLimit !== undefined && frames.length - 1 > this.frameLimit) {
      this.rejected(key, routingId, tooManyFrames(this.codec, frames.length - 1, this.frameLimit));
      return;
    }
    let message: M;
    try {
      message = this.codec.decode(frames.slice(1));
    } catch (error) {
      this.rejected(key, routingId, error);
      return;
    }
    if (this.options.traceMessages !== undefined) this.traceMessage("received", message, routingId);
    const context = this.contexts.get(key) ?? this.create(key, routingId);
    if (context === undefined) return;
    this.rearmExpiry(context);
    this.deliverFromPeer(context, { event: messageEvent(message.message), message });
  }

  /** Hands a message to the tracer, which must not change what the engine does by failing. */
  private traceMessage(direction: TraceDirection, message: M, routingId: Buffer): void {
    try {
      this.options.traceMessages?.(direction, message, routingId);
    } catch (error) {
      this.rateLimited("warn", "tracer", `message tracer failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private rejected(key: string, routingId: Buffer, error: unknown): void {
    if (!(error instanceof MalformedError)) {
      this.logger.log("error", `decoder failed unexpectedly: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return;
    }
    // Every message from a peer restarts its expiry, whatever it holds (spec/models.md §3.8).
    const existing = this.contexts.get(key);
    if (existing) this.rearmExpiry(existing);
    // Stray peers speaking another protocol get silence, never an answer.
    if (error.kind === "BadSignature") {
      this.rateLimited("debug", "bad-signature", `dropped a message with a foreign signature: ${error.message}`);
      return;
    }
    if (!this.handlesMalformed) {
      this.rateLimited("warn", "malformed", `dropped a malformed message: ${error.message}`, existing ? { client: existing.id } : undefined);
      return;
    }
    const context = existing ?? this.create(key, routingId);
    if (context === undefined) return;
    if (context !== existing) this.rearmExpiry(context);
    this.deliverFromPeer(context, { event: "malformed", error });
  }

  private create(key: string, routingId: Buffer): AnyContext<M, Fields, Event, Client> | undefined {
    if (this.closed) return undefined;
    const context = new ServerContext<M, Fields, Event, Client>(this, Buffer.from(routingId), this.nextId++, this.machine.initial,
      (target, pending) => this.run(target, pending));
    try {
      context.client = this.actions.createClient(context);
    } catch (error) {
      this.logger.log("error", `createClient failed; peer ignored: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    this.contexts.set(key, context);
    if (this.verbose) this.logger.log("info", "new client", { client: context.id });
    return context;
  }

  private rearmExpiry(context: AnyContext<M, Fields, Event, Client>): void {
    this.rearmHeartbeat(context);
    if (context.expiryTimer !== undefined) {
      context.expiryTimer.refresh();
      return;
    }
    context.expiryTimer = setTimeout(() => {
      context.expiryTimer = undefined;
      if (!context.valid) return;
      // Without an `expired` handler silent peers are reaped, so dead ones cannot pile up.
      if (this.handlesExpired) this.deliver(context, { event: "expired" });
      else this.destroy(context, "expired");
    }, this.timeoutMs);
  }

  /** Restarts a context's heartbeat: `heartbeat` after a period of silence, then every period while it lasts. */
  private rearmHeartbeat(context: AnyContext<M, Fields, Event, Client>): void {
    if (!this.handlesHeartbeat || this.heartbeatMs === 0) return;
    if (context.heartbeatTimer !== undefined) {
      context.heartbeatTimer.refresh();
      return;
    }
    context.heartbeatTimer = setInterval(() => {
      if (context.valid) this.deliver(context, { event: "heartbeat" });
    }, this.heartbeatMs);
  }

  private deliver(context: AnyContext<M, Fields, Event, Client>, pending: Pending<M>): void {
    context.queue.push(pending);
  }

  /** Queues what a peer sent, unless too much of it already waits for the peer's actions. */
  private deliverFromPeer(context: AnyContext<M, Fields, Event, Client>, pending: Pending<M>): void {
    if (context.queue.length >= this.clientQueueLimit) {
      this.rateLimited("warn", "client-queue-full", `client ${context.id}: ${this.clientQueueLimit} of its messages already wait for its actions; message dropped`, { client: context.id });
      return;
    }
    this.deliver(context, pending);
  }

  /**
   * A send ZeroMQ refused at once (the ROUTER is mandatory and never waits): the peer left (EHOSTUNREACH), or
   * its queue is full because it does not read (EAGAIN). Either ends the peer's session.
   */
  private sendFailed(error: unknown, frames: Buffer[]): void {
    if (this.closed) return;
    const code = (error as NodeJS.ErrnoException).code;
    const context = this.contexts.get(frames[0].toString("latin1"));
    if (code === "EHOSTUNREACH" || code === "EAGAIN") {
      if (context !== undefined) this.destroy(context, code === "EAGAIN" ? "not reading" : "disconnected");
      else this.rateLimited("debug", "stale-send", `message to a client whose session ended dropped (${code})`);
      return;
    }
    this.rateLimited("warn", "send-failed", `send failed: ${errorText(error)}`);
  }

  /** Gives an action failure to the `onActionFailed` option. */
  private reportFailure(failure: ActionFailed): void {
    try {
      this.options.onActionFailed?.(failure);
    } catch (error) {
      this.logger.log("error", `onActionFailed threw: ${errorText(error)}`);
    }
  }

  private run(context: AnyContext<M, Fields, Event, Client>, pending: Pending<M>): boolean | Promise<boolean> | undefined {
    if (!context.valid) return undefined;
    if (pending.wakeup !== undefined && !context.wakeupTimer.isCurrent(pending.wakeup)) return undefined;
    if (pending.message !== undefined) context.request = pending.message;
    context.error = pending.error;
    context.failure = undefined;
    context.wakeupTimer.cancel();
    return execute(this.machine, this.runner, context, pending.event);
  }

  private destroy(context: AnyContext<M, Fields, Event, Client>, reason: Ending): void {
    if (!context.valid) return;
    context.valid = false;
    clearTimeout(context.expiryTimer);
    clearInterval(context.heartbeatTimer);
    context.expiryTimer = context.heartbeatTimer = undefined;
    context.wakeupTimer.cancel();
    const key = context.routingId.toString("latin1");
    this.contexts.delete(key);
    // Messages the peer sent after the one that ended its context start a new session, as they would
    // have if they had arrived a moment later; those of a peer that left or does not read are dropped.
    const pending = context.queue.drainItems();
    const orphans = reason === "terminated" ? pending.filter((item) => item.message !== undefined || item.error !== undefined) : [];
    this.logEnding(context, reason);
    try {
      this.actions.clientTerminated?.(context);
    } catch (error) {
      this.logger.log("error", `clientTerminated failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (orphans.length === 0 || this.closed) return;
    const fresh = this.create(key, context.routingId);
    if (fresh === undefined) return;
    this.rearmExpiry(fresh);
    for (const pending of orphans) this.deliver(fresh, pending);
  }

  /** Says in plain words why a session ended. */
  private logEnding(context: AnyContext<M, Fields, Event, Client>, reason: Ending): void {
    const fields = { client: context.id };
    switch (reason) {
      case "terminated":
        this.logger.log(this.verbose ? "info" : "debug", `client ${context.id}: session ended by the model (terminate)`, fields);
        break;
      case "expired":
        this.logger.log("info", `client ${context.id}: session expired: nothing received for ${this.timeoutMs} ms (server/timeout)`, fields);
        break;
      case "disconnected":
        this.logger.log("info", `client ${context.id}: session ended: the client disconnected`, fields);
        break;
      case "not reading":
        this.rateLimited("warn", "not-reading", `client ${context.id}: session ended: it does not read what the server sends (${this.peerSendLimit} messages queued for it); its pending messages are dropped`, fields);
        break;
      case "server closing":
        this.logger.log("debug", `client ${context.id}: session ended: the server is closing`, fields);
        break;
    }
  }

  private rateLimited(level: LogLevel, key: string, message: string, fields?: LogFields): void {
    const { allowed, suppressed } = this.limiter.allow(key);
    if (allowed) this.logger.log(level, message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

/** A timer period from {@link ServerOptions.clientTimers}: a whole number of ms a timer can wait. */
function checkTimerPeriod(what: string, ms: number): number {
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) throw new RangeError(`${what} period must be a whole number of ms from 1 to ${MAX_TIMER_MS}, not ${ms}`);
  return ms;
}

/** How long bind() waits for a port that a closed socket of this process is still releasing. */
const BIND_RETRY_MS = 2000;

/**
 * Binds, retrying until `deadline` while the address is in use: a server restarting in the same process
 * finds its port still held for a moment by the socket it closed.
 */
async function bindRetrying(socket: Router, endpoint: string, deadline = Date.now() + BIND_RETRY_MS): Promise<void> {
  for (;;) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (error) {
      const inUse = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (!inUse || Date.now() > deadline || endpoint.endsWith(":*")) throw new SocketError("bind", endpoint, error);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
