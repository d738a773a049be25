/**
 * The broker-wide half of the Majordomo broker: services with their request queues and idle workers, and
 * the rules that pair them (RFC 7 as our broker applies it). Each peer's own protocol state lives in its
 * state machine (models/majordomo/mdp01_broker.xml); the dispatcher tells a worker's machine what to do by
 * raising an event on it (`dispatch`, `send_heartbeat`, `worker_expired`), and the actions tell the
 * dispatcher what the peers did.
 *
 * Rules kept here: requests queue per service and go out oldest first to the worker idle longest (B4, B16);
 * queued requests expire (B5); a request held by a worker that is deleted goes back to the head of its
 * queue a configurable number of times, and is never dropped without a warning (B12); idle workers
 * heartbeat and are purged when silent, all of them, at every tick (B13–B15), and so are busy workers that
 * have shown they heartbeat while busy (others get `busy_timeout`); empty services expire (B17);
 * queues are bounded (B18); MMI answers from live workers only (RFC 8).
 */
import type { LogFields, LogLevel } from "../../runtime/engine/log.js";
import { RateLimiter } from "../../runtime/engine/log.js";
import { DEFAULT_BROKER_SETTINGS, type BrokerSettings } from "./settings.js";

/** Events the dispatcher raises on a worker's machine. */
export type WorkerEvent = "dispatch" | "send_heartbeat" | "worker_expired";

/** A client's request as the broker holds it. */
export interface PendingRequest {
  /** The client's routing id: where the reply goes. */
  readonly client: Buffer;
  readonly service: string;
  readonly body: Uint8Array[];
  /** When it (last) entered its queue: expiry counts from here. */
  enqueuedAt: number;
  /** How many times it was sent to a worker. */
  deliveries: number;
}

/** A registered worker. */
export interface WorkerEntry {
  readonly routingId: Buffer;
  readonly service: Service;
  /** Raises an event on the worker's machine. */
  readonly raise: (event: WorkerEvent) => void;
  /** `busy` from the moment a request is reserved for it; `gone` once deleted. */
  state: "idle" | "busy" | "gone";
  /** When the broker last heard from it. */
  lastSeen: number;
  /** The request it holds (or is about to be sent). */
  inFlight: PendingRequest | undefined;
  /** Whether `inFlight` was sent to it yet. */
  delivered: boolean;
  /** HEARTBEATs received since it was given its request. */
  beatsThisRequest: number;
  /**
   * It heartbeats while it works, as our workers do and the Guide's cannot: its silence then means the same
   * busy or idle, and the short liveness window applies instead of `busy_timeout`. It takes a second
   * HEARTBEAT within one request to show it: the first may have been sent, by a worker that heartbeats only
   * while it waits, just before the request reached it.
   */
  beatsWhileBusy: boolean;
}

/** A service: its queue and its workers. */
export interface Service {
  readonly name: string;
  readonly queue: PendingRequest[];
  readonly workers: Set<WorkerEntry>;
  /** Idle workers in the order they became idle: the first has waited longest. */
  readonly idle: Set<WorkerEntry>;
  /** When it last had neither workers nor requests. */
  emptySince: number;
}

/** Where the dispatcher writes what it does. */
export type DispatcherLog = (level: LogLevel, message: string, fields?: LogFields) => void;

/** What a service looks like from outside (tests, tools). */
export interface ServiceSnapshot {
  readonly name: string;
  readonly queued: number;
  readonly workers: number;
  readonly idle: number;
}

/** MMI answers (RFC 8). */
const MMI_FOUND = "200";
const MMI_NOT_FOUND = "404";
const MMI_NOT_IMPLEMENTED = "501";

/** The routing id as logs show it. */
export function peerName(routingId: Buffer): string {
  return routingId.toString("hex");
}

/** Broker-wide state and rules; see the module comment. */
export class Dispatcher {
  settings: BrokerSettings = DEFAULT_BROKER_SETTINGS;
  private readonly services = new Map<string, Service>();
  private readonly workers = new Set<WorkerEntry>();
  private readonly limiter = new RateLimiter();
  private closed = false;

  constructor(private readonly log: DispatcherLog, private readonly now: () => number = Date.now) {}

  /** Takes new settings; they apply from the next request, dispatch and tick. */
  configure(settings: BrokerSettings): void {
    this.settings = settings;
  }

  /** B4, B18: queues a client's request for a (non-MMI) service and dispatches. */
  request(client: Buffer, service: string, body: Uint8Array[]): void {
    const entry = this.service(service);
    if (entry.queue.length >= this.settings.maxQueue) {
      this.warn("queue-full", `service ${service} has ${entry.queue.length} requests queued (broker/max_queue): request dropped`, { service, client: peerName(client) });
      return;
    }
    entry.queue.push({ client, service, body, enqueuedAt: this.now(), deliveries: 0 });
    this.dispatch(entry);
  }

  /**
   * RFC 8: the reply body of an MMI request. The last body frame is the question and is replaced by the
   * answer (earlier frames come back unchanged, as the Guide's brokers do): for `mmi.service`, 200 when a
   * live worker offers the named service, else 404; 501 for any other `mmi.` service.
   */
  mmi(service: string, body: readonly Uint8Array[]): Uint8Array[] {
    let answer = MMI_NOT_IMPLEMENTED;
    if (service === "mmi.service") {
      const asked = this.services.get(Buffer.from(body[body.length - 1]).toString("utf8"));
      answer = asked !== undefined && [...asked.workers].some((worker) => this.isAlive(worker)) ? MMI_FOUND : MMI_NOT_FOUND;
    }
    return [...body.slice(0, -1), Buffer.from(answer)];
  }

  /** B6: a worker that said READY for `service`. It becomes idle when its machine enters `idle`. */
  register(routingId: Buffer, service: string, raise: (event: WorkerEvent) => void): WorkerEntry {
    const worker: WorkerEntry = {
      routingId, service: this.service(service), raise, state: "idle", lastSeen: this.now(), inFlight: undefined, delivered: false,
      beatsThisRequest: 0, beatsWhileBusy: false,
    };
    worker.service.workers.add(worker);
    this.workers.add(worker);
    return worker;
  }

  /** A worker is idle (after READY or a REPLY): it goes to the back of the idle line; dispatch. */
  waiting(worker: WorkerEntry): void {
    if (worker.state === "gone") return;
    worker.state = "idle";
    worker.service.idle.delete(worker);
    worker.service.idle.add(worker);
    this.dispatch(worker.service);
  }

  /** A HEARTBEAT from a worker (B13); every other command counts as one too, see {@link replied}. */
  heartbeat(worker: WorkerEntry): void {
    worker.lastSeen = this.now();
    if (worker.state === "busy" && ++worker.beatsThisRequest >= 2) worker.beatsWhileBusy = true;
  }

  /** The request a worker's `dispatch` event sends it, now counted as delivered; undefined if it has none. */
  deliver(worker: WorkerEntry): PendingRequest | undefined {
    const request = worker.inFlight;
    if (worker.state !== "busy" || request === undefined) return undefined;
    worker.delivered = true;
    request.deliveries++;
    return request;
  }

  /**
   * B9/B10: a worker's REPLY for `client`. Returns the request it answers, which the worker no longer
   * holds, or undefined when the worker holds no request for that client (the caller treats the worker as
   * broken).
   */
  replied(worker: WorkerEntry, client: Uint8Array): PendingRequest | undefined {
    const request = worker.inFlight;
    if (worker.state !== "busy" || request === undefined || !worker.delivered || !request.client.equals(client)) return undefined;
    worker.inFlight = undefined;
    worker.delivered = false;
    worker.lastSeen = this.now();
    return request;
  }

  /**
   * Deletes a worker from every structure at once (B8, B10, B11, B13, B16); idempotent. B12: a request it
   * held goes back to the head of its queue while it has deliveries left, else it is dropped with a warning.
   * With `requestUndelivered`, the request it was sent never reached it (the send found it gone): that
   * delivery does not count, and the request simply goes back to the head of its queue.
   */
  remove(worker: WorkerEntry, reason: string, requestUndelivered = false): void {
    if (worker.state === "gone") return;
    if (requestUndelivered && worker.delivered && worker.inFlight !== undefined) {
      worker.inFlight.deliveries--;
      worker.delivered = false;
      this.log("info", `worker ${reason} before its request reached it: the request goes back to its queue`, {
        service: worker.service.name, client: peerName(worker.inFlight.client), worker: peerName(worker.routingId),
      });
    }
    worker.state = "gone";
    const service = worker.service;
    service.idle.delete(worker);
    service.workers.delete(worker);
    this.workers.delete(worker);
    if (service.workers.size === 0 && service.queue.length === 0) service.emptySince = this.now();
    const request = worker.inFlight;
    worker.inFlight = undefined;
    if (request === undefined || this.closed) return;
    const fields = { service: service.name, client: peerName(request.client), worker: peerName(worker.routingId) };
    if (worker.delivered && request.deliveries > this.settings.redeliver) {
      this.log("warn", `worker ${reason} holding a request that was delivered ${request.deliveries} times (broker/redeliver = ${this.settings.redeliver}): request dropped`, fields);
      return;
    }
    if (worker.delivered) this.log("info", `worker ${reason} holding a request: it goes to another worker`, fields);
    request.enqueuedAt = this.now();
    service.queue.unshift(request);
    this.dispatch(service);
  }

  /**
   * The broker's periodic work, every `broker/heartbeat` ms: deletes workers silent too long (every one of
   * them, B14), heartbeats the others that are idle (and busy ones with `heartbeat_busy`, B15), drops
   * expired requests (B5) and forgets empty services (B17).
   */
  tick(): void {
    const now = this.now();
    for (const worker of [...this.workers]) {
      if (!this.isAlive(worker, now)) this.expire(worker);
      else if (worker.state === "idle" || this.settings.heartbeatBusy) worker.raise("send_heartbeat");
    }
    for (const service of this.services.values()) {
      this.expireRequests(service, now);
      if (service.workers.size === 0 && service.queue.length === 0 && now - service.emptySince >= this.settings.serviceExpiry) {
        this.services.delete(service.name);
      }
    }
  }

  /** The services the broker knows, for tools and tests. */
  snapshot(): ServiceSnapshot[] {
    return [...this.services.values()].map((service) => ({
      name: service.name, queued: service.queue.length, workers: service.workers.size, idle: service.idle.size,
    }));
  }

  /** The broker is closing: what is queued is dropped, with one line saying how much. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const queued = [...this.services.values()].reduce((count, service) => count + service.queue.length, 0);
    if (queued > 0) this.log("warn", `broker closed with ${queued} requests queued: dropped`);
    this.services.clear();
    this.workers.clear();
  }

  /**
   * B16: oldest request to the worker idle longest, while both exist; expired requests and dead workers are
   * dropped on the way. Requests left waiting expire at the next tick: scanning the queue here would cost a
   * walk of it for every request that arrives while the workers are busy, when the broker is busiest.
   */
  private dispatch(service: Service): void {
    if (this.closed) return;
    const now = this.now();
    while (service.queue.length > 0 && service.idle.size > 0) {
      const worker = service.idle.values().next().value as WorkerEntry;
      if (!this.isAlive(worker, now)) {
        this.expire(worker);
        continue;
      }
      const request = service.queue.shift() as PendingRequest;
      if (this.expired(request, now)) continue;
      service.idle.delete(worker);
      worker.state = "busy";
      worker.inFlight = request;
      worker.delivered = false;
      worker.beatsThisRequest = 0;
      worker.raise("dispatch");
    }
  }

  /** Deletes a silent worker and tells its machine, which sends DISCONNECT in case it is alive after all. */
  private expire(worker: WorkerEntry): void {
    this.log("info", `worker for ${worker.service.name} silent too long: deleted`, { worker: peerName(worker.routingId), state: worker.state });
    this.remove(worker, "expired");
    worker.raise("worker_expired");
  }

  private isAlive(worker: WorkerEntry, now = this.now()): boolean {
    if (worker.state === "gone") return false;
    const silent = now - worker.lastSeen;
    if (worker.state === "idle" || worker.beatsWhileBusy) return silent <= this.settings.heartbeat * this.settings.liveness;
    return this.settings.busyTimeout === 0 || silent <= this.settings.busyTimeout;
  }

  private expired(request: PendingRequest, now: number): boolean {
    if (now - request.enqueuedAt <= this.settings.requestExpiry) return false;
    this.warn("expired", `request waited over ${this.settings.requestExpiry} ms for a worker (broker/request_expiry): dropped`, {
      service: request.service, client: peerName(request.client),
    });
    return true;
  }

  private expireRequests(service: Service, now: number): void {
    const kept = service.queue.filter((request) => !this.expired(request, now));
    if (kept.length === service.queue.length) return;
    service.queue.splice(0, service.queue.length, ...kept);
    if (service.workers.size === 0 && service.queue.length === 0) service.emptySince = now;
  }

  private service(name: string): Service {
    let service = this.services.get(name);
    if (service === undefined) {
      service = { name, queue: [], workers: new Set(), idle: new Set(), emptySince: this.now() };
      this.services.set(name, service);
    }
    return service;
  }

  /** Logs a warning at most a few times a second per kind, so a flood of bad requests cannot flood the log. */
  private warn(kind: string, message: string, fields: LogFields): void {
    const { allowed, suppressed } = this.limiter.allow(kind);
    if (allowed) this.log("warn", message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
