/**
 * The broker's settings: the `broker` section of its ZPL configuration, with the defaults of the Guide's
 * brokers for what they have (heartbeat 2500 ms, liveness 3) and ours for what they lack.
 */
import type { ZplNode } from "../../runtime/zpl/tree.js";
import { MAX_TIMER_MS } from "../../runtime/engine/errors.js";

/** What the broker does, and when. */
export interface BrokerSettings {
  /** `broker/heartbeat`: ms between HEARTBEATs to idle workers, and the period of the broker's checks. */
  readonly heartbeat: number;
  /** `broker/liveness`: heartbeats an idle worker may miss before it is dead (silent for heartbeat × liveness). */
  readonly liveness: number;
  /** `broker/request_expiry`: ms a request may wait in its queue for a worker before it is dropped. */
  readonly requestExpiry: number;
  /** `broker/busy_timeout`: ms a busy worker may stay silent before it is dead; 0 = never. */
  readonly busyTimeout: number;
  /** `broker/redeliver`: times a request held by a worker that died goes to another worker. */
  readonly redeliver: number;
  /** `broker/service_expiry`: ms a service without workers and requests is kept. */
  readonly serviceExpiry: number;
  /** `broker/max_queue`: requests a service may queue; newer ones are dropped. */
  readonly maxQueue: number;
  /** `broker/heartbeat_busy`: also send HEARTBEAT to busy workers (the Guide sends it to idle ones only). */
  readonly heartbeatBusy: boolean;
}

/** The defaults (`broker` section empty or absent). */
export const DEFAULT_BROKER_SETTINGS: BrokerSettings = {
  heartbeat: 2500,
  liveness: 3,
  requestExpiry: 10_000,
  busyTimeout: 900_000,
  redeliver: 1,
  serviceExpiry: 60_000,
  maxQueue: 10_000,
  heartbeatBusy: false,
};

/** One integer setting within bounds; throws RangeError naming the path otherwise. */
function integer(tree: ZplNode, key: string, fallback: number, min: number, max: number): number {
  const path = `broker/${key}`;
  const value = tree.getInteger(path, fallback);
  if (value < min || value > max) throw new RangeError(`configuration ${path} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

/**
 * The settings in a configuration tree. Throws (a RangeError or ZplValueError naming the path) for a value
 * that is not a whole number in range, so a bad configuration is refused before it is put in force.
 */
export function brokerSettings(tree: ZplNode): BrokerSettings {
  const defaults = DEFAULT_BROKER_SETTINGS;
  const heartbeat = integer(tree, "heartbeat", defaults.heartbeat, 1, MAX_TIMER_MS);
  return {
    heartbeat,
    liveness: integer(tree, "liveness", defaults.liveness, 1, Math.floor(MAX_TIMER_MS / heartbeat)),
    requestExpiry: integer(tree, "request_expiry", defaults.requestExpiry, 1, MAX_TIMER_MS),
    busyTimeout: integer(tree, "busy_timeout", defaults.busyTimeout, 0, MAX_TIMER_MS),
    redeliver: integer(tree, "redeliver", defaults.redeliver, 0, 1000),
    serviceExpiry: integer(tree, "service_expiry", defaults.serviceExpiry, 1, MAX_TIMER_MS),
    maxQueue: integer(tree, "max_queue", defaults.maxQueue, 1, 100_000_000),
    heartbeatBusy: integer(tree, "heartbeat_busy", defaults.heartbeatBusy ? 1 : 0, 0, 1) === 1,
  };
}
