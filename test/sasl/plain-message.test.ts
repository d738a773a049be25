/** RFC 4616 encoding (byte-identical to C FileMQ) and the strict decoding rules P2-P6. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_RESPONSE_OCTETS, SaslCredentialError, chooseMechanism, plainResponse } from "../../protocols/sasl/index.js";
import { decodePlainResponse, type PlainDecoding } from "../../protocols/sasl/plain-message.js";

const hex = (data: Uint8Array) => Buffer.from(data).toString("hex");
/** Concatenates text (UTF-8) and raw octets. */
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))));

function refused(decoding: PlainDecoding): string {
  if (decoding.ok) throw new Error("expected the response to be refused");
  return decoding.problem;
}

describe("plainResponse (client encoding, P9)", () => {
  it("encodes guest/guest exactly as C FileMQ does", () => {
    expect(hex(plainResponse("guest", "guest"))).toBe("00" + "6775657374" + "00" + "6775657374");
  });

  it("encodes UTF-8 text unprepared, and bytes as given", () => {
    expect(hex(plainResponse("zoë", "ｐw"))).toBe("00" + "7a6fc3ab" + "00" + "efbd9077");
    expect(hex(plainResponse("a", Buffer.from([0xc3, 0xa9])))).toBe("00" + "61" + "00" + "c3a9");
  });

  it("encodes an empty password as C does (the server refuses it)", () => {
    expect(hex(plainResponse("guest", ""))).toBe("00677565737400");
  });

  it("refuses a NUL inside the login or password without quoting the password", () => {
    expect(() => plainResponse("gu\0est", "x")).toThrow(SaslCredentialError);
    const error = (() => {
      try {
        plainResponse("guest", "sec\0ret");
      } catch (caught) {
        return caught as SaslCredentialError;
      }
      throw new Error("no error");
    })();
    expect(error.field).toBe("password");
    expect(error.message).not.toContain("sec");
    expect(() => plainResponse("guest", Buffer.from([0x61, 0x00]))).toThrow(SaslCredentialError);
    expect(() => plainResponse("guest", "\ud800")).toThrow(/not valid Unicode/);
  });
});

describe("chooseMechanism", () => {
  it("picks PLAIN only when offered, comparing names exactly", () => {
    expect(chooseMechanism(["PLAIN"])).toBe("PLAIN");
    expect(chooseMechanism(["ANONYMOUS", "PLAIN"])).toBe("PLAIN");
    expect(chooseMechanism(["ANONYMOUS"])).toBeUndefined();
    expect(chooseMechanism(["plain", "PLAIN "])).toBeUndefined();
    expect(chooseMechanism([])).toBeUndefined();
  });
});

describe("decodePlainResponse (server decoding)", () => {
  it("accepts the C client's response and an authzid equal to the login", () => {
    for (const response of [bytes([0], "guest", [0], "guest"), bytes("guest", [0], "guest", [0], "guest")]) {
      const decoded = decodePlainResponse(response);
      expect(decoded.ok && decoded.login).toBe("guest");
      expect(decoded.ok && decoded.password.toString()).toBe("guest");
    }
  });

  it("P2: refuses a response over 767 octets without parsing it", () => {
    const login = "l".repeat(255);
    const password = "p".repeat(255);
    expect(decodePlainResponse(bytes(login, [0], login, [0], password)).ok).toBe(true);
    expect(MAX_RESPONSE_OCTETS).toBe(767);
    expect(refused(decodePlainResponse(bytes(login, [0], login, [0], password, "p")))).toMatch(/longer than 767/);
  });

  it("P3: refuses anything but exactly two NULs", () => {
    for (const response of [bytes(), bytes("guestguest"), bytes([0], "guest"), bytes([0], "guest", [0], "pw", [0]), bytes([0, 0, 0]), bytes([0], "a", [0], "b", [0], "c")]) {
      expect(refused(decodePlainResponse(response))).toMatch(/exactly two NUL/);
    }
  });

  it("P4: login and password non-empty, at most 255 octets, UTF-8, no control characters", () => {
    const cases: [Buffer, RegExp][] = [
      [bytes([0, 0], "pw"), /login is empty/],
      [bytes([0], "guest", [0]), /password is empty/],
      [bytes([0], "l".repeat(256), [0], "pw"), /login is longer than 255/],
      [bytes([0], "guest", [0], "p".repeat(256)), /password is longer than 255/],
      [bytes([0], [0x67, 0xff], [0], "pw"), /login is not valid UTF-8/],
      [bytes([0], "guest", [0], [0xc0, 0xaf]), /password is not valid UTF-8/],
      [bytes([0], "guest", [0], [0xed, 0xa0, 0x80]), /password is not valid UTF-8/],
      [bytes([0], "gu\test", [0], "pw"), /login contains a control character/],
      [bytes([0], "guest", [0], "pw\x7f"), /password contains a control character/],
      [bytes([0], "guest", [0], "pw\n"), /password contains a control character/],
    ];
    for (const [response, problem] of cases) expect(refused(decodePlainResponse(response))).toMatch(problem);
  });

  it("P4: a login of exactly 255 octets in multi-byte characters is accepted", () => {
    const login = "é".repeat(127) + "x"; // 255 octets
    expect(decodePlainResponse(bytes([0], login, [0], "pw")).ok).toBe(true);
  });

  it("P5: an authzid other than the login is refused; one equal after preparation is accepted", () => {
    expect(refused(decodePlainResponse(bytes("admin", [0], "guest", [0], "guest")))).toMatch(/proxy authorization/);
    expect(refused(decodePlainResponse(bytes([0xff], [0], "guest", [0], "guest")))).toMatch(/authorization identity/);
    expect(decodePlainResponse(bytes("ｇｕｅｓｔ", [0], "guest", [0], "guest")).ok).toBe(true);
  });

  it("P6: prepares login and password (NFKC, non-ASCII spaces to U+0020)", () => {
    const decoded = decodePlainResponse(bytes([0], "ｇｕｅｓｔ", [0], "pass\u00a0word\u1680x\u200by\u3000z"));
    expect(decoded.ok && decoded.login).toBe("guest");
    expect(decoded.ok && decoded.password.toString()).toBe("pass word x y z");
    const composed = decodePlainResponse(bytes([0], "e\u0301", [0], "pw"));
    expect(composed.ok && composed.login).toBe("\u00e9");
  });

  it("reports the claimed login of a well-structured response, and none otherwise", () => {
    const structured = decodePlainResponse(bytes([0], "guest", [0], "pw\x01"));
    expect(!structured.ok && structured.claimedLogin).toBe("guest");
    const unstructured = decodePlainResponse(bytes("guest", [0], "secret"));
    expect(!unstructured.ok && unstructured.claimedLogin).toBeUndefined();
  });

  it("never throws and never quotes the password, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (response) => {
        const decoded = decodePlainResponse(response);
        if (!decoded.ok) expect(decoded.problem).toMatch(/^the (response|login|password|authorization identity) /);
      }),
      { numRuns: 2000 },
    );
  });
});
