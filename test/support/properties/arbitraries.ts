/**
 * fast-check arbitraries derived from a codec schema: valid values for every field type of `spec/wire.md`
 * §3 (within the limits of §10), valid messages, and a canonical form to compare messages by.
 */
import fc from "fast-check";
import type { DynamicMessage } from "../../../runtime/wire/interpret.js";
import { isSettable, type CodecSchema, type FieldSchema, type MessageSchema } from "../../../runtime/wire/schema.js";

/** UTF-8 octets of a text. */
export function utf8Octets(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The longest prefix of `text` (whole code points) that fits in `maxOctets` UTF-8 octets. */
export function fitOctets(text: string, maxOctets: number): string {
  let octets = 0;
  let end = 0;
  for (const codePoint of text) {
    const width = utf8Octets(codePoint);
    if (octets + width > maxOctets) break;
    octets += width;
    end += codePoint.length;
  }
  return text.slice(0, end);
}

/**
 * One code point of text that may travel: anything but NUL and lone surrogates. Each UTF-8 width gets its
 * own branch so that 2-, 3- and 4-octet sequences are as common as ASCII, and a few characters that matter
 * to the codecs ('=' splits dictionary entries, emoji are surrogate pairs in JS) are added explicitly.
 */
export const codePoint: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 0x7f }).map((cp) => String.fromCodePoint(cp)),
  fc.integer({ min: 0x80, max: 0x7ff }).map((cp) => String.fromCodePoint(cp)),
  fc.oneof(fc.integer({ min: 0x800, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0xffff })).map((cp) => String.fromCodePoint(cp)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
  fc.constantFrom("=", "😀", "🎉", "👍🏽", "é", "€", "\u{10ffff}", "\ufeff", "\x7f", "\x01"),
);

/** Code points without '=' (dictionary keys). */
const keyCodePoint = codePoint.filter((text) => text !== "=");

/**
 * Text of at most `maxOctets` UTF-8 octets. Mostly short, sometimes long enough to be cut to (nearly)
 * exactly the limit, which is where length-octet bugs live.
 */
export function boundedText(maxOctets: number, unit: fc.Arbitrary<string> = codePoint, minLength = 0): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.string({ unit, minLength, maxLength: 12 }) },
      // `size: "max"` spreads lengths over the whole range; the default bias would keep them near the minimum.
      { weight: 1, arbitrary: fc.string({ unit, minLength: Math.max(minLength, 40), maxLength: maxOctets, size: "max" }) },
    )
    .map((text) => fitOctets(text, maxOctets))
    .filter((text) => [...text].length >= minLength);
}

/** Text for 4-octet-length fields: may pass 255 octets, but stays small enough to keep runs fast. */
export const longText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: codePoint, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: codePoint, minLength: 60, maxLength: 300, size: "max" }) },
);

/** A list length: usually small, sometimes anything up to `max`, and `max` itself (1-octet counts of 255). */
function listLength(max: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 4 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max }) },
    { weight: 1, arbitrary: fc.constant(max) },
  );
}

function mapOf(key: fc.Arbitrary<string>, value: fc.Arbitrary<string>, maxEntries: number): fc.Arbitrary<Map<string, string>> {
  return listLength(maxEntries)
    .chain((length) => fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, minLength: length, maxLength: length }))
    .map((entries) => new Map(entries));
}

/** A `dictionary` entry: non-empty key without '=', and `key=value` within 255 octets. */
const dictionaryEntry: fc.Arbitrary<[string, string]> = fc
  .tuple(boundedText(254, keyCodePoint, 1), boundedText(254))
  .map(([key, value]): [string, string] => [key, fitOctets(value, 254 - utf8Octets(key))]);

function dictionary(): fc.Arbitrary<Map<string, string>> {
  return listLength(255)
    .chain((length) => fc.uniqueArray(dictionaryEntry, { selector: ([k]) => k, minLength: length, maxLength: length }))
    .map((entries) => new Map(entries));
}

/** The largest value of a `number` field of this size. */
export function maxOf(size: number): bigint {
  return (1n << BigInt(8 * size)) - 1n;
}

function number(size: number): fc.Arbitrary<number | bigint> {
  const max = maxOf(size);
  // Edges first: 0, the maximum and the neighbours of the sign bit catch most width and sign bugs.
  const edges = fc.constantFrom(0n, 1n, max, max - 1n, max >> 1n, (max >> 1n) + 1n);
  const value = fc.oneof(edges, fc.bigInt({ min: 0n, max }));
  return size === 8 ? value : value.map((big) => Number(big));
}

function bytes(minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength, maxLength });
}

/** A valid value for a settable field. */
export function fieldValue(field: FieldSchema): fc.Arbitrary<unknown> {
  switch (field.type) {
    case "number": return number(field.size ?? 1);
    case "octets": return bytes(field.size ?? 0, field.size ?? 0);
    case "uuid": return bytes(16, 16);
    case "string": return boundedText(255);
    case "longstr": return longText;
    case "strings": return listLength(8).chain((length) => fc.array(longText, { minLength: length, maxLength: length }));
    case "hash": return mapOf(boundedText(255), longText, 8);
    case "shortstrings": return listLength(255).chain((length) => fc.array(boundedText(255), { minLength: length, maxLength: length }));
    case "dictionary": return dictionary();
    case "chunk": return fc.oneof(bytes(0, 8), bytes(0, 300));
    case "frame": return fc.oneof(bytes(0, 8), bytes(0, 300));
    case "msg": return fc.array(fc.oneof(bytes(0, 0), bytes(0, 40)), { minLength: field.min ?? 0, maxLength: Math.max(4, field.min ?? 0) });
  }
}

/** The settable fields of a message (constants are written by the codec, never by the caller). */
export function settableFields(message: MessageSchema): FieldSchema[] {
  return message.fields.filter(isSettable);
}

/**
 * A valid message with every settable field set (`complete`), or with an arbitrary subset set and the rest
 * left out, so that it encodes with the unset values of `spec/wire.md` §3.
 */
export function messageValue(message: MessageSchema, complete = true): fc.Arbitrary<DynamicMessage> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of settableFields(message)) model[field.key] = fieldValue(field);
  const record = complete ? fc.record(model) : fc.record(model, { requiredKeys: [] });
  return record.map((fields): DynamicMessage => ({ ...fields, message: message.key }));
}

/** A valid message of any message of the schema. */
export function anyMessage(schema: CodecSchema, complete = true): fc.Arbitrary<DynamicMessage> {
  return fc.oneof(...schema.messages.map((message) => messageValue(message, complete)));
}

/** A value as a comparable tree: keeps the distinctions a decoder must get right (bigint vs number, Map order, bytes). */
export type Canonical = string | number | boolean | null | Canonical[] | { [key: string]: Canonical };

/**
 * Canonical form of a field value. Bytes become hex whatever their class (a decoder returns Buffer views,
 * tests build plain Uint8Arrays), but a bigint never equals a number and a Map never equals an array.
 */
export function canonical(value: unknown): Canonical {
  if (value === undefined) return { undefined: true };
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return { bigint: value.toString() };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [canonical(k), canonical(v)]) };
  if (Array.isArray(value)) return value.map(canonical);
  return { other: Object.prototype.toString.call(value) };
}

/** A message reduced to its discriminant and settable fields, in canonical form. */
export function canonicalMessage(schema: CodecSchema, message: DynamicMessage): Canonical {
  const found = schema.messages.find((candidate) => candidate.key === message.message);
  if (found === undefined) return { unknownMessage: message.message };
  const result: { [key: string]: Canonical } = { message: message.message };
  for (const field of settableFields(found)) result[field.key] = canonical(message[field.key]);
  return result;
}

/** Hex of every frame: the form in which frame lists are compared and reported. */
export function hexFrames(frames: readonly Uint8Array[]): string[] {
  return frames.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("hex"));
}
