/**
 * Majordomo (MDP/0.1 with MMI): broker, worker, client and asynchronous client, wire-compatible with the
 * ZeroMQ Guide's brokers, workers and clients. See docs/majordomo.md.
 * @packageDocumentation
 */
export { createBroker, brokerActions, MajordomoBroker, type Peer } from "./broker.js";
export { Dispatcher, type ServiceSnapshot, type PendingRequest, type WorkerEntry } from "./dispatcher.js";
export { checkServiceName, isMmiService, isValidServiceName } from "./service-name.js";
export { brokerSettings, DEFAULT_BROKER_SETTINGS, type BrokerSettings } from "./settings.js";
export { Worker, workerActions, workerTiming, DISCONNECT_WAIT_MS, type WorkerHandler, type WorkerOptions, type WorkerTiming, type RequestInfo } from "./worker.js";
export { Client, RequestTimeout, clientActions, type RequestOptions, type RequestDefaults, type MajordomoClientOptions, type TimeoutReason } from "./client.js";
export { AsyncClient, asyncClientActions, type Reply } from "./async-client.js";
export { toFrames, type BodyInput } from "./body.js";
// The engine errors these APIs throw, so that callers can catch them without importing the runtime.
export { EngineClosed, SendQueueFull, TimeoutError } from "../../runtime/engine/errors.js";
