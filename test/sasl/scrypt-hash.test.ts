/** The stored password form `scrypt$N$r$p$salt$key`: creation, verification, preparation and refusals. */
import { describe, expect, it } from "vitest";
import { SaslConfigError, SaslCredentialError, hashPassword, verifyPassword } from "../../protocols/sasl/index.js";
import { formatStoredHash, parseStoredHash } from "../../protocols/sasl/scrypt-hash.js";
import { FAST, rejection } from "./support.js";

const STORED = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

describe("hashPassword", () => {
  it("writes N=16384 r=8 p=1, a 16-octet salt and a 32-octet key by default", async () => {
    const stored = await hashPassword("correct horse");
    const match = STORED.exec(stored);
    expect(match?.slice(1, 4)).toEqual(["16384", "8", "1"]);
    expect(Buffer.from(match?.[4] ?? "", "base64")).toHaveLength(16);
    expect(Buffer.from(match?.[5] ?? "", "base64")).toHaveLength(32);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsE", stored)).toBe(false);
  });

  it("draws a new salt every time", async () => {
    const [a, b] = await Promise.all([hashPassword("same", FAST), hashPassword("same", FAST)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword("same", a)).toBe(true);
    expect(await verifyPassword("same", b)).toBe(true);
  });

  it("hashes the prepared password, so equivalent spellings verify", async () => {
    const stored = await hashPassword("pass\u00a0ｗｏｒｄ", FAST);
    expect(await verifyPassword("pass word", stored)).toBe(true);
    expect(await verifyPassword(Buffer.from("pass\u2003word"), stored)).toBe(true);
    expect(await verifyPassword("password", stored)).toBe(false);
  });

  it("refuses passwords PLAIN could never carry, without quoting them", async () => {
    for (const password of ["", "x".repeat(256), "tab\there", "nul\0", Buffer.from([0xff, 0x41])]) {
      const error = await rejection(hashPassword(password, FAST));
      expect(error).toBeInstanceOf(SaslCredentialError);
      expect(error.message).toMatch(/^The password /);
      if (typeof password === "string" && password.length > 3) expect(error.message).not.toContain(password.slice(0, 3));
    }
  });

  it("refuses unusable parameters", async () => {
    for (const params of [{ N: 1000, r: 8, p: 1 }, { N: 1, r: 8, p: 1 }, { N: 2 ** 21, r: 8, p: 1 }, { N: 1024, r: 0, p: 1 }, { N: 1024, r: 8, p: 17 }, { N: 2 ** 20, r: 8, p: 1 }]) {
      expect(await rejection(hashPassword("pw", params))).toBeInstanceOf(SaslConfigError);
    }
  });
});

describe("verifyPassword", () => {
  it("verifies RFC 7914 test vector 3 written in the stored form", async () => {
    const key =
      "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887";
    const stored = `scrypt$16384$8$1$${Buffer.from("SodiumChloride").toString("base64")}$${Buffer.from(key, "hex").toString("base64")}`;
    expect(await verifyPassword("pleaseletmein", stored)).toBe(true);
    expect(await verifyPassword("pleaseletmeim", stored)).toBe(false);
  });

  it("does not match a password PLAIN could never carry", async () => {
    const stored = await hashPassword("pw", FAST);
    expect(await verifyPassword("", stored)).toBe(false);
    expect(await verifyPassword("pw\n", stored)).toBe(false);
  });

  it("refuses stored forms it cannot read, naming the problem but never the value", async () => {
    const cases: [string, RegExp][] = [
      ["bcrypt$2b$10$abcdefghijklmnopqrstuv", /unknown algorithm prefix "bcrypt\$"/],
      ["hunter2", /unknown algorithm prefix;/],
      ["scrypt$16384$8$1$c2FsdHNhbHQ=", /5 "\$"-separated fields/],
      ["scrypt$16384$8$x$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5", /positive decimal/],
      ["scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5", /power of two/],
      ["scrypt$1024$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", /not standard base64/],
      ["scrypt$1024$8$1$c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5", /salt of 4 octets/],
      ["scrypt$1024$8$1$c2FsdHNhbHQ=$a2V5a2V5", /key of 6 octets/],
    ];
    for (const [stored, problem] of cases) {
      const error = await rejection(verifyPassword("pw", stored));
      expect(error).toBeInstanceOf(SaslConfigError);
      expect(error.message).toMatch(problem);
      expect(error.message).not.toContain("hunter2");
    }
  });

  it("reads back what it writes", async () => {
    const stored = await hashPassword("pw", { N: 2048, r: 4, p: 2 });
    const parsed = parseStoredHash(stored);
    expect(typeof parsed === "string" ? parsed : formatStoredHash(parsed)).toBe(stored);
    expect(typeof parsed !== "string" && [parsed.N, parsed.r, parsed.p]).toEqual([2048, 4, 2]);
  });
});
