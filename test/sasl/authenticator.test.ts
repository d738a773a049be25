/**
 * PlainAuthenticator: verification, uniform failure with its minimum delay, lockout with its doubling,
 * the concurrency limit, close, and logging that never shows a password.
 */
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DENIED_REASON, PlainAuthenticator, type AuthOutcome } from "../../protocols/sasl/index.js";
import { FakeTime, attempt, authenticatorFor, plainConfig, rawAttempt } from "./support.js";

const GUEST = { login: "guest", password: "guest", group: "visitors" };
const ADMIN = { login: "admin", password: "S3cret-admin" };

const refusedAs = (reason: string): AuthOutcome => ({ granted: false, reason } as AuthOutcome);

describe("PlainAuthenticator: verification", () => {
  it("offers PLAIN and grants the right password with the account's group", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST, ADMIN]));
    expect(auth.mechanisms).toEqual(["PLAIN"]);
    expect(DENIED_REASON).toBe("access denied");
    expect(await auth.authenticate(attempt("guest", "guest"))).toEqual({ granted: true, login: "guest", group: "visitors" });
    expect(await auth.authenticate(attempt("admin", "S3cret-admin"))).toEqual({ granted: true, login: "admin" });
    auth.close();
  });

  it("grants a login and password written differently but equal after preparation", async () => {
    const { auth } = await authenticatorFor(await plainConfig([{ login: "zoë", password: "pass word" }]));
    expect(await auth.authenticate(attempt("zoe\u0308", "pass\u00a0word"))).toEqual({ granted: true, login: "zoë" });
    expect(await auth.authenticate(attempt("ｚｏë", "pass\u3000word"))).toEqual({ granted: true, login: "zoë" });
    auth.close();
  });

  it("refuses wrong passwords, unknown logins, malformed responses and other mechanisms with the same shape", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST]));
    const outcomes = await Promise.all([
      auth.authenticate(attempt("guest", "wrong")),
      auth.authenticate(attempt("nobody", "guest")),
      auth.authenticate(rawAttempt(Buffer.from("guest\0guest"))),
      auth.authenticate({ ...attempt("guest", "guest"), mechanism: "ANONYMOUS" }),
      auth.authenticate({ ...attempt("guest", "guest"), offered: ["ANONYMOUS"] }),
      auth.authenticate(attempt("guest", "")),
      auth.authenticate(rawAttempt(Buffer.from("admin\0guest\0guest"))),
    ]);
    expect(outcomes).toEqual(["wrong", "unknown", "malformed", "mechanism", "mechanism", "malformed", "malformed"].map(refusedAs));
    for (const outcome of outcomes) expect(Object.keys(outcome).sort()).toEqual(["granted", "reason"]);
    auth.close();
  });

  it("never grants arbitrary bytes, and never throws", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST]), { lockout: { maxFailures: 1_000_000 } });
    const token = fc.constantFrom(Buffer.from([0]), Buffer.from("guest"), Buffer.from("gu"), Buffer.from("est"), Buffer.from([0xff]), Buffer.from("ｇ"));
    const response = fc.oneof(fc.uint8Array({ maxLength: 800 }), fc.array(fc.oneof(token, fc.uint8Array({ maxLength: 4 })), { maxLength: 8 }).map((parts) => Buffer.concat(parts)));
    const canonical = [Buffer.from("\0guest\0guest"), Buffer.from("guest\0guest\0guest")];
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(response, async (bytes) => {
        const outcome = await auth.authenticate(rawAttempt(bytes));
        if (outcome.granted) {
          granted++;
          expect(canonical.some((form) => form.equals(Buffer.from(bytes)))).toBe(true);
        }
      }),
      { numRuns: 400, examples: [[canonical[0]], [canonical[1]]] },
    );
    expect(granted).toBeGreaterThanOrEqual(2); // the examples, so the property can tell a grant from a refusal
    auth.close();
  });

  it("does not modify the caller's response buffer", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST]));
    const request = attempt("guest", "guest");
    const copy = Buffer.from(request.response);
    await auth.authenticate(request);
    expect(Buffer.from(request.response).equals(copy)).toBe(true);
    auth.close();
  });
});

describe("PlainAuthenticator: minimum delay", () => {
  it("answers every outcome no earlier than the minimum delay (real timers)", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST]), { minDelay: 200 });
    const timed = async (request: Parameters<PlainAuthenticator["authenticate"]>[0]) => {
      const start = performance.now();
      const outcome = await auth.authenticate(request);
      return { outcome, elapsed: performance.now() - start };
    };
    const results = await Promise.all([
      timed(attempt("guest", "guest")),
      timed(attempt("guest", "wrong")),
      timed(attempt("nobody", "guest")),
      timed(rawAttempt(Buffer.from([1, 2, 3]))),
      timed({ ...attempt("guest", "guest"), mechanism: "CRAM-MD5" }),
    ]);
    expect(results.map((result) => result.outcome.granted)).toEqual([true, false, false, false, false]);
    for (const { elapsed } of results) expect(elapsed).toBeGreaterThanOrEqual(200);
    auth.close();
  });

  it("waits until the injected clock has passed the delay, even when a sleep returns early", async () => {
    const time = new FakeTime();
    let calls = 0;
    const earlySleep = async (ms: number) => {
      calls++;
      time.now += calls === 1 ? ms / 2 : ms; // the first wake-up comes early
    };
    const { auth } = await authenticatorFor(await plainConfig([GUEST]), { minDelay: 200, clock: time.clock, sleep: earlySleep });
    expect(await auth.authenticate(attempt("nobody", "x"))).toEqual(refusedAs("unknown"));
    expect(time.now).toBe(200);
    expect(calls).toBe(2);
    auth.close();
  });

  it("waits the same delay for a locked login and for an overloaded verifier (real timers)", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST]), { minDelay: 200, lockout: { maxFailures: 1 }, maxConcurrent: 1, maxQueue: 0 });
    expect(await auth.authenticate(attempt("guest", "wrong"))).toEqual(refusedAs("wrong"));
    const start = performance.now();
    const timed = (request: Parameters<PlainAuthenticator["authenticate"]>[0]) => auth.authenticate(request).then((outcome) => ({ outcome, elapsed: performance.now() - start }));
    // The locked attempt takes no slot; "nobody" takes the only one, so "other" finds the queue full.
    const results = await Promise.all([timed(attempt("guest", "guest")), timed(attempt("nobody", "x")), timed(attempt("other", "x"))]);
    expect(results.map((result) => result.outcome)).toEqual([refusedAs("locked"), refusedAs("unknown"), refusedAs("overload")]);
    for (const { elapsed } of results) expect(elapsed).toBeGreaterThanOrEqual(200);
    auth.close();
  });
});

describe("PlainAuthenticator: lockout", () => {
  async function lockable() {
    const time = new FakeTime();
    const setup = await authenticatorFor(await plainConfig([GUEST]), { clock: time.clock, sleep: time.sleep });
    const fail = async (times: number, login = "guest") => {
      for (let i = 0; i < times; i++) expect((await setup.auth.authenticate(attempt(login, "wrong"))).granted).toBe(false);
    };
    const tryRight = () => setup.auth.authenticate(attempt("guest", "guest"));
    return { time, ...setup, fail, tryRight };
  }

  it("locks a login for 30 s after 5 failures within 60 s, refusing even the right password", async () => {
    const { auth, time, fail, tryRight, logger } = await lockable();
    await fail(5);
    expect(await tryRight()).toEqual(refusedAs("locked"));
    time.now += 29_999;
    expect(await tryRight()).toEqual(refusedAs("locked"));
    time.now += 1;
    expect((await tryRight()).granted).toBe(true);
    expect(logger.lines.some((line) => line.message.includes("locked") && line.fields?.seconds === 30)).toBe(true);
    auth.close();
  });

  it("counts only failures inside the 60 s window", async () => {
    const { auth, time, fail, tryRight } = await lockable();
    await fail(4);
    time.now += 60_000;
    await fail(4);
    expect((await tryRight()).granted).toBe(true);
    auth.close();
  });

  it("doubles each further lock up to 15 minutes", async () => {
    const { auth, time, fail, tryRight } = await lockable();
    const expected = [30, 60, 120, 240, 480, 900, 900].map((seconds) => seconds * 1000);
    for (const lockMs of expected) {
      await fail(5);
      time.now += lockMs - 1;
      expect(await tryRight()).toEqual(refusedAs("locked"));
      time.now += 1;
    }
    // After the last lock ends, the right password works again and resets the count.
    expect((await tryRight()).granted).toBe(true);
    await fail(5);
    time.now += 30_000;
    expect((await tryRight()).granted).toBe(true);
    auth.close();
  });

  it("forgets a login's locks after 15 minutes without failures", async () => {
    const { auth, time, fail, tryRight } = await lockable();
    await fail(5);
    time.now += 30_000;
    await fail(5); // second lock: 60 s
    time.now += 60_000 + 15 * 60_000;
    await fail(5); // first lock again: 30 s
    time.now += 30_000;
    expect((await tryRight()).granted).toBe(true);
    auth.close();
  });

  it("locks unknown logins the same way, so a lock reveals nothing", async () => {
    const { auth, fail, logger } = await lockable();
    await fail(5, "nobody");
    expect(await auth.authenticate(attempt("nobody", "anything"))).toEqual(refusedAs("locked"));
    expect(logger.lines.filter((line) => line.fields?.reason === "locked")).toHaveLength(1);
    auth.close();
  });

  it("keeps locks per login", async () => {
    const { auth, fail, tryRight } = await lockable();
    await fail(5, "mallory");
    expect((await tryRight()).granted).toBe(true);
    auth.close();
  });
});

describe("PlainAuthenticator: concurrency", () => {
  it("runs at most max_concurrent derivations, queues up to max_queue, and refuses the rest", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST], "        max_concurrent = 1\n        max_queue = 2\n"));
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => auth.authenticate(attempt("guest", "guest"))));
    expect(outcomes.map((outcome) => (outcome.granted ? "granted" : outcome.reason))).toEqual(["granted", "granted", "granted", "overload", "overload", "overload"]);
    // Slots are given back: a later attempt is verified again.
    expect((await auth.authenticate(attempt("guest", "guest"))).granted).toBe(true);
    auth.close();
  });

  it("lets explicit options override the configured limits", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST], "        max_concurrent = 1\n        max_queue = 0\n"), { maxQueue: 1 });
    const outcomes = await Promise.all(Array.from({ length: 3 }, () => auth.authenticate(attempt("guest", "guest"))));
    expect(outcomes.map((outcome) => outcome.granted)).toEqual([true, true, false]);
    auth.close();
  });
});

describe("PlainAuthenticator: close", () => {
  it("resolves pending and later attempts at once as failures and stops its timers", async () => {
    const { auth } = await authenticatorFor(await plainConfig([GUEST]), { minDelay: 60_000, maxConcurrent: 1 });
    const pending = [auth.authenticate(attempt("guest", "guest")), auth.authenticate(attempt("guest", "guest"))];
    auth.close();
    const start = performance.now();
    expect(await Promise.all(pending)).toEqual([refusedAs("closed"), refusedAs("closed")]);
    expect(await auth.authenticate(attempt("guest", "guest"))).toEqual(refusedAs("closed"));
    // Far below the 60 s minimum delay: the timers were cancelled, not waited for.
    expect(performance.now() - start).toBeLessThan(30_000);
  });
});

describe("PlainAuthenticator: logging", () => {
  it("logs failures with login, reason class and session, and never a password", async () => {
    const { auth, logger } = await authenticatorFor(await plainConfig([GUEST, ADMIN]));
    await auth.authenticate(attempt("admin", "Wr0ng-Pa55word", "session-7"));
    await auth.authenticate(attempt("ghost", "Gh0st-Pa55word", "session-8"));
    await auth.authenticate(rawAttempt(Buffer.from("\0admin\0Ctl-Pa55word\x01"), "session-9"));
    await auth.authenticate(rawAttempt(Buffer.from("admin\0Str-Pa55word"), "session-10"));
    await auth.authenticate(attempt("admin", "S3cret-admin", "session-11"));
    const refusals = logger.lines.filter((line) => line.message === "PLAIN login refused");
    expect(refusals.map((line) => [line.fields?.login, line.fields?.reason, line.fields?.session])).toEqual([
      ["admin", "wrong", "session-7"],
      ["ghost", "unknown", "session-8"],
      ["admin", "malformed", "session-9"],
      [undefined, "malformed", "session-10"],
    ]);
    expect(refusals[2].fields?.problem).toMatch(/password contains a control character/);
    expect(logger.lines.find((line) => line.message === "PLAIN login granted")?.fields).toMatchObject({ login: "admin", session: "session-11" });
    const everything = JSON.stringify(logger.lines);
    for (const secret of ["Pa55word", "S3cret"]) expect(everything).not.toContain(secret);
  });

  it("truncates logged logins to 64 characters and escapes control characters", async () => {
    const { auth, logger } = await authenticatorFor(await plainConfig([GUEST]));
    await auth.authenticate(rawAttempt(Buffer.from("\0evil\nINFO forged\\line\0pw")));
    await auth.authenticate(attempt("é".repeat(100), "pw"));
    const logins = logger.lines.filter((line) => line.message === "PLAIN login refused").map((line) => line.fields?.login);
    expect(logins).toEqual(["evil\\x0aINFO forged\\\\line", "é".repeat(64) + "…"]);
  });

  it("rate-limits refusal lines and says how many it held back", async () => {
    const time = new FakeTime();
    const { auth, logger } = await authenticatorFor(await plainConfig([GUEST]), { clock: time.clock, sleep: time.sleep });
    for (let i = 0; i < 15; i++) await auth.authenticate(rawAttempt(Buffer.from([i])));
    expect(logger.lines.filter((line) => line.message === "PLAIN login refused")).toHaveLength(10);
    time.now += 1000;
    await auth.authenticate(rawAttempt(Buffer.from([1])));
    expect(logger.lines.at(-1)?.fields?.suppressed).toBe(5);
  });
});
