/**
 * Names generated methods may not take because the runtime or JavaScript itself gives them a meaning: the
 * hooks the engines call on an actions object, the members of the client engine a generated client extends,
 * and the names every JavaScript object has, `then` among them.
 */

/** The hooks the engines call on an implementation's actions object (ServerHooks and ClientHooks); a test keeps them in step. */
export const ENGINE_HOOKS: ReadonlySet<string> = new Set(["createClient", "clientTerminated", "serverConfigured", "serverTerminated", "terminated"]);

/**
 * Members of the runtime's ClientEngine (fields and methods, private ones too): an API method of the same
 * name would replace or clash with them. A test keeps this list in step with the engine.
 */
export const CLIENT_ENGINE_MEMBERS: ReadonlySet<string> = new Set([
  "logger", "connected", "config", "context", "machine", "runner", "queue", "limiter", "socket", "outgoing",
  "endpoints", "closing", "calls", "delivered", "heartbeatTimer", "expiryTimer",
  "wakeupTimer", "defaultTimeout", "terminatedFlag", "closed", "handlesMalformed", "codec", "methods", "actions", "options",
  "state", "terminated", "construct", "call", "replyToCaller", "sendEvent", "deliverToApplication", "recv", "messages",
  "sendMessage", "connectTo", "reopen", "armHeartbeat", "armExpiry", "armWakeup", "close", "shutdown", "terminate", "notifyTerminated",
  "disarm", "open", "dropSocket", "receiveLoop", "received", "run", "traceMessage", "socketOptions", "firstFailure",
  "connectionFailed", "watchHandshakes", "eventDone", "silentPeriods", "sendQueueLimit", "sendNow",
]);

const OBJECT_MEMBERS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Why a method of a JavaScript object may not be called `name`, as the end of a sentence; undefined when it
 * may. An own `toString` or `constructor` shadows what every object has; an own `then` makes the object a
 * thenable, so that `await`, or returning it from an async function (as `create()` does), calls it instead of
 * handing the object over, and never finishes.
 */
export function javascriptMeaning(name: string): string | undefined {
  if (name === "then") return "which makes an object a thenable: await would call it instead of handing the object over";
  if (OBJECT_MEMBERS.has(name)) return "which every JavaScript object has";
  return undefined;
}
