/**
 * The server engine (`spec/models.md` §3): one ROUTER socket, one state machine per connected peer, keyed by
 * routing id. Generated servers drive it with their machine table and the user's actions; it never stops for
 * what a peer sends: malformed input is dropped or given to the model's `malformed` event, an event a state
 * does not handle is logged and dropped, and a failing action ends only its own event.
 */
import { Router } from "zeromq";
import type { AnyMessage, FrameCodec } from "../wire/codec.js";
import { MalformedError } from "../wire/errors.js";
import { maxFramesOf, tooManyFrames } from "../wire/frame-count.js";
import { writeFile } from "node:fs/promises";
import { ZplNode } from "../zpl/tree.js";
import { writeZpl } from "../zpl/write.js";
import { loadConfig, durationSetting, watchConfig } from "./config.js";
import { withDeadline, type CallOptions } from "./deadline.js";
import { EngineClosed, MAX_TIMER_MS, SocketError, TimeoutError, checkTimerDelay, errorText } from "./errors.js";
import { DEFAULT_CLIENT_QUEUE_LIMIT, DEFAULT_PEER_SEND_LIMIT, checkLimit, frameLimit } from "./limits.js";
import { RateLimiter, createLogger, type Logger } from "./log.js";
import { Machine, execute, messageEvent, type MachineTable, type StepRunner } from "./machine.js";
import { guarded, type EngineOptions } from "./options.js";
import { Outgoing } from "./outgoing.js";
import { createRunner } from "./runner.js";
import { serverSocketSecurity, serverZapPolicy, type ServerSecurity } from "./security.js";
import { ServerContext, type Pending } from "./server-context.js";
import { SilenceTimer } from "./silence.js";
import { BIND_RETRY_MS, bindRetrying, openSocket } from "./sockets.js";
import { guardedTracer, type MessageTracer } from "./trace.js";
import { registerZap, uniqueDomain, type ZapPolicy } from "./zap.js";

export { ServerContext } from "./server-context.js";

/** Options of a server. */
export interface ServerOptions extends EngineOptions {
  /** With a ZPL file as `config`: reload it when it changes (checked once a second). */
  readonly watchConfig?: boolean;
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
  /** Default timeout in ms of the server's own API calls (`start`, `bind`, `load`, `save`); 5000 if not given. */
  readonly callTimeout?: number;
  /**
   * Derives the per-peer silence timers from a configuration about to be put in force; throwing refuses the
   * configuration. Without it, `expired` comes after `server/timeout` ms (default 60 000) and there is no
   * heartbeat. Protocols whose configuration names these periods differently (FileMQ's `server/heartbeat`,
   * in seconds) supply their own. New periods apply to each peer from its next message.
   */
  readonly clientTimers?: (config: ZplNode) => ClientTimers;
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

/** Why a peer's session ended: {@link SessionEnding}'s `reason`. */
export type SessionEndReason = SessionEnding<AnyMessage>["reason"];

/**
 * Why a peer's session ended, as `clientTerminated` is told. When a message could not be delivered to the
 * peer, `undelivered` is that message: it never reached the peer (what was sent before it may have).
 */
export type SessionEnding<M> =
  /** The model's `terminate`. */
  | { readonly reason: "terminated" }
  /** Silent for `server/timeout`, in a model without an `expired` handler. */
  | { readonly reason: "expired" }
  /** A message to the peer found no connection: the peer has gone. */
  | { readonly reason: "disconnected"; readonly undelivered: M }
  /** A message to the peer found its queue full (`sendHighWaterMark`): the peer does not read. */
  | { readonly reason: "not reading"; readonly undelivered: M }
  /** The server is closing. */
  | { readonly reason: "server closing" };

/** What a server asks of the code that implements a protocol, besides its actions. */
export interface ServerHooks<Context, Client, M = AnyMessage> {
  /** Creates the state kept for a newly connected peer (zproto's client_initialize). */
  createClient(context: Context): Client;
  /**
   * A peer's context ended (zproto's client_terminate); `ending` says why: `terminate`, expiry, a peer gone
   * or not reading (with the message that could not be delivered), or the server closing.
   */
  clientTerminated?(context: Context, ending: SessionEnding<M>): void;
  /**
   * A configuration is about to be put in force (at start, `load`, `configure` or a reload): the
   * implementation checks and takes its own settings from it (zproto's server_configuration). Throwing
   * refuses the whole configuration; the one in force stays.
   */
  serverConfigured?(config: ZplNode): void;
  /** The server closed; every context has ended (zproto's server_terminate). */
  serverTerminated?(): void;
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
  /** Each message is queued with the message it was encoded from: a send that fails says which one. */
  private readonly outgoing: Outgoing<M>;
  private readonly contexts = new Map<string, AnyContext<M, Fields, Event, Client>>();
  private readonly runner: StepRunner<AnyContext<M, Fields, Event, Client>>;
  private readonly limiter = new RateLimiter();
  private readonly tracer: MessageTracer | undefined;
  private readonly monitors = new Set<NodeJS.Timeout>();
  private readonly handlesExpired: boolean;
  private readonly handlesHeartbeat: boolean;
  private readonly handlesMalformed: boolean;
  /** Endpoints bound, as given (`tcp://127.0.0.1:*`), so that a configuration names each once. */
  private readonly bound = new Set<string>();
  /** Endpoints bound, as ZeroMQ reports them (with the port `:*` picked), in the order they were bound. */
  private readonly boundEndpoints: string[] = [];
  /** The most frames a message of the protocol has (undefined: a `msg` field leaves it open). */
  private readonly frameLimit: number | undefined;
  private readonly peerSendLimit: number;
  private readonly clientQueueLimit: number;
  /** With `security`: the ZAP domain of this server's handshakes and the policy that decides them. */
  private readonly secured: { readonly domain: string; readonly policy: ZapPolicy } | undefined;
  /** Resolves once the ZAP handler decides this server's handshakes (registered at start); gives the unregister function. */
  private zap: Promise<() => void> | undefined;
  private nextId = 1;
  private timeoutMs = 60_000;
  private heartbeatMs = 0;
  private receiving: Promise<void> | undefined;
  private stopWatching: (() => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private started: Promise<SocketError | undefined> | undefined;
  /** Whether the failure of a configured endpoint at start was told (by `start` rejecting, or logged by `bind`). */
  private startFailureTold = false;
  /** Values `configure` set before the server started, in order. */
  private readonly setBeforeStart: [path: string, value: string][] = [];

  constructor(
    table: MachineTable,
    private readonly codec: FrameCodec<M, unknown>,
    private readonly actions: ServerHooks<AnyContext<M, Fields, Event, Client>, Client, M> & object,
    private readonly options: ServerOptions = {},
  ) {
    this.machine = new Machine(table);
    this.logger = options.logger ?? createLogger({ name: table.name });
    this.handlesExpired = this.machine.handles("expired");
    this.handlesHeartbeat = this.machine.handles("heartbeat");
    this.handlesMalformed = this.machine.handles("malformed");
    this.frameLimit = maxFramesOf(codec);
    this.peerSendLimit = checkLimit("sendHighWaterMark", options.sendHighWaterMark ?? DEFAULT_PEER_SEND_LIMIT, 0);
    this.clientQueueLimit = checkLimit("clientQueueLimit", options.clientQueueLimit ?? DEFAULT_CLIENT_QUEUE_LIMIT, 1);
    const sendQueueLimit = checkLimit("sendQueueLimit", options.sendQueueLimit ?? 100_000, 1);
    const maxMessageSize = frameLimit(options.maxMessageSize, table.maxMessageSize);
    // Security is checked before the socket opens: a bad key is a RangeError, and no socket is left open.
    const security = options.security;
    this.secured = security !== undefined ? { domain: uniqueDomain(table.name), policy: serverZapPolicy(security) } : undefined;
    const securityOptions = security !== undefined && this.secured !== undefined ? serverSocketSecurity(security, this.secured.domain) : {};
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
    this.outgoing = new Outgoing<M>(this.socket, sendQueueLimit, (error, frames, message) => this.sendFailed(error, frames, message));
    this.tracer = guardedTracer(options.traceMessages, (error) => this.limiter.log(this.logger, "warn", "tracer", `message tracer failed: ${errorText(error)}`));
    this.runner = createRunner<AnyContext<M, Fields, Event, Client>>({
      actions: this.actions,
      handlesException: this.machine.handles("exception"),
      send: (context, message) => {
        const reply = context.reply;
        context.reply = {};
        this.sendTo(context.routingId, { ...reply, message } as unknown as M);
      },
      terminate: (context) => this.destroy(context, { reason: "terminated" }),
      failed: (failure) => guarded(this.logger, "onActionFailed threw", () => this.options.onActionFailed?.(failure)),
      trace: (context, what) => this.logger.log("info", what, { client: context.id }),
    });
    this.runner.tracing = options.verbose ?? false;
  }

  /** Number of connected peers. */
  get clientCount(): number {
    return this.contexts.size;
  }

  /** The TCP port of the endpoint bound last, if it was a TCP endpoint (also once closed, to restart on it). */
  get port(): number | undefined {
    const match = /:(\d+)$/.exec(this.boundEndpoints.at(-1) ?? "");
    return match ? Number(match[1]) : undefined;
  }

  /** The endpoints bound, in the order they were, as ZeroMQ reports them (`tcp://127.0.0.1:*` with its port). */
  get endpoints(): readonly string[] {
    return this.boundEndpoints;
  }

  /**
   * Applies the configuration given in the options, binds the endpoints it names (`<class>/bind/endpoint`) and
   * starts serving. When an endpoint cannot be bound, the others are bound all the same and the server serves
   * on them, and `start` rejects with the `SocketError` of the first that failed (others that failed too are
   * logged): close the server if it must not run without it; a later `start` says the same. Rejects with
   * `TimeoutError` if all that takes longer than the timeout; the server then goes on starting in the
   * background, and logs a configured endpoint that it cannot bind.
   */
  start(options: CallOptions = {}): Promise<void> {
    return this.bounded("start", options, async (deadline) => {
      const failure = await this.startOnce();
      if (failure === undefined) return;
      // A start that timed out or was aborted meanwhile has nobody waiting for its rejection: log it instead.
      if (!this.startFailureTold && (Date.now() >= deadline || options.signal?.aborted === true)) this.logger.log("error", failure.message);
      this.startFailureTold = true;
      throw failure;
    });
  }

  /**
   * Starts once; resolves with the failure of a configured endpoint, if one could not be bound. A close()
   * meanwhile stops it at its next step, so nothing outlives the close.
   */
  private startOnce(): Promise<SocketError | undefined> {
    this.started ??= (async () => {
      // No port opens before the ZAP handler decides this server's handshakes. Registered here rather than
      // in the constructor: a server that never starts holds no handler open (its socket would keep the
      // process alive).
      if (this.secured !== undefined) {
        this.zap = registerZap(this.socket.context, this.secured.domain, this.secured.policy, this.logger);
        await this.zap;
      }
      const source = this.options.config;
      const tree = withValues(await loadConfig(source), this.setBeforeStart);
      if (this.closed) throw new EngineClosed("start");
      this.applyConfig(tree);
      if (typeof source === "string" && this.options.watchConfig) {
        this.stopWatching = watchConfig(source, (tree) => this.reloadConfig(tree, source), (error) =>
          this.logger.log("error", `configuration ${source} not reloaded: ${errorText(error)}`));
      }
      const failure = await this.bindConfigured();
      if (this.closed) throw new EngineClosed("start");
      this.receiving = this.receiveLoop();
      return failure;
    })();
    return this.started;
  }

  /**
   * Binds an endpoint (`tcp://127.0.0.1:*` picks a free port) and returns the endpoint actually bound. An
   * address still held by a server of this process that just closed is retried until the timeout; one that
   * stays taken rejects with its `SocketError` (EADDRINUSE), never with a `TimeoutError`. Starts the server
   * first if need be; a configured endpoint that cannot be bound then is logged (`start` rejects with it).
   */
  bind(endpoint: string, options: CallOptions = {}): Promise<string> {
    let inUse: SocketError | undefined;
    return this.bounded("bind", options, async (deadline) => {
      if (this.closed) throw new EngineClosed("bind");
      await this.startFirst();
      let actual: string;
      try {
        // Retrying stops a little before the deadline, so that the answer usually comes before the timeout.
        actual = await bindRetrying(this.socket, endpoint, Math.min(deadline - 100, Date.now() + BIND_RETRY_MS), (error) => (inUse = error));
      } catch (error) {
        throw this.closed ? new EngineClosed("bind") : error;
      }
      return this.boundTo(endpoint, actual);
    }).catch((error: unknown) => {
      // The timeout ran out while the address was still taken: that is the answer, not the timeout.
      throw error instanceof TimeoutError && inUse !== undefined ? inUse : error;
    });
  }

  /**
   * Loads a ZPL configuration file and applies it, binding the endpoints it adds, as `LOAD file` does in C;
   * starts the server first if need be (as `bind` does), so that the file overrides the configuration of the
   * options. A load that timed out or was aborted applies nothing, even if the file is read later. When an
   * endpoint cannot be bound, the configuration is in force all the same, the other endpoints are bound, and
   * `load` rejects with the `SocketError` of the first that failed; a later `load` (or `start`) tries it again.
   */
  load(file: string, options: CallOptions = {}): Promise<void> {
    return this.bounded("load", options, async (deadline) => {
      if (this.closed) throw new EngineClosed("load");
      // Bound before start, its endpoints would open before the ZAP handler decides handshakes, nothing would
      // receive on them, and start would then put the options' configuration back in force.
      await this.startFirst();
      const tree = await loadConfig(file);
      if (this.closed || Date.now() >= deadline || options.signal?.aborted) return;
      this.applyConfig(tree);
      const failure = await this.bindConfigured();
      if (failure !== undefined) throw failure;
    });
  }

  /**
   * Starts the server for a call that needs it serving (`bind`, `load`). Nobody waits for start there, so a
   * configured endpoint it could not bind is logged, unless `start` already said so.
   */
  private async startFirst(): Promise<void> {
    const failure = await this.startOnce();
    if (failure === undefined || this.startFailureTold) return;
    this.startFailureTold = true;
    this.logger.log("error", failure.message);
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
   * the configuration in force untouched, when the value is invalid. A value set before `start` stays in force
   * over the options' configuration that `start` applies.
   */
  configure(path: string, value: string): void {
    const tree = this.config?.clone() ?? ZplNode.createRoot();
    tree.set(path, value);
    this.applyConfig(tree);
    // start() puts the options' configuration in force: what was set before it goes in again on top.
    if (this.started === undefined) this.setBeforeStart.push([path, value]);
    this.bindInBackground();
  }

  /** Switches tracing on or off. */
  setVerbose(on: boolean): void {
    this.runner.tracing = on;
  }

  /** Queues `event` on another peer's context (run after the current event; never re-entrant). */
  sendEvent(context: AnyContext<M, Fields, Event, Client>, event: Event): void {
    if (context.valid) context.queue.push({ event });
  }

  /** Queues `event` on every peer's context, except one if given. */
  broadcast(event: Event, options: { except?: AnyContext<M, Fields, Event, Client> } = {}): void {
    for (const context of this.contexts.values()) if (context !== options.except) context.queue.push({ event });
  }

  /** Runs `callback` every `ms` until the server closes; returns a function that stops it. */
  monitor(ms: number, callback: () => void): () => void {
    checkTimerDelay("monitor", ms);
    if (this.closed) return () => undefined;
    const timer = setInterval(() => guarded(this.logger, "monitor failed", callback), ms);
    this.monitors.add(timer);
    return () => {
      clearInterval(timer);
      this.monitors.delete(timer);
    };
  }

  /** Encodes a message and queues it for the peer with this routing id; nothing once the server closed. */
  sendTo(routingId: Buffer, message: M): void {
    if (this.closed) return;
    const frames = this.codec.encode(message);
    this.tracer?.("sent", message, routingId);
    frames.unshift(routingId);
    if (!this.outgoing.push(frames, message)) this.limiter.log(this.logger, "warn", "send-queue-full", "send queue full: message dropped");
  }

  /**
   * Stops serving: no more receives or sends, every timer cleared, every context ended (an event still running
   * on one runs no further action). Calling it again returns the same promise.
   */
  close(): Promise<void> {
    return (this.closing ??= this.closeOnce());
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    this.stopWatching?.();
    for (const timer of this.monitors) clearInterval(timer);
    this.monitors.clear();
    for (const context of [...this.contexts.values()]) this.destroy(context, { reason: "server closing" });
    this.outgoing.clear();
    guarded(this.logger, "serverTerminated failed", () => this.actions.serverTerminated?.());
    // No unbind first: libzmq 4.3.5 can abort when a ROUTER unbinds while peers are disconnecting. The
    // port is released shortly after close(); bind() waits for that when a server restarts in-process.
    this.socket.close();
    await this.receiving;
    const unregister = await this.zap?.catch(() => undefined);
    unregister?.();
  }

  /** @internal Arms a context's wakeup timer; nothing once the context ended. */
  armWakeup(context: AnyContext<M, Fields, Event, Client>, ms: number, event: Event): void {
    checkTimerDelay("wakeup", ms);
    if (!context.valid) return;
    context.wakeupTimer.arm(ms, (wakeup) => {
      if (context.valid) context.queue.push({ event, wakeup });
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
    if (verbose !== undefined) this.runner.tracing = verbose === "1" || this.options.verbose === true;
    const echo = tree.get(`${this.machine.table.name}/echo`);
    if (echo) this.logger.log("info", echo);
  }

  private reloadConfig(tree: ZplNode, source: string): void {
    // A file read before close() may be parsed after it.
    if (this.closed) return;
    try {
      this.applyConfig(tree);
      this.logger.log("info", `configuration ${source} reloaded`);
    } catch (error) {
      this.logger.log("error", `configuration ${source} not reloaded: ${errorText(error)}`);
      return;
    }
    this.bindInBackground();
  }

  /**
   * Binds what a configuration put in force by `configure` or a reload adds: no caller waits, so a failure is
   * logged. Before start nothing is bound (start binds what is configured then); while start binds, the
   * endpoints it read may lack this configuration's, so they are bound once start is done.
   */
  private bindInBackground(): void {
    void this.started?.then(() => this.bindConfigured(), () => undefined).then((failure) => {
      if (failure !== undefined) this.logger.log("error", failure.message);
    });
  }

  /**
   * Binds every configured endpoint not bound yet. Resolves with the failure of the first that could not be
   * (a later configuration tries it again); those after it are bound all the same, and their failures logged.
   */
  private async bindConfigured(): Promise<SocketError | undefined> {
    let first: SocketError | undefined;
    for (const node of this.config?.all(`${this.machine.table.name}/bind/endpoint`) ?? []) {
      const endpoint = node.value ?? "";
      if (this.closed) return undefined;
      if (endpoint === "" || this.bound.has(endpoint)) continue;
      // Claimed before the bind, so that a configuration applied meanwhile does not bind it twice.
      this.bound.add(endpoint);
      try {
        this.boundTo(endpoint, await bindRetrying(this.socket, endpoint));
      } catch (error) {
        this.bound.delete(endpoint);
        if (this.closed) return undefined;
        const failure = error instanceof SocketError ? error : new SocketError("bind", endpoint, error);
        if (first === undefined) first = failure;
        else this.logger.log("error", failure.message);
      }
    }
    return first;
  }

  /** Records a bind of `endpoint` that succeeded, `actual` being what ZeroMQ bound (the port `:*` picked); returns it. */
  private boundTo(endpoint: string, actual: string): string {
    this.bound.add(endpoint);
    this.boundEndpoints.push(actual);
    this.logger.log("info", `bound ${actual}`);
    return actual;
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) this.received(frames);
    } catch (error) {
      if (!this.closed) this.logger.log("error", `receive failed: ${errorText(error)}`);
    }
  }

  private received(frames: Buffer[]): void {
    if (frames.length < 2) {
      this.limiter.log(this.logger, "debug", "no-frames", "message without frames after the routing id dropped");
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
    this.tracer?.("received", message, routingId);
    const context = this.contexts.get(key) ?? this.create(key, routingId);
    if (context === undefined) return;
    this.restartTimers(context);
    this.deliverFromPeer(context, { event: messageEvent(message.message), message });
  }

  private rejected(key: string, routingId: Buffer, error: unknown): void {
    if (!(error instanceof MalformedError)) {
      this.limiter.log(this.logger, "error", "decoder", `decoder failed unexpectedly: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return;
    }
    // Every message from a peer restarts its expiry, whatever it holds (spec/models.md §3.8).
    const existing = this.contexts.get(key);
    if (existing) this.restartTimers(existing);
    // Stray peers speaking another protocol get silence, never an answer.
    if (error.kind === "BadSignature") {
      this.limiter.log(this.logger, "debug", "bad-signature", `dropped a message with a foreign signature: ${error.message}`);
      return;
    }
    if (!this.handlesMalformed) {
      this.limiter.log(this.logger, "warn", "malformed", `dropped a malformed message: ${error.message}`, existing ? { client: existing.id } : undefined);
      return;
    }
    const context = existing ?? this.create(key, routingId);
    if (context === undefined) return;
    if (context !== existing) this.restartTimers(context);
    this.deliverFromPeer(context, { event: "malformed", error });
  }

  private create(key: string, routingId: Buffer): AnyContext<M, Fields, Event, Client> | undefined {
    if (this.closed) return undefined;
    const context = new ServerContext<M, Fields, Event, Client>(this, Buffer.from(routingId), this.nextId++, this.machine.initial,
      (target, pending) => this.run(target, pending));
    try {
      context.client = this.actions.createClient(context);
    } catch (error) {
      this.limiter.log(this.logger, "error", "create-client", `createClient failed; peer ignored: ${errorText(error)}`);
      return undefined;
    }
    this.contexts.set(key, context);
    if (this.runner.tracing) this.logger.log("info", "new client", { client: context.id });
    return context;
  }

  /**
   * A message from the peer: its silence starts again. The periods in force are passed each time, so that a
   * new configuration's periods apply from the peer's next message (and a heartbeat switched off stops).
   */
  private restartTimers(context: AnyContext<M, Fields, Event, Client>): void {
    (context.expiry ??= new SilenceTimer(false, () => this.expired(context))).start(this.timeoutMs);
    if (!this.handlesHeartbeat || (this.heartbeatMs === 0 && context.heartbeat === undefined)) return;
    (context.heartbeat ??= new SilenceTimer(true, () => {
      if (context.valid) context.queue.push({ event: "heartbeat" });
    })).start(this.heartbeatMs);
  }

  private expired(context: AnyContext<M, Fields, Event, Client>): void {
    if (!context.valid) return;
    // Without an `expired` handler silent peers are reaped, so dead ones cannot pile up.
    if (this.handlesExpired) context.queue.push({ event: "expired" });
    else this.destroy(context, { reason: "expired" });
  }

  /** Queues what a peer sent, unless too much of it already waits for the peer's actions. */
  private deliverFromPeer(context: AnyContext<M, Fields, Event, Client>, pending: Pending<M>): void {
    if (context.queue.length >= this.clientQueueLimit) {
      this.limiter.log(this.logger, "warn", "client-queue-full", `client ${context.id}: ${this.clientQueueLimit} of its messages already wait for its actions; message dropped`, { client: context.id });
      return;
    }
    context.queue.push(pending);
  }

  /**
   * A send ZeroMQ refused at once (the ROUTER is mandatory and never waits): the peer left (EHOSTUNREACH), or
   * its queue is full because it does not read (EAGAIN). Either ends the peer's session; `message` is the one
   * that could not be delivered (every message is queued with it).
   */
  private sendFailed(error: unknown, frames: Buffer[], message: M | undefined): void {
    if (this.closed) return;
    const code = (error as NodeJS.ErrnoException).code;
    const context = this.contexts.get(frames[0].toString("latin1"));
    if ((code === "EHOSTUNREACH" || code === "EAGAIN") && message !== undefined) {
      if (context !== undefined) this.destroy(context, { reason: code === "EAGAIN" ? "not reading" : "disconnected", undelivered: message });
      else this.limiter.log(this.logger, "debug", "stale-send", `message to a client whose session ended dropped (${code})`);
      return;
    }
    this.limiter.log(this.logger, "warn", "send-failed", `send failed: ${errorText(error)}`);
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

  private destroy(context: AnyContext<M, Fields, Event, Client>, ending: SessionEnding<M>): void {
    if (!context.valid) return;
    context.valid = false;
    // An event still waiting on one of its actions runs nothing more once clientTerminated has run.
    context.stopped = true;
    context.expiry?.stop();
    context.heartbeat?.stop();
    context.wakeupTimer.cancel();
    const key = context.routingId.toString("latin1");
    this.contexts.delete(key);
    // Messages the peer sent after the one that ended its context start a new session, as they would
    // have if they had arrived a moment later; those of a peer that left or does not read are dropped.
    const pending = context.queue.drainItems();
    const orphans = ending.reason === "terminated" ? pending.filter((item) => item.message !== undefined || item.error !== undefined) : [];
    this.logEnding(context, ending.reason);
    guarded(this.logger, "clientTerminated failed", () => this.actions.clientTerminated?.(context, ending));
    if (orphans.length === 0 || this.closed) return;
    const fresh = this.create(key, context.routingId);
    if (fresh === undefined) return;
    this.restartTimers(fresh);
    for (const pending of orphans) fresh.queue.push(pending);
  }

  /** Says in plain words why a session ended. */
  private logEnding(context: AnyContext<M, Fields, Event, Client>, reason: SessionEndReason): void {
    const fields = { client: context.id };
    switch (reason) {
      case "terminated":
        this.logger.log(this.runner.tracing ? "info" : "debug", `client ${context.id}: session ended by the model (terminate)`, fields);
        break;
      case "expired":
        this.logger.log("info", `client ${context.id}: session expired: nothing received for ${this.timeoutMs} ms (server/timeout)`, fields);
        break;
      case "disconnected":
        this.logger.log("info", `client ${context.id}: session ended: the client disconnected`, fields);
        break;
      case "not reading":
        this.limiter.log(this.logger, "warn", "not-reading", `client ${context.id}: session ended: it does not read what the server sends (${this.peerSendLimit} messages queued for it); its pending messages are dropped`, fields);
        break;
      case "server closing":
        this.logger.log("debug", `client ${context.id}: session ended: the server is closing`, fields);
        break;
    }
  }

}

/** A timer period from {@link ServerOptions.clientTimers}: a whole number of ms a timer can wait. */
function checkTimerPeriod(what: string, ms: number): number {
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) throw new RangeError(`${what} period must be a whole number of ms from 1 to ${MAX_TIMER_MS}, not ${ms}`);
  return ms;
}

/** `tree` with `values` set in it, in order; `tree` itself when there are none (it may be the caller's). */
function withValues(tree: ZplNode, values: readonly (readonly [string, string])[]): ZplNode {
  if (values.length === 0) return tree;
  const copy = tree.clone();
  for (const [path, value] of values) copy.set(path, value);
  return copy;
}
