/** Helpers of the SASL PLAIN tests: fast hashes, configurations, a fake clock. */
import { parseZpl, type ZplNode } from "../../runtime/zpl/index.js";
import { PlainAuthenticator, hashPassword, plainResponse, type AuthenticatorOptions } from "../../protocols/sasl/index.js";
import { MemoryLogger } from "../support/engines.js";

/** Cheap scrypt parameters, so tests that verify many passwords stay fast on a busy machine. */
export const FAST = { N: 1024, r: 8, p: 1 } as const;

/** A ZPL configuration with `security/plain = 1` and these accounts (fast hashes). */
export async function plainConfig(accounts: readonly { login: string; password: string; group?: string }[], extra = ""): Promise<ZplNode> {
  const lines = ["security", "    plain = 1"];
  for (const account of accounts) {
    lines.push("        account", `            login = "${account.login}"`, `            hash = "${await hashPassword(account.password, FAST)}"`);
    if (account.group !== undefined) lines.push(`            group = ${account.group}`);
  }
  return parseZpl(lines.join("\n") + "\n" + extra);
}

/** A clock that only moves when a test (or the authenticator's sleep) moves it. */
export class FakeTime {
  now = 0;
  readonly sleeps: number[] = [];
  readonly clock = (): number => this.now;
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.now += ms;
  };
}

/** An authenticator over `config` with a memory logger and, unless overridden, no minimum delay. */
export async function authenticatorFor(config: ZplNode, options: AuthenticatorOptions = {}): Promise<{ auth: PlainAuthenticator; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const auth = await PlainAuthenticator.fromConfig(config, { logger, minDelay: 0, ...options });
  return { auth, logger };
}

/** A YARLY as a FileMQ server would pass it. */
export function attempt(login: string, password: string, session = "s1") {
  return { mechanism: "PLAIN", response: plainResponse(login, password), offered: ["PLAIN"], session };
}

/** A YARLY with a raw response. */
export function rawAttempt(response: Uint8Array, session = "s1") {
  return { mechanism: "PLAIN", response, offered: ["PLAIN"], session };
}

/** The error `promise` rejects with; fails the test if it fulfils. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}
