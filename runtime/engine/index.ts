/**
 * State-machine engines over zeromq.js: what generated servers and clients run on.
 * @packageDocumentation
 */
export { ServerEngine, ServerContext, type ServerOptions, type ServerHooks, type ClientTimers, type SessionEnding, type SessionEndReason } from "./server.js";
export { ClientEngine, ClientContext, type ClientOptions, type ClientHooks, type MethodSpec } from "./client.js";
export type { EngineOptions } from "./options.js";
export { Machine, MachineState, execute, messageEvent, TERMINATE, WILDCARD, type MachineTable, type StateTable, type HandlerTable, type Step, type StepRunner } from "./machine.js";
export { withDeadline, type CallOptions, type CloseOptions } from "./deadline.js";
export {
  TimeoutError, ClientTerminated, EngineClosed, MethodFailed, ActionFailed, SocketError, SendQueueFull, checkTimeout, checkTimerDelay, MAX_TIMER_MS,
  type SocketOperation,
} from "./errors.js";
export {
  DEFAULT_MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE_LIMIT, MAX_MESSAGE_SIZE_LIMIT, DEFAULT_PEER_SEND_LIMIT, DEFAULT_CLIENT_QUEUE_LIMIT,
} from "./limits.js";
export {
  type ServerSecurity, type ClientSecurity, type CurveServerSecurity, type PlainServerSecurity, type CurveClientSecurity,
  type PlainClientSecurity,
} from "./security.js";
export { registerZap, uniqueDomain, ZAP_ENDPOINT, type ZapPolicy, type ZapRequest, type ZapDecision } from "./zap.js";
export { z85Encode, z85Decode, isCurveKey } from "./z85.js";
export { createLogger, silentLogger, RateLimiter, type Logger, type LogLevel, type LogFields, type LoggerOptions } from "./log.js";
export { loadConfig, watchConfig, configFromPairs, type ConfigSource } from "./config.js";
export { Outgoing } from "./outgoing.js";
export { EventQueue } from "./queue.js";
export type { MessageTracer, TraceDirection } from "./trace.js";
