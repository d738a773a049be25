/**
 * Sample messages built from a model's `<test>` values (docs/models.md, "Test values and digests"), and the check of the
 * `digest` attributes computed from them: the SHA-1 of the body frame the C codec builds from those values.
 */
import { createHash } from "node:crypto";
import type { DynamicMessage } from "../runtime/wire/interpret.js";
import { encodeDynamic } from "../runtime/wire/interpret.js";
import type { CodecIR, FieldIR, MessageIR } from "./ir.js";
import { codecSchema } from "./schema.js";

const DEFAULT_TEXT = "Life is short but Now lasts for ever";
const DEFAULT_BYTES = "Captcha Diem";

/** zproto's value for a field from its `<test>` elements, or the documented default. */
function sampleValue(field: FieldIR): unknown {
  const tests = field.tests;
  const first = tests[0]?.text;
  switch (field.type) {
    case "number": {
      const value = BigInt(first ?? "123");
      return field.size === 8 ? value : Number(value);
    }
    case "string": case "longstr": return first ?? DEFAULT_TEXT;
    case "octets": return first !== undefined ? Buffer.from(first, "latin1").subarray(0, field.size) : Buffer.alloc(field.size ?? 0, 0x7b);
    case "chunk": case "frame": return Buffer.from(first ?? DEFAULT_BYTES, "latin1");
    // zproto draws a random uuid when the model gives none; a fixed one keeps samples reproducible.
    case "uuid": return first !== undefined ? Buffer.from(first.replace(/[-{}]/g, ""), "hex") : Buffer.alloc(16, 0x5a);
    case "strings": case "shortstrings": return tests.length > 0 ? tests.map((test) => test.text) : ["Name: Brutus", "Age: 43"];
    case "hash": case "dictionary": {
      const entries: [string, string][] = tests.length > 0 ? tests.map((test) => [test.name ?? "", test.text]) : [["Name", "Brutus"]];
      return new Map(field.type === "hash" ? czmqHashOrder(entries) : entries);
    }
    case "msg": return [Buffer.from(first ?? DEFAULT_BYTES, "latin1")];
  }
}

/** A message of `message` filled with the model's test values. */
export function sampleMessage(message: MessageIR): DynamicMessage {
  const sample: Record<string, unknown> = { message: message.key };
  for (const field of message.fields) if (field.value === undefined) sample[field.key] = sampleValue(field);
  return sample as DynamicMessage;
}

/** Whether the model's test values fully determine the body (zproto draws random uuids otherwise). */
function reproducible(message: MessageIR): boolean {
  return message.fields.every((field) => field.type !== "uuid" || field.tests.length > 0);
}

/** The result of checking one message's `digest`. */
export interface DigestCheck {
  readonly message: string;
  readonly expected: string;
  readonly actual: string;
  readonly ok: boolean;
}

/** Checks every reproducible `digest` attribute of a model against the body its test values encode to. */
export function checkDigests(model: CodecIR): DigestCheck[] {
  const schema = codecSchema(model);
  return model.messages.filter((message) => message.digest !== undefined && reproducible(message)).map((message) => {
    const body = encodeDynamic(schema, sampleMessage(message))[0];
    const actual = createHash("sha1").update(body).digest("hex").toUpperCase();
    return { message: message.name, expected: message.digest!, actual, ok: actual === message.digest };
  });
}

/** CZMQ's zhash string hash: h = 33·h XOR (signed char), modulo 2^32. */
function czmqHash(key: string): number {
  let hash = 0;
  for (const octet of Buffer.from(key, "utf8")) hash = (Math.imul(hash, 33) ^ ((octet << 24) >> 24)) >>> 0;
  return hash;
}

/**
 * Entries in the order a C peer iterates them after inserting them into a CZMQ zhash, which is the order
 * the C codec encodes a hash in: buckets in index order, each chain from its head, new items pushed on the
 * head, the table doubled (and re-chained) when it is three quarters full.
 */
export function czmqHashOrder(entries: readonly [string, string][]): [string, string][] {
  let limit = 255;
  let buckets: [string, string][][] = Array.from({ length: limit }, () => []);
  let size = 0;
  for (const entry of entries) {
    if (buckets.some((chain) => chain.some(([key]) => key === entry[0]))) continue;
    if (size >= Math.floor((limit * 75) / 100)) {
      const grown: [string, string][][] = Array.from({ length: limit * 2 }, () => []);
      for (const chain of buckets) for (const item of chain) grown[czmqHash(item[0]) % (limit * 2)].unshift(item);
      buckets = grown;
      limit *= 2;
    }
    buckets[czmqHash(entry[0]) % limit].unshift(entry);
    size++;
  }
  return buckets.flat();
}
