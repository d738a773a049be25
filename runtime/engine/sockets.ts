/**
 * Opening and connecting ZeroMQ sockets so that failures surface at once, typed: zeromq.js throws plain errno
 * errors, and libzmq resolves a host name only when it connects, retrying forever in the background, so an
 * endpoint naming a host that does not exist would otherwise show only as a call that times out.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { SocketError } from "./errors.js";

/** Creates a socket; ZeroMQ's refusal (`EMFILE` past the context's socket limit) becomes a {@link SocketError}. */
export function openSocket<S>(create: () => S): S {
  try {
    return create();
  } catch (error) {
    throw new SocketError("open", undefined, error);
  }
}

/** Connects a socket; an endpoint ZeroMQ cannot parse (`foo`, `""`) becomes a {@link SocketError}. */
export function connectSocket(socket: { connect(endpoint: string): void }, endpoint: string): void {
  try {
    socket.connect(endpoint);
  } catch (error) {
    throw new SocketError("connect", endpoint, error);
  }
}

/** The host a `tcp://` endpoint names, when it is a name rather than an address or a wildcard. */
export function tcpHostName(endpoint: string): string | undefined {
  const match = /^tcp:\/\/(?:[^;]*;)?(.+):[^:\]]+$/.exec(endpoint);
  if (match === null) return undefined;
  const host = match[1].replace(/^\[(.*)\]$/, "$1");
  return host === "*" || isIP(host) !== 0 ? undefined : host;
}

/**
 * Resolves the host name of a `tcp://` endpoint, as libzmq will; rejects with a {@link SocketError}
 * (`ENOTFOUND`, ...) when it does not resolve. Other endpoints resolve at once.
 */
export async function checkResolvable(endpoint: string): Promise<void> {
  const host = tcpHostName(endpoint);
  if (host === undefined) return;
  try {
    await lookup(host);
  } catch (error) {
    throw new SocketError("connect", endpoint, error);
  }
}
