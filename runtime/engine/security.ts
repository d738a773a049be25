/**
 * Transport security of engines (ZMTP CURVE and PLAIN): the options a server or client takes, their checks,
 * the socket options they become, and the ZAP policy a server registers for its own domain. Secrets (secret
 * keys, passwords) are checked without ever being echoed in an error or a log.
 */
import { curveKeyPair, type Dealer } from "zeromq";
import { checkTimeout } from "./errors.js";
import type { ZapPolicy, ZapRequest } from "./zap.js";
import { isCurveKey, z85Decode, z85Encode } from "./z85.js";

/**
 * CURVE on a server: every frame encrypted, the server known to clients by its public key. With `allow`, only
 * clients whose public key is listed complete the handshake; without it any client that knows the server's
 * public key does (encryption without client authentication).
 */
export interface CurveServerSecurity {
  readonly mechanism: "curve";
  /** The server's public key (Z85, 40 characters); clients need it as their `serverKey`. */
  readonly publicKey: string;
  /** The server's secret key (Z85, 40 characters). Never logged. */
  readonly secretKey: string;
  /** Public keys (Z85) of the clients let in; absent: any client that knows the server's public key. */
  readonly allow?: readonly string[];
}

/**
 * ZMTP PLAIN on a server: the client sends a user name and password in clear during the handshake, and
 * `verify` decides. Use it inside an encrypted or trusted network only (`ipc://`, `inproc://`, a VPN).
 */
export interface PlainServerSecurity {
  readonly mechanism: "plain";
  /**
   * Decides one handshake; `peerAddress` is the client's IP address. Verifications run concurrently; one
   * that throws, rejects or takes longer than `verifyTimeout` refuses the handshake (ZAP status 500) and is
   * logged without the credentials.
   */
  verify(username: string, password: string, peerAddress: string): Promise<boolean>;
  /** Ms one verification may take (default 10 000). */
  readonly verifyTimeout?: number;
}

/** Transport security of a server's ROUTER socket. */
export type ServerSecurity = CurveServerSecurity | PlainServerSecurity;

/** CURVE on a client. */
export interface CurveClientSecurity {
  readonly mechanism: "curve";
  /** The server's public key (Z85). */
  readonly serverKey: string;
  /** The client's key pair (Z85); a fresh pair per client when not given (it then cannot be allow-listed). */
  readonly publicKey?: string;
  readonly secretKey?: string;
}

/** ZMTP PLAIN on a client: user name and password, sent in clear in the handshake. */
export interface PlainClientSecurity {
  readonly mechanism: "plain";
  readonly username: string;
  readonly password: string;
}

/** Transport security of a client's DEALER socket. */
export type ClientSecurity = CurveClientSecurity | PlainClientSecurity;

/** Socket options of a server's ROUTER: mechanism, keys and the ZAP domain its handshakes are decided in. */
export interface ServerSocketSecurity {
  readonly curveServer?: boolean;
  readonly curvePublicKey?: string;
  readonly curveSecretKey?: string;
  readonly plainServer?: boolean;
  readonly zapDomain: string;
}

/** Socket options of a client's DEALER. */
export type ClientSocketSecurity = Pick<Partial<Dealer>, "curveServerKey" | "curvePublicKey" | "curveSecretKey" | "plainUsername" | "plainPassword">;

/** Throws a RangeError naming the option (never its value) unless `key` is a Z85 CURVE key. */
function checkKey(option: string, key: unknown): string {
  if (!isCurveKey(key)) throw new RangeError(`security.${option} must be a CURVE key in Z85 (40 characters)`);
  return key;
}

/** A ZMTP PLAIN user name or password: at most 255 octets (the handshake's limit). */
function checkPlainText(option: string, text: unknown): string {
  if (typeof text !== "string" || Buffer.byteLength(text) > 255) throw new RangeError(`security.${option} must be text of at most 255 octets`);
  return text;
}

/** Checks a server's security options and returns its socket options for ZAP `domain`. */
export function serverSocketSecurity(security: ServerSecurity, domain: string): ServerSocketSecurity {
  switch (security.mechanism) {
    case "curve":
      return { curveServer: true, curvePublicKey: checkKey("publicKey", security.publicKey), curveSecretKey: checkKey("secretKey", security.secretKey), zapDomain: domain };
    case "plain":
      if (typeof security.verify !== "function") throw new TypeError("security.verify must be a function (username, password, peerAddress) => Promise<boolean>");
      if (security.verifyTimeout !== undefined) checkTimeout("security.verifyTimeout", security.verifyTimeout);
      return { plainServer: true, zapDomain: domain };
    default:
      throw new RangeError(`security.mechanism must be "curve" or "plain", not ${JSON.stringify((security as { mechanism?: unknown }).mechanism)}`);
  }
}

/** Checks a client's security options and returns its socket options; a CURVE client without keys gets a fresh pair. */
export function clientSocketSecurity(security: ClientSecurity): ClientSocketSecurity {
  switch (security.mechanism) {
    case "curve": {
      const serverKey = checkKey("serverKey", security.serverKey);
      if ((security.publicKey === undefined) !== (security.secretKey === undefined)) {
        throw new RangeError("security.publicKey and security.secretKey go together: give both or neither");
      }
      const pair = security.publicKey !== undefined && security.secretKey !== undefined
        ? { publicKey: checkKey("publicKey", security.publicKey), secretKey: checkKey("secretKey", security.secretKey) }
        : curveKeyPair();
      return { curveServerKey: serverKey, curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey };
    }
    case "plain":
      return { plainUsername: checkPlainText("username", security.username), plainPassword: checkPlainText("password", security.password) };
    default:
      throw new RangeError(`security.mechanism must be "curve" or "plain", not ${JSON.stringify((security as { mechanism?: unknown }).mechanism)}`);
  }
}

/** The ZAP policy that decides a server's handshakes. */
export function serverZapPolicy(security: ServerSecurity): ZapPolicy {
  if (security.mechanism === "plain") {
    return {
      mechanism: "PLAIN",
      ...(security.verifyTimeout !== undefined ? { timeoutMs: security.verifyTimeout } : {}),
      async decide(request: ZapRequest) {
        const [username, password] = request.credentials;
        if (username === undefined || password === undefined) return { allowed: false };
        const name = username.toString("utf8");
        return { allowed: (await security.verify(name, password.toString("utf8"), request.address)) === true, userId: name };
      },
    };
  }
  const allowed = security.allow === undefined ? undefined : new Set(security.allow.map((key, index) => {
    const octets = isCurveKey(key) ? z85Decode(key) : undefined;
    if (octets === undefined) throw new RangeError(`security.allow[${index}] must be a CURVE public key in Z85 (40 characters)`);
    return octets.toString("hex");
  }));
  return {
    mechanism: "CURVE",
    decide(request: ZapRequest) {
      const key = request.credentials[0];
      if (key === undefined || key.length !== 32) return { allowed: false };
      return { allowed: allowed === undefined || allowed.has(key.toString("hex")), userId: z85Encode(key) };
    },
  };
}
