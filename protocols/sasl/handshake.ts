/**
 * The actions of the SASL PLAIN handshake fragments (models/sasl/_sasl_plain_server.xml and
 * _sasl_plain_client.xml), for any protocol that includes them. They are typed by what they touch of a
 * context (the ORLY and YARLY fields), so that one implementation serves every protocol's generated
 * context. The server side leaves verification to an {@link Authenticator}; its verdict comes back as the
 * internal event `friend` or `foe`, which the protocol raises on the context. Encoding, decoding and
 * verification are the SASL library's (./index.ts).
 */
import { DENIED_REASON, chooseMechanism, plainResponse, type AuthOutcome, type PlainAuthenticator } from "./index.js";

/** What the server side needs of a verifier of SASL responses ({@link PlainAuthenticator} is one). */
export type Authenticator = Pick<PlainAuthenticator, "mechanisms" | "authenticate">;

/** What the server side keeps per peer. */
export interface SaslPeer {
  /** Mechanisms offered in the last ORLY. */
  offered: readonly string[];
  /** The authenticated login, once granted. */
  login?: string;
  group?: string;
}

/** A new peer's SASL state. */
export function saslPeer(): SaslPeer {
  return { offered: [] };
}

interface Logs {
  log(level: "debug" | "info" | "warn" | "error", message: string, fields?: Readonly<Record<string, string | number | boolean | undefined>>): void;
}

/** The server-side actions, given how to reach the verifier and how to raise the verdict on a context. */
export interface SaslServerSettings<Context> {
  /** The verifier in force, or undefined when the configuration has none. */
  authenticator(): Authenticator | undefined;
  /** The peer's SASL state. */
  peer(context: Context): SaslPeer;
  /** Raises `friend` or `foe` on the context later (the engine's sendEvent). */
  verdict(context: Context, event: "friend" | "foe"): void;
}

/** The server side: ORLY's contents, the verification of YARLY, and the uniform refusal. */
export function saslServerActions<Context extends Logs & { readonly id: number; readonly valid: boolean }>(settings: SaslServerSettings<Context>): {
  listSecurityMechanisms(ctx: Context & { reply: { mechanisms?: string[]; challenge?: Uint8Array } }): void;
  trySecurityMechanism(ctx: Context & { readonly request: { readonly mechanism: string; readonly response: Uint8Array } }): void;
  denyAccess(ctx: { reply: { reason?: string } }): void;
} {
  return {
    listSecurityMechanisms(ctx) {
      const offered = settings.authenticator()?.mechanisms ?? [];
      settings.peer(ctx).offered = offered;
      ctx.reply.mechanisms = [...offered];
      ctx.reply.challenge = new Uint8Array(0);
    },

    trySecurityMechanism(ctx) {
      const peer = settings.peer(ctx);
      const authenticator = settings.authenticator();
      if (authenticator === undefined) {
        settings.verdict(ctx, "foe");
        return;
      }
      // Verification takes time (scrypt, and a minimum answer delay): the peer's context waits in its state
      // and hears the verdict as an internal event. authenticate() never rejects.
      const { mechanism, response } = ctx.request;
      void authenticator.authenticate({ mechanism, response, offered: peer.offered, session: String(ctx.id) }).then((verdict: AuthOutcome) => {
        if (!ctx.valid) return;
        if (verdict.granted) {
          peer.login = verdict.login;
          if (verdict.group !== undefined) peer.group = verdict.group;
          ctx.log("info", "access granted", { login: verdict.login });
        }
        settings.verdict(ctx, verdict.granted ? "friend" : "foe");
      });
    },

    denyAccess(ctx) {
      ctx.reply.reason = DENIED_REASON;
    },
  };
}

/** Credentials a client presents. */
export interface Credentials {
  readonly login: string;
  readonly password: Uint8Array;
}

/** The client-side actions, given the credentials and where to report a server with no common mechanism. */
export function saslClientActions(settings: {
  credentials(): Credentials | undefined;
  noCommonMechanism(offered: readonly string[]): void;
}): {
  chooseSecurityMechanism(ctx: { readonly request: { readonly mechanisms: readonly string[] }; outgoing: { mechanism?: string; response?: Uint8Array }; raise(event: "no_common_mechanism"): void }): void;
  reportNoCommonMechanism(ctx: { readonly request: unknown }): void;
} {
  let offered: readonly string[] = [];
  return {
    chooseSecurityMechanism(ctx) {
      offered = ctx.request.mechanisms;
      const mechanism = chooseMechanism(offered);
      const credentials = settings.credentials();
      if (mechanism === undefined || credentials === undefined) {
        ctx.raise("no_common_mechanism");
        return;
      }
      ctx.outgoing.mechanism = mechanism;
      ctx.outgoing.response = plainResponse(credentials.login, credentials.password);
    },

    reportNoCommonMechanism() {
      settings.noCommonMechanism(offered);
    },
  };
}
