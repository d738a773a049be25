/**
 * The hand-written half of the FileMQ publisher (models/filemq/fmq_server.xml): the actions of its state
 * machine, and {@link FileMqPublisher}, which owns the generated server, the catalog of published files and
 * the watchers and periodic rescan that keep it current. Each subscriber gets exactly the files whose
 * virtual path starts with one of its subscriptions, from any mount, within the credit it granted.
 */
import { watch, type FSWatcher } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { createLogger, loadConfig, type CallOptions, type ConfigSource, type Logger, type ServerOptions, type ServerSecurity } from "../../runtime/engine/index.js";
import type { ZplNode } from "../../runtime/zpl/tree.js";
import { FmqServer, type FmqServerActions, type FmqServerContext } from "../../generated/filemq/fmq_server.js";
import type { FmqMsg, Icanhaz } from "../../generated/filemq/fmq_msg.js";
import { saslPeer, saslServerActions, type Authenticator, type SaslPeer } from "../sasl/handshake.js";
import { PlainAuthenticator } from "../sasl/index.js";
import { Catalog, type Change, type Mount, type Patch, type ScanResult } from "./catalog.js";
import { readCertificate } from "./curve.js";
import { sameDigest } from "./digests.js";
import { MAX_OUTSTANDING_CREDIT } from "./flow.js";
import { Outbox, type DispatchStep } from "./outbox.js";
import { cacheKeyPath, pathProblem } from "./paths.js";
import { ConfigurationError, readPublisherSettings, type PublisherSettings } from "./server-config.js";

/** What the publisher keeps per subscriber. */
export interface PublisherSession {
  readonly outbox: Outbox;
  sasl: SaslPeer;
  /** Dispatch steps taken in the current event (bounded, §10.2). */
  steps: number;
  /** RESYNCs of the session's subscriptions, one after the other, so that their ICANHAZ-OKs keep their order. */
  resyncing: Promise<void>;
  /** Counts the session's restarts (OHAI): a RESYNC of an earlier session finds it changed and queues nothing. */
  generation: number;
  /**
   * Whether the peer said OHAI: the engine opens a session for any message from a peer it has none for,
   * and a stray one (a goodbye after the session expired) is no subscriber joining and leaving.
   */
  joined: boolean;
}

type Ctx = FmqServerContext<PublisherSession, FmqMsg | undefined>;

/**
 * Dispatch steps one event may take before it yields to the client's queue (and so to its other messages)
 * by raising `dispatch` again: bounds the work of one event however much is queued and credited.
 */
export const MAX_STEPS_PER_EVENT = 256;

/**
 * Messages that may wait for one subscriber before its session ends as not reading (the engine's
 * `sendHighWaterMark`). Credit bounds the file data waiting for a peer (`MAX_OUTSTANDING_CREDIT`); this
 * bounds the rest, which takes no credit: deletes, the ends of files, answers to HUGZ. It is far above what
 * a subscriber that reads ever has waiting, and a subscriber that falls this far behind loses only its
 * session: it reconnects and resyncs, while a peer that never reads cannot grow the publisher without end.
 */
export const PEER_QUEUE_LIMIT = 100_000;

/** What a publisher tells its application; `client` is the subscriber's number in this publisher. */
export type PublisherEvent =
  /** A subscriber said OHAI: a session began. */
  | { readonly type: "joined"; readonly client: number }
  /** The session of a subscriber that joined ended (goodbye, expiry, refusal, disconnection). */
  | { readonly type: "left"; readonly client: number }
  | { readonly type: "subscribed"; readonly client: number; readonly path: string }
  /** A chunk went out; `offset` is where the file's data sent so far ends, `size` its size when opened. */
  | { readonly type: "sending"; readonly client: number; readonly filename: string; readonly offset: number; readonly size: number }
  | { readonly type: "sent"; readonly client: number; readonly filename: string; readonly size: number }
  | { readonly type: "deleted"; readonly client: number; readonly filename: string }
  /** A rescan found changes. */
  | { readonly type: "changed"; readonly creates: number; readonly deletes: number };

/** Options of a publisher. */
export interface PublisherOptions extends Omit<ServerOptions, "clientTimers"> {
  /** Directories to publish besides the configuration's `publish` sections. */
  readonly mounts?: readonly Mount[];
  /**
   * Verifier of SASL PLAIN responses when `security/plain = 1`; by default {@link startPublisher} builds one
   * from the configuration's accounts (`security/plain/account`, `security/plain/file`).
   */
  readonly authenticator?: Authenticator;
  /** Watch the mounts for changes, besides the periodic rescan (default true). */
  readonly watch?: boolean;
  /** Called with every event, in order. */
  readonly onEvent?: (event: PublisherEvent) => void;
}

/** What the actions need from the publisher around them. */
interface PublisherRuntime {
  readonly catalog: Catalog;
  settings(): PublisherSettings;
  authenticator(): Authenticator | undefined;
  readonly sessions: Set<Ctx>;
  readonly logger: Logger;
  sendEvent(ctx: Ctx, event: "dispatch" | "friend" | "foe" | "subscription_queued"): void;
  emit(event: PublisherEvent): void;
}

/** The publisher's actions. */
export function publisherActions(runtime: PublisherRuntime): FmqServerActions<PublisherSession> {
  const sasl = saslServerActions<Ctx>({
    authenticator: runtime.authenticator,
    peer: (ctx) => ctx.client.sasl,
    verdict: (ctx, event) => runtime.sendEvent(ctx, event),
  });

  return {
    createClient(ctx) {
      runtime.sessions.add(ctx);
      return { outbox: new Outbox(), sasl: saslPeer(), steps: 0, resyncing: Promise.resolve(), generation: 0, joined: false };
    },

    clientTerminated(ctx) {
      runtime.sessions.delete(ctx);
      if (ctx.client.joined) runtime.emit({ type: "left", client: ctx.id });
      void ctx.client.outbox.close();
    },

    tryAnonymousAccess(ctx) {
      if (!ctx.client.joined) {
        ctx.client.joined = true;
        runtime.emit({ type: "joined", client: ctx.id });
      }
      const settings = runtime.settings();
      ctx.next(settings.anonymous ? "friend" : settings.plain ? "maybe" : "foe");
    },

    ...sasl,

    storeSubscription(ctx) {
      const request = ctx.request;
      const problem = pathProblem(request.path, "subscription");
      if (problem !== undefined) {
        ctx.log("warn", `refused subscription ${JSON.stringify(request.path)}: it ${problem}`);
        ctx.raise("refused");
        return;
      }
      const session = ctx.client;
      session.outbox.subscribe(request.path);
      runtime.emit({ type: "subscribed", client: ctx.id, path: request.path });
      // A subscriber gives up a publisher silent for a few heartbeats: the digests are compared while the
      // session goes on, and "subscription queued" answers once the files are queued.
      const generation = session.generation;
      session.resyncing = session.resyncing.then(async () => {
        let patches: Patch[] = [];
        try {
          if (request.options.get("RESYNC") === "1") patches = await resyncPatches(runtime.catalog, request);
        } catch (error) {
          ctx.log("warn", `RESYNC of ${JSON.stringify(request.path)} failed; the subscription stands: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (session.generation !== generation) return;
        for (const patch of patches) session.outbox.queuePatch(patch);
        runtime.sendEvent(ctx, "subscription_queued");
      });
    },

    checkForPatches(ctx) {
      if (!ctx.client.outbox.idle) runtime.sendEvent(ctx, "dispatch");
    },

    storeCredit(ctx) {
      if (!ctx.client.outbox.addCredit(ctx.request.credit)) {
        ctx.reply.reason = `credit outstanding beyond ${MAX_OUTSTANDING_CREDIT} octets`;
        ctx.log("warn", `refused NOM: ${ctx.reply.reason}`);
        ctx.raise("protocol_error");
      }
    },

    async getNextPatch(ctx) {
      const session = ctx.client;
      if (ctx.event === "nom" || ctx.event === "dispatch") session.steps = 0;
      if (++session.steps > MAX_STEPS_PER_EVENT) {
        // Go on after the sockets and timers had their turn, so this client's messages and every other
        // client are served in between.
        setImmediate(() => runtime.sendEvent(ctx, "dispatch"));
        ctx.next("finished");
        return;
      }
      const step = await session.outbox.step();
      if ("fields" in step) {
        Object.assign(ctx.reply, step.fields);
        runtime.emit(progressEvent(ctx.id, step));
      }
      ctx.next(step.event);
    },

    async dropTheSession(ctx) {
      ctx.client.generation++;
      ctx.client.sasl = saslPeer();
      await ctx.client.outbox.reset();
    },

    refuseTheCommand(ctx) {
      ctx.reply.reason = `${ctx.request?.message ?? ctx.event} is not valid in state ${ctx.state}`;
      ctx.log("info", `refused ${ctx.event} in state ${ctx.state}`);
    },
  };
}

/** What a CHEEZBURGER about to go out means to the application. */
function progressEvent(client: number, step: Extract<DispatchStep, { fields: unknown }>): PublisherEvent {
  const { filename, chunk, offset } = step.fields;
  if (step.event === "send_delete") return { type: "deleted", client, filename };
  if (chunk.length === 0) return { type: "sent", client, filename, size: Number(offset) };
  return { type: "sending", client, filename, offset: Number(offset) + chunk.length, size: step.size };
}

/**
 * RESYNC (§11.4): the patches of every announced file under the path except those whose digest the
 * subscriber's cache already has. Cache keys are resolved against the path with exactly one `/` (so root
 * subscriptions work, unlike C); keys naming files the publisher does not have get a delete, so that the
 * subscriber's mirror loses what was deleted while it was away (a file still being written is there: it gets
 * no delete, and its create once it is stable).
 */
async function resyncPatches(catalog: Catalog, request: Icanhaz): Promise<Patch[]> {
  const cached = new Map<string, string>();
  for (const [key, digest] of request.cache) {
    const vpath = cacheKeyPath(request.path, key);
    if (vpath !== undefined) cached.set(vpath, digest);
  }
  const files = [...catalog.filesUnder(request.path)].sort((a, b) => (a.vpath < b.vpath ? -1 : a.vpath > b.vpath ? 1 : 0));
  const patches: Patch[] = [];
  for (const file of files) {
    const digest = cached.get(file.vpath);
    if (digest !== undefined && sameDigest(await catalog.digest(file).catch(() => ""), digest)) continue;
    patches.push({ op: "create", vpath: file.vpath, file });
  }
  for (const vpath of cached.keys()) if (!catalog.has(vpath)) patches.push({ op: "delete", vpath });
  return patches;
}

/** How soon after a change the watchers rescan, so that a burst of changes costs one scan. */
const WATCH_SETTLE_MS = 25;

/**
 * A FileMQ publisher: the generated server with the publisher's actions, the catalog of its mounts, a
 * rescan every `server/monitor` seconds and, between them, file watching. Start it with
 * {@link startPublisher}; {@link FileMqPublisher.close} stops everything.
 */
export class FileMqPublisher {
  readonly server: FmqServer<PublisherSession>;
  readonly catalog: Catalog;
  readonly logger: Logger;
  private readonly sessions = new Set<Ctx>();
  private settingsInForce: PublisherSettings;
  private readonly watchers: FSWatcher[] = [];
  /** Catalog work (scans, updates, rechecks) runs one at a time, in this chain. */
  private catalogWork: Promise<void> = Promise.resolve();
  private fullScanQueued = false;
  /** Places file watching reported, not looked at yet. */
  private readonly changes = new Map<string, Change>();
  private settleTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private stableAt: number | undefined;
  private stopMonitor: (() => void) | undefined;
  private readonly cleanups: (() => void)[] = [];
  private closed = false;

  /** @internal Use {@link startPublisher}. */
  constructor(config: ZplNode, private readonly options: PublisherOptions) {
    this.logger = options.logger ?? createLogger({ name: "filemq publisher" });
    this.settingsInForce = readPublisherSettings(config);
    this.catalog = new Catalog(this.settingsInForce.stableAgeMs, (message) => this.logger.log("warn", message));
    const authenticator = options.authenticator;
    const actions = publisherActions({
      catalog: this.catalog,
      settings: () => this.settingsInForce,
      authenticator: () => authenticator,
      sessions: this.sessions,
      logger: this.logger,
      sendEvent: (ctx, event) => this.server.sendEvent(ctx, event),
      emit: (event) => options.onEvent?.(event),
    });
    this.server = new FmqServer({
      ...actions,
      serverConfigured: (tree) => {
        const settings = readPublisherSettings(tree);
        if (settings.plain && authenticator === undefined) throw new ConfigurationError("security/plain = 1 needs a PLAIN authenticator");
        for (const echo of settings.echoes) this.logger.log("info", echo);
        this.settingsInForce = settings;
        for (const mount of settings.mounts) this.publish(mount.location, mount.alias);
      },
    }, {
      sendHighWaterMark: PEER_QUEUE_LIMIT,
      ...options,
      config,
      logger: this.logger,
      clientTimers: (tree) => {
        const { heartbeatMs } = readPublisherSettings(tree);
        return { heartbeat: heartbeatMs, expiry: 3 * heartbeatMs };
      },
    });
  }

  /** The settings in force. */
  get settings(): PublisherSettings {
    return this.settingsInForce;
  }

  /** Subscribers connected (in any state). */
  get clientCount(): number {
    return this.server.clientCount;
  }

  /** Publishes a directory under a virtual path (starting with `/`); its files go out after the next scan. */
  publish(location: string, alias: string): void {
    if (!alias.startsWith("/")) throw new ConfigurationError(`alias ${JSON.stringify(alias)} must start with /`);
    if (this.catalog.mounts.some((mount) => mount.alias === alias && mount.location === resolve(location))) return;
    this.catalog.addMount(location, alias);
    const mount = this.catalog.mounts[this.catalog.mounts.length - 1];
    if (this.options.watch !== false && !this.closed) this.watchMount(mount);
    this.requestScan();
  }

  /** Binds an endpoint (`tcp://*:5670`, `tcp://127.0.0.1:*`); returns the endpoint bound. */
  bind(endpoint: string, options: CallOptions = {}): Promise<string> {
    if (this.settingsInForce.plain && this.options.security === undefined && endpoint.startsWith("tcp://")) {
      this.logger.log("warn", `SASL PLAIN passwords travel in clear on ${endpoint}: add CURVE (security/curve), or serve logins on ipc:// or a trusted network`);
    }
    return this.server.bind(endpoint, options);
  }

  /** Rescans every mount (after catalog work already queued; requests made meanwhile share it); resolves when done. */
  rescan(): Promise<void> {
    if (this.fullScanQueued) return this.catalogWork;
    this.fullScanQueued = true;
    return this.queueCatalogWork(() => {
      this.fullScanQueued = false;
      return this.catalog.scan();
    });
  }

  /**
   * Looks at one file soon, as file watching would: for an application that writes into a published
   * directory and knows what it changed (a relay's subscriber), so the change goes out without a rescan.
   */
  fileChanged(path: string): void {
    const absolute = resolve(path);
    const mount = this.catalog.mounts.find((candidate) => absolute.startsWith(candidate.location + sep));
    if (mount !== undefined) this.changed(mount, relative(mount.location, absolute));
  }

  /** @internal Runs `cleanup` when the publisher closes (an authenticator it owns, say). */
  onClose(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** Stops serving: watchers, timers, every session, the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.stopMonitor?.();
    clearTimeout(this.settleTimer);
    clearTimeout(this.stableTimer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    await this.catalogWork;
    await this.server.close();
  }

  /** @internal Starts the server (applying the configuration), scans, and binds the configured endpoints. */
  async start(options: CallOptions = {}): Promise<void> {
    await this.server.start(options);
    for (const mount of this.options.mounts ?? []) this.publish(mount.location, mount.alias);
    await this.rescan();
    this.stopMonitor = this.server.monitor(this.settingsInForce.monitorMs, () => this.requestScan());
    for (const endpoint of this.settingsInForce.endpoints) await this.bind(endpoint, options);
  }

  private requestScan(): void {
    if (!this.closed) void this.rescan();
  }

  /** Runs catalog work after what is queued, then sends out the patches it found. */
  private queueCatalogWork(work: () => Promise<ScanResult>): Promise<void> {
    this.catalogWork = this.catalogWork.then(async () => {
      if (this.closed) return;
      try {
        this.publishPatches(await work());
      } catch (error) {
        this.logger.log("error", `scan failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    return this.catalogWork;
  }

  private publishPatches({ patches, nextStableAt }: ScanResult): void {
    if (this.closed) return;
    if (patches.length > 0) {
      this.options.onEvent?.({ type: "changed", creates: patches.filter((patch) => patch.op === "create").length, deletes: patches.filter((patch) => patch.op === "delete").length });
      this.distribute(patches);
    }
    // One timer, for the earliest file to become stable; the recheck then finds the next one.
    if (nextStableAt === undefined || (this.stableAt !== undefined && this.stableAt <= nextStableAt)) return;
    clearTimeout(this.stableTimer);
    this.stableAt = nextStableAt;
    this.stableTimer = setTimeout(() => {
      this.stableAt = undefined;
      void this.queueCatalogWork(() => this.catalog.recheck());
    }, Math.max(0, nextStableAt - Date.now()) + 5);
  }

  /** Queues patches for every subscriber that wants them and has it dispatch them. */
  private distribute(patches: readonly Patch[]): void {
    for (const ctx of this.sessions) {
      const outbox = ctx.client.outbox;
      let queued = false;
      for (const patch of patches) {
        if (!outbox.wants(patch.vpath)) continue;
        outbox.queuePatch(patch);
        queued = true;
      }
      if (queued) this.server.sendEvent(ctx, "dispatch");
    }
  }

  private watchMount(mount: Mount): void {
    try {
      const watcher = watch(mount.location, { recursive: true, persistent: false }, (_event, filename) => this.changed(mount, filename));
      watcher.on("error", (error) => this.logger.log("warn", `watching ${mount.location} failed (${error.message}); the periodic rescan goes on`));
      this.watchers.push(watcher);
    } catch (error) {
      this.logger.log("warn", `cannot watch ${mount.location} (${error instanceof Error ? error.message : String(error)}); relying on the periodic rescan`);
    }
  }

  /** File watching saw a change: look at that place soon (a burst of changes costs one look). */
  private changed(mount: Mount, filename: string | Buffer | null): void {
    const relative = filename === null ? "" : filename.toString();
    this.changes.set(`${mount.location}\u0000${relative}`, { mount, relative });
    if (this.settleTimer !== undefined || this.closed) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      const changes = [...this.changes.values()];
      this.changes.clear();
      void this.queueCatalogWork(() => this.catalog.update(changes));
    }, WATCH_SETTLE_MS);
  }
}

/** CURVE for the server's socket, from the certificates the configuration names (relative to `baseDir`). */
async function curveSecurity(settings: PublisherSettings, baseDir: string | undefined, logger: Logger | undefined): Promise<ServerSecurity | undefined> {
  if (settings.curve === undefined) return undefined;
  const at = (file: string): string => resolve(baseDir ?? ".", file);
  const warn = (message: string): void => logger?.log("warn", message);
  const own = await readCertificate(at(settings.curve.certificate), { secret: true, warn });
  const clients = await Promise.all(settings.curve.clients.map((file) => readCertificate(at(file), { secret: false })));
  return {
    mechanism: "curve", publicKey: own.publicKey, secretKey: own.secretKey ?? "",
    ...(clients.length > 0 ? { allow: clients.map((client) => client.publicKey) } : {}),
  };
}

/**
 * Starts a publisher: applies its configuration (a ZPL tree, file or pairs in the Guide's form), scans its
 * mounts and binds the configured endpoints. Configuration mistakes reject with {@link ConfigurationError}.
 */
export async function startPublisher(options: PublisherOptions & { readonly config?: ConfigSource } = {}, callOptions: CallOptions = {}): Promise<FileMqPublisher> {
  const config = await loadConfig(options.config);
  let authenticator = options.authenticator;
  let ownAuthenticator: PlainAuthenticator | undefined;
  if (authenticator === undefined && readPublisherSettings(config).plain) {
    try {
      authenticator = ownAuthenticator = await PlainAuthenticator.fromConfig(config, {
        ...(options.logger ? { logger: options.logger } : {}),
        ...(typeof options.config === "string" ? { baseDir: dirname(resolve(options.config)) } : {}),
      });
    } catch (error) {
      throw new ConfigurationError(`security/plain: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const security = options.security ?? (await curveSecurity(readPublisherSettings(config), typeof options.config === "string" ? dirname(resolve(options.config)) : undefined, options.logger));
  const publisher = new FileMqPublisher(config, { ...options, ...(authenticator ? { authenticator } : {}), ...(security ? { security } : {}) });
  if (ownAuthenticator !== undefined) publisher.onClose(() => ownAuthenticator?.close());
  try {
    await publisher.start(callOptions);
  } catch (error) {
    await publisher.close();
    throw error;
  }
  return publisher;
}
