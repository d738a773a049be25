/**
 * Error types of the SASL PLAIN library. None of them ever carries a password or a stored hash: messages name
 * the configuration key or the rule that was broken, and at most the login.
 *
 * @module
 */

/**
 * The PLAIN configuration cannot be used: a missing or duplicate login, a hash in an unknown format, an
 * unreadable accounts file, a limit that is not a number. `message` is one sentence that names the key.
 */
export class SaslConfigError extends Error {
  /** The configuration key (ZPL path) the problem is about, e.g. `security/plain/account`. */
  readonly key: string;

  constructor(key: string, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = "SaslConfigError";
    this.key = key;
  }
}

/**
 * A login or password given to this library (to hash it, to store it) can never take part in a PLAIN
 * exchange: empty, longer than 255 octets, or containing a control character or NUL.
 */
export class SaslCredentialError extends Error {
  /** Which of the two was refused. */
  readonly field: "login" | "password";

  constructor(field: "login" | "password", message: string) {
    super(message);
    this.name = "SaslCredentialError";
    this.field = field;
  }
}

/** `runPasswd` stopped before writing anything: input ended, was interrupted, or the two entries differed. */
export class PasswdAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PasswdAbortedError";
  }
}
