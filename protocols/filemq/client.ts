/**
 * The hand-written half of the FileMQ subscriber (models/filemq/fmq_client.xml): the actions of its state
 * machine, and {@link FileMqSubscriber}, the API applications use. It mirrors the paths it subscribes to into
 * an inbox, resumes with RESYNC and the inbox's digests after every reconnect, and tells the application what
 * happened through {@link SubscriberEvent}s, including when it has caught up with the publisher.
 */
import type { CallOptions, ClientOptions, CloseOptions, Logger } from "../../runtime/engine/index.js";
import { createLogger } from "../../runtime/engine/index.js";
import { FmqClient, type FmqClientActions, type FmqClientContext } from "../../generated/filemq/fmq_client.js";
import { saslClientActions, type Credentials } from "../sasl/handshake.js";
import { CreditWindow } from "./flow.js";
import { Inbox } from "./inbox.js";
import { pathProblem, relativeKey } from "./paths.js";
import { Receiver } from "./receiver.js";

/** What a subscriber tells its application. */
export type SubscriberEvent =
  /** A session is open (the server let the client in). */
  | { readonly type: "connected"; readonly endpoint: string }
  /** A chunk of a file was written (the file is not visible yet). */
  | { readonly type: "progress"; readonly filename: string; readonly offset: number }
  /** A file is complete and in place. */
  | { readonly type: "delivered"; readonly filename: string; readonly path: string; readonly size: number }
  | { readonly type: "deleted"; readonly filename: string; readonly path: string }
  /** The server sent a filename the subscriber will not write (logged; nothing was written). */
  | { readonly type: "refused"; readonly filename: string; readonly reason: string }
  /** The inbox could not write (or delete) a file: disk full, say (logged; nothing of it is visible). */
  | { readonly type: "failed"; readonly filename: string; readonly reason: string }
  /** The inbox holds everything the server had for the subscriptions (see {@link FileMqSubscriber.caughtUp}). */
  | { readonly type: "caught-up" }
  /** The session ended; a new one follows after a backoff. */
  | { readonly type: "disconnected"; readonly reason: string }
  /** The connection cannot work as it is (a CURVE handshake refused, say); ZeroMQ goes on trying. */
  | { readonly type: "connection-failed"; readonly reason: string }
  /** The server refused access (or offers no mechanism the client can use): no retry follows. */
  | { readonly type: "denied"; readonly reason: string };

/** Options of a subscriber. */
export interface SubscriberOptions extends ClientOptions {
  /** The inbox directory (created if missing). */
  readonly inbox: string;
  /** Virtual paths to subscribe to (default `/`: everything). */
  readonly paths?: readonly string[];
  /** Credentials for servers that require SASL PLAIN. The password is never logged. */
  readonly login?: string;
  readonly password?: string | Uint8Array;
  /** Ask for the existing files under each path, minus what the inbox has (default true). */
  readonly resync?: boolean;
  /** Period of silence from the server, in ms, before a HUGZ; three mean the server is gone (default 1000). */
  readonly heartbeat?: number;
  /** Backoff before a new connection, in ms: the first wait, doubled up to `max` (default 1000, 30 000). */
  readonly backoff?: { readonly initial?: number; readonly max?: number };
  /** Quiet time in ms (no chunk, no file open, credit outstanding) before checking for caught-up (default 500). */
  readonly quiet?: number;
  /** Flush each file before renaming it into place (default true). */
  readonly fsync?: boolean;
  /** Called with every event, in order. */
  readonly onEvent?: (event: SubscriberEvent) => void;
}

/** What the subscriber's actions keep. */
export interface SubscriberState {
  readonly inbox: Inbox;
  readonly receiver: Receiver;
  readonly credit: CreditWindow;
  /** Subscribed paths, in the order subscribed; replayed in every session. */
  readonly subscriptions: string[];
  /** The number of the session in progress (undefined between sessions), and of the sessions so far. */
  session: number | undefined;
  sessions: number;
  /** Subscriptions of this session whose digests are being computed, in order. */
  warming: string[];
  /** Subscriptions of this session whose digests are known and whose ICANHAZ is due, in order. */
  unsent: string[];
  /** ICANHAZs of this session not answered yet: the server is still queueing their files. */
  unanswered: number;
  /** The session whose digests are being computed, if any; the work is chained behind earlier work. */
  warmingFor: number | undefined;
  warmup: Promise<void>;
  endpoint: string;
  /** Why the endpoint cannot be connected to (not an endpoint ZeroMQ knows), if it cannot. */
  endpointProblem: unknown;
  backoffMs: number;
  retryTimer: NodeJS.Timeout | undefined;
  /** When the last chunk arrived, or the session or a subscription started. */
  lastActivity: number;
  /** When the last NOM went out. */
  lastNom: number;
  /** CHEEZBURGERs received in this session. */
  received: number;
  hugzSent: number;
  hugzAnswered: number;
  /** A caught-up check in flight: the HUGZ answer it waits for and the CHEEZBURGER count when it was sent. */
  probe: { readonly answers: number; readonly received: number } | undefined;
  caughtUp: boolean;
  /**
   * Files of the inbox that no RESYNC cache of the session named and no CHEEZBURGER has named since: the
   * publisher sends every file it has that a cache does not name, so those still here once it has caught up
   * are gone from the publisher. (An ICANHAZ holds at most 255 cache entries, and a C publisher sends no
   * delete for a cached file it lost, so the publisher's deletes alone leave such files behind.)
   */
  unconfirmed: Set<string>;
  /** Files some RESYNC cache of the session named: the publisher may not send them, and they stay. */
  named: Set<string>;
}

/** Settings of the actions, from the options. */
export interface SubscriberSettings {
  readonly heartbeatMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly resync: boolean;
  credentials(): Credentials | undefined;
  emit(event: SubscriberEvent): void;
}

type Ctx = FmqClientContext<SubscriberState>;

/** A subscriber's state before its first session. */
export function subscriberState(inbox: Inbox, logger: Logger, paths: readonly string[], backoffMs: number): SubscriberState {
  return {
    inbox,
    receiver: new Receiver(inbox, logger),
    credit: new CreditWindow(),
    subscriptions: [...paths],
    session: undefined,
    sessions: 0,
    warming: [],
    unsent: [],
    unanswered: 0,
    warmingFor: undefined,
    warmup: Promise.resolve(),
    endpoint: "",
    endpointProblem: undefined,
    backoffMs,
    retryTimer: undefined,
    lastActivity: Date.now(),
    lastNom: 0,
    received: 0,
    hugzSent: 0,
    hugzAnswered: 0,
    probe: undefined,
    caughtUp: false,
    unconfirmed: new Set(),
    named: new Set(),
  };
}

/** The subscriber's actions, working on `state`. */
export function subscriberActions(state: SubscriberState, logger: Logger, settings: SubscriberSettings): FmqClientActions<SubscriberState> {
  const emit = settings.emit;
  const inbox = state.inbox;

  /**
   * Computes the digests of the session's subscriptions waiting for them, one subscription after the other,
   * in the background; raises "digests ready" once none is waiting. Subscriptions made meanwhile join the
   * run. A run of a session that ended stops without a word (the next session starts its own).
   */
  const warmUp = (ctx: Ctx): void => {
    const state = ctx.client;
    const session = state.session;
    if (session === undefined || state.warmingFor === session) return;
    state.warmingFor = session;
    state.warmup = state.warmup.then(async () => {
      try {
        while (state.session === session && state.warming.length > 0) {
          if (settings.resync) await inbox.prepareDigests(state.warming[0]);
          if (state.session !== session) break;
          state.unsent.push(...state.warming.splice(0, 1));
        }
      } catch (error) {
        // The digests known go out; files without one are sent again, which is safe.
        logger.log("warn", `digests of the inbox not computed: ${error instanceof Error ? error.message : String(error)}`);
        if (state.session === session) state.unsent.push(...state.warming.splice(0));
      }
      if (state.warmingFor === session) state.warmingFor = undefined;
      if (state.session === session) ctx.engine.sendEvent("digests_ready");
    });
  };

  /** Caught up: the files the publisher no longer has, which it could not tell us, go (see `unconfirmed`). */
  const removeUnconfirmed = async (ctx: Ctx): Promise<void> => {
    const state = ctx.client;
    const stale = [...state.unconfirmed];
    state.unconfirmed.clear();
    for (const filename of stale) {
      try {
        if (!(await inbox.remove(filename))) continue;
        ctx.log("info", `removed ${filename}: the publisher no longer has it`);
        emit({ type: "deleted", filename, path: inbox.localPath(filename) });
      } catch (error) {
        ctx.log("warn", `cannot remove ${JSON.stringify(filename)}, which the publisher no longer has: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  /** Whether the server has stayed silent too long; if so the session ends (the rest of the event is skipped). */
  const serverGone = (ctx: Ctx): boolean => {
    if (ctx.silentPeriods < 3) return false;
    ctx.raise("server_silent");
    return true;
  };

  const sasl = saslClientActions({
    credentials: settings.credentials,
    noCommonMechanism(offered) {
      const reason = !offered.includes("PLAIN") ? `the server offers no mechanism this client supports (${offered.join(", ") || "none"})`
        : "the server requires a PLAIN login and none was given";
      logger.log("info", reason);
      emit({ type: "denied", reason });
    },
  });

  return {
    createClient: () => state,

    terminated(ctx) {
      clearTimeout(ctx.client.retryTimer);
    },

    connectToServer(ctx) {
      const state = ctx.client;
      state.endpoint = ctx.args.endpoint ?? "";
      try {
        ctx.connect(state.endpoint);
      } catch (error) {
        // Not an endpoint (`bogus://x`): the constructor fails with why, for the caller to say, rather than
        // as an action failure that the engine would log too.
        state.endpointProblem = error;
        ctx.reply("FAILURE", { reason: error instanceof Error ? error.message : String(error) });
        ctx.raise("endpoint_refused");
        return;
      }
      ctx.setExpiry(settings.heartbeatMs);
      ctx.reply("SUCCESS", {});
    },

    ...sasl,

    markConnected(ctx) {
      const state = ctx.client;
      ctx.setConnected(true);
      state.backoffMs = settings.backoffInitialMs;
      state.received = state.hugzSent = state.hugzAnswered = 0;
      state.lastActivity = Date.now();
      state.session = ++state.sessions;
      state.warming = [...state.subscriptions];
      state.unsent = [];
      state.unanswered = 0;
      warmUp(ctx);
      emit({ type: "connected", endpoint: state.endpoint });
    },

    getNextSubscription(ctx) {
      ctx.next(ctx.client.unsent.length > 0 ? "ok" : "finished");
    },

    async formatIcanhaz(ctx) {
      const state = ctx.client;
      const path = state.unsent.shift();
      if (path === undefined) throw new Error("no subscription is due");
      ctx.outgoing.path = path;
      ctx.outgoing.options = settings.resync ? new Map([["RESYNC", "1"]]) : new Map();
      ctx.outgoing.cache = settings.resync ? await inbox.cacheFor(path) : new Map();
      if (settings.resync) noteCache(state, path, ctx.outgoing.cache);
      state.unanswered++;
      state.lastActivity = Date.now();
      state.caughtUp = false;
      state.probe = undefined;
    },

    markSubscribed(ctx) {
      const state = ctx.client;
      state.unanswered = Math.max(0, state.unanswered - 1);
      // The subscription's files may come now: the quiet time starts again.
      state.lastActivity = Date.now();
    },

    refillCredit(ctx) {
      const state = ctx.client;
      const grant = state.credit.refill();
      // Small files use the credit slowly, so a subscriber busy writing many of them may owe no NOM for a
      // long while, and its answer to the server's HUGZ waits behind them: a NOM, of no credit if none is
      // due, goes out at least every heartbeat so that the server does not give the session up meanwhile.
      if (grant === 0 && Date.now() - state.lastNom < settings.heartbeatMs) return;
      state.lastNom = Date.now();
      ctx.outgoing.credit = BigInt(grant);
      ctx.outgoing.sequence = 0n;
      ctx.next("send_credit");
    },

    async processThePatch(ctx) {
      const state = ctx.client;
      const message = ctx.request;
      state.credit.used(message.chunk.length);
      state.received++;
      state.lastActivity = Date.now();
      state.caughtUp = false;
      state.probe = undefined;
      // A server that sends beyond the credit granted breaks the protocol's one memory bound.
      const outcome = state.credit.available < 0 ? { kind: "restart" as const, reason: "the server sent data beyond the credit granted" }
        : await state.receiver.accept(message);
      if ("filename" in outcome) state.unconfirmed.delete(outcome.filename);
      switch (outcome.kind) {
        case "restart":
          ctx.log("warn", `transfer error: ${outcome.reason}; resynchronising`);
          ctx.raise("restart");
          break;
        case "progress":
          emit({ type: "progress", filename: outcome.filename, offset: outcome.offset });
          break;
        case "delivered":
          emit({ type: "delivered", filename: outcome.filename, path: outcome.path, size: outcome.size });
          break;
        case "deleted":
          emit({ type: "deleted", filename: outcome.filename, path: outcome.path });
          break;
        case "refused":
        case "failed":
          emit({ type: outcome.kind, filename: outcome.filename, reason: outcome.reason });
          break;
        case "dropped":
          break;
      }
    },

    storeSubscription(ctx) {
      const path = ctx.args.path ?? "";
      const problem = pathProblem(path, "subscription");
      const state = ctx.client;
      if (problem !== undefined) {
        ctx.reply("FAILURE", { reason: `cannot subscribe to ${JSON.stringify(path)}: it ${problem}` });
        ctx.raise("subscription_refused");
        return;
      }
      ctx.reply("SUCCESS", {});
      if (state.subscriptions.includes(path)) {
        ctx.raise("subscription_refused");
        return;
      }
      state.subscriptions.push(path);
      state.lastActivity = Date.now();
      state.caughtUp = false;
      state.probe = undefined;
      if (state.session === undefined) return;
      state.warming.push(path);
      warmUp(ctx);
    },

    prepareEmptyCredit(ctx) {
      ctx.outgoing.credit = 0n;
      ctx.outgoing.sequence = 0n;
    },

    async checkCaughtUp(ctx) {
      const state = ctx.client;
      state.hugzAnswered++;
      const probe = state.probe;
      if (probe === undefined || state.hugzAnswered < probe.answers) return;
      state.probe = undefined;
      // Every message that could make the server send (NOM, ICANHAZ) went out before that HUGZ, and the
      // server answers in order: nothing came in between, so it has nothing more queued for us.
      if (state.received !== probe.received || !quietNow(state)) return;
      await removeUnconfirmed(ctx);
      state.caughtUp = true;
      emit({ type: "caught-up" });
    },

    checkTheServer(ctx) {
      serverGone(ctx);
    },

    pingTheServer(ctx) {
      if (!serverGone(ctx)) ctx.client.hugzSent++;
    },

    startCaughtUpProbe(ctx) {
      const state = ctx.client;
      state.hugzSent++;
      state.probe = { answers: state.hugzSent, received: state.received };
    },

    reconnectToServer(ctx) {
      ctx.reconnect();
      ctx.setExpiry(settings.heartbeatMs);
    },

    async dropTheSession(ctx) {
      const state = ctx.client;
      ctx.setConnected(false);
      // What was queued for the session (HUGZ to a silent server) is stale: the next session has a new DEALER.
      ctx.disconnect();
      state.session = undefined;
      state.warming = [];
      state.unsent = [];
      state.unanswered = 0;
      state.credit.reset();
      state.probe = undefined;
      state.caughtUp = false;
      state.unconfirmed.clear();
      state.named.clear();
      await state.receiver.reset();
    },

    scheduleReconnect(ctx) {
      const state = ctx.client;
      ctx.setExpiry(0);
      const wait = state.backoffMs;
      state.backoffMs = Math.min(state.backoffMs * 2, settings.backoffMaxMs);
      ctx.log("info", `reconnecting in ${wait} ms`);
      clearTimeout(state.retryTimer);
      state.retryTimer = setTimeout(() => ctx.engine.sendEvent("retry"), wait);
    },

    reportServerSilent(ctx) {
      ctx.log("warn", "server silent");
      emit({ type: "disconnected", reason: "server silent" });
    },

    reportAccessDenied(ctx) {
      const reason = ctx.request.reason || "access denied";
      ctx.log("info", `server denied us access: ${reason}`);
      ctx.setConnected(false);
      emit({ type: "denied", reason });
    },

    reportRefusedCommand(ctx) {
      ctx.log("warn", `server refused a command: ${ctx.request.reason}`);
      emit({ type: "disconnected", reason: `server refused a command: ${ctx.request.reason}` });
    },

    reportTransferError() {
      emit({ type: "disconnected", reason: "transfer error" });
    },

    async cleanUp(ctx) {
      clearTimeout(ctx.client.retryTimer);
      await ctx.client.receiver.reset();
    },

    hangUp(ctx) {
      ctx.disconnect();
    },

    signalSuccess(ctx) {
      ctx.reply("SUCCESS", {});
    },

    logProtocolError(ctx) {
      ctx.log("warn", `protocol error: ${ctx.event} in state ${ctx.state}`);
      emit({ type: "disconnected", reason: `protocol error: ${ctx.event} in state ${ctx.state}` });
    },
  };
}

/**
 * A FileMQ subscriber: one connection to one publisher, mirroring its subscriptions into an inbox. Create
 * it with {@link subscribe}; {@link FileMqSubscriber.close} ends the session and leaves no temporary file.
 */
export class FileMqSubscriber {
  private readonly listeners = new Set<(event: SubscriberEvent) => void>();
  /** Waits of {@link FileMqSubscriber.next} still open: they end with an error when the subscriber closes. */
  private readonly waits = new Set<(error: Error) => void>();
  private clientRef: FmqClient<SubscriberState> | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  /** @internal */
  constructor(
    /** What the subscriber's actions keep: its inbox, subscriptions, credit and session counters. */
    readonly state: SubscriberState,
    private readonly password: Uint8Array | undefined,
  ) {}

  /** The inbox the subscriber writes. */
  get inbox(): Inbox {
    return this.state.inbox;
  }

  /** The generated client underneath (its state machine, `connected`, `state`). */
  get client(): FmqClient<SubscriberState> {
    if (this.clientRef === undefined) throw new Error("subscriber not started");
    return this.clientRef;
  }

  /** Listens to events; returns a function that stops listening. */
  on(listener: (event: SubscriberEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a subscription (a virtual path or prefix); sent at once when connected, and in every session. */
  subscribe(path: string, options: CallOptions = {}): Promise<void> {
    return this.client.subscribe(path, options);
  }

  /**
   * Resolves at the next "caught-up": the inbox holds everything the server had for the subscriptions. The
   * signal needs no message beyond FILEMQ/1's, so it works with any publisher: after a quiet period with credit
   * outstanding and no file open, the subscriber sends HUGZ; the server answers messages in order, so a HUGZ-OK
   * with no CHEEZBURGER before it means the server had nothing more queued. Rejects on denial.
   */
  caughtUp(): Promise<void> {
    return this.next((event) => event.type === "caught-up" ? true : event.type === "denied" ? new Error(event.reason) : undefined);
  }

  /**
   * Resolves on the first event for which `settle` returns true; rejects if it returns an error, or when the
   * subscriber closes first.
   */
  next(settle: (event: SubscriberEvent) => boolean | Error | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const end = (error?: Error): void => {
        stop();
        this.waits.delete(end);
        if (error === undefined) resolve();
        else reject(error);
      };
      const stop = this.on((event) => {
        const verdict = settle(event);
        if (verdict === true) end();
        else if (verdict instanceof Error) end(verdict);
      });
      if (this.closing !== undefined) end(new Error("the subscriber is closed"));
      else this.waits.add(end);
    });
  }

  /**
   * Says goodbye to the server if a session is open, gives up a file still in transfer and saves the digest
   * cache. Without a session (not connected yet, or waiting to reconnect) nothing is owed and nothing waits.
   * What the subscriber still has queued for the server is protocol housekeeping, not data: a goodbye that
   * cannot go out within the timeout is dropped quietly unless `unsent: "warn"` says otherwise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.quietTimer);
      for (const end of [...this.waits]) end(new Error("the subscriber is closed"));
      try {
        await this.clientRef?.close({ unsent: "drop", ...options });
      } finally {
        await this.state.receiver.reset();
        await this.inbox.close();
        this.password?.fill(0);
      }
    })();
    return this.closing;
  }

  /** @internal */
  emit(event: SubscriberEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  /** @internal */
  start(client: FmqClient<SubscriberState>, quietMs: number): void {
    this.clientRef = client;
    const state = this.state;
    this.quietTimer = setInterval(() => {
      if (client.state !== "ready" || state.caughtUp || state.probe !== undefined || !quietNow(state)) return;
      if (Date.now() - state.lastActivity < quietMs) return;
      client.sendEvent("quiet");
    }, Math.max(10, Math.floor(quietMs / 4)));
  }
}

/**
 * Records which files of the inbox under `subscription` its ICANHAZ cache names (the publisher may keep
 * them from us) and which it does not (the publisher sends them, unless it no longer has them). A file
 * named by any cache of the session stays named: subscriptions may overlap.
 */
function noteCache(state: SubscriberState, subscription: string, cache: ReadonlyMap<string, string>): void {
  for (const filename of state.inbox.filesUnder(subscription)) {
    if (cache.has(relativeKey(subscription, filename))) {
      state.named.add(filename);
      state.unconfirmed.delete(filename);
    } else if (!state.named.has(filename)) {
      state.unconfirmed.add(filename);
    }
  }
}

/**
 * Whether nothing is under way that the server waits for or could still be sending: no file half received,
 * credit outstanding (so the server is free to send), and every subscription sent and answered (a server
 * answers ICANHAZ once the subscription's files are queued).
 */
function quietNow(state: SubscriberState): boolean {
  return !state.receiver.busy && state.credit.available > 0 && state.warming.length === 0 && state.unsent.length === 0 && state.unanswered === 0;
}

/**
 * Opens the inbox and connects to a publisher; resolves once the first OHAI is on its way. Rejects with the
 * engine's `SocketError` when the endpoint is not one ZeroMQ can connect to.
 */
export async function subscribe(endpoint: string, options: SubscriberOptions): Promise<FileMqSubscriber> {
  const logger = options.logger ?? createLogger({ name: "filemq subscriber" });
  const paths = options.paths ?? ["/"];
  for (const path of paths) {
    const problem = pathProblem(path, "subscription");
    if (problem !== undefined) throw new RangeError(`cannot subscribe to ${JSON.stringify(path)}: it ${problem}`);
  }
  const inbox = await Inbox.open(options.inbox, { logger, ...(options.fsync !== undefined ? { fsync: options.fsync } : {}) });
  const password = typeof options.password === "string" ? Buffer.from(options.password, "utf8") : options.password;
  const backoffInitialMs = options.backoff?.initial ?? 1000;
  const state = subscriberState(inbox, logger, [...new Set(paths)], backoffInitialMs);
  const subscriber = new FileMqSubscriber(state, password);
  if (options.onEvent) subscriber.on(options.onEvent);
  const login = options.login;
  const settings: SubscriberSettings = {
    heartbeatMs: options.heartbeat ?? 1000,
    backoffInitialMs,
    backoffMaxMs: options.backoff?.max ?? 30_000,
    resync: options.resync ?? true,
    credentials: () => (login !== undefined && password !== undefined ? { login, password } : undefined),
    emit: (event) => subscriber.emit(event),
  };
  // The same failure again and again (ZeroMQ retries the handshake) is reported once per session.
  let lastFailure: string | undefined;
  subscriber.on((event) => {
    if (event.type === "connected") lastFailure = undefined;
  });
  const onConnectionFailed = (error: unknown): void => {
    options.onConnectionFailed?.(error);
    const reason = error instanceof Error ? error.message : String(error);
    if (reason === lastFailure) return;
    lastFailure = reason;
    subscriber.emit({ type: "connection-failed", reason });
  };
  try {
    const client = await FmqClient.create(endpoint, subscriberActions(state, logger, settings), { ...options, logger, onConnectionFailed });
    subscriber.start(client, options.quiet ?? 500);
  } catch (error) {
    await inbox.close();
    throw state.endpointProblem ?? error;
  }
  return subscriber;
}
