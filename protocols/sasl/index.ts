/**
 * SASL PLAIN (RFC 4616) for zproto-ts protocols: the server's authenticator (accounts from ZPL, salted scrypt
 * hashes, constant-time and uniform failure, lockout and concurrency limits), the client's encoding, and the
 * `passwd` command that maintains accounts files. The handshake itself (ORLY/YARLY) lives in the models that
 * include the SASL fragment; their actions call this library.
 *
 * ```ts
 * const auth = await PlainAuthenticator.fromConfig(config, { logger });
 * // server, on YARLY:
 * const outcome = await auth.authenticate({ mechanism, response, offered: auth.mechanisms, session: id });
 * if (!outcome.granted) reply.reason = DENIED_REASON;
 * // client, on ORLY:
 * if (chooseMechanism(orly.mechanisms) === undefined) fail("no common mechanism");
 * const response = plainResponse(login, password);
 * ```
 *
 * @module
 */

export {
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MIN_DELAY_MS,
  DENIED_REASON,
  PlainAuthenticator,
  type AuthAttempt,
  type AuthFailureReason,
  type AuthOutcome,
  type AuthenticatorOptions,
} from "./authenticator.js";
export { PasswdAbortedError, SaslConfigError, SaslCredentialError } from "./errors.js";
export { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from "./lockout.js";
export { ACCOUNTS_FILE_MODE, runPasswd, type PasswdOptions } from "./passwd.js";
export type { PasswordSource } from "./password-input.js";
export { MAX_RESPONSE_OCTETS, PLAIN, chooseMechanism, plainResponse } from "./plain-message.js";
export { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword, type ScryptParams } from "./scrypt-hash.js";
export { MAX_PART_OCTETS, prepareCredential } from "./text.js";
