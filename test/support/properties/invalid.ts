/**
 * Values the wire cannot carry, per field type, each with the `EncodeError` kind(s) `spec/wire.md` §10
 * assigns to it. Every invalid value breaks exactly one rule, so the expected kind is determined (the
 * spec does not order its checks, so values that break two rules at once would make the test guess).
 */
import fc from "fast-check";
import type { EncodeKind } from "../../../runtime/wire/errors.js";
import type { FieldSchema } from "../../../runtime/wire/schema.js";
import { boundedText, codePoint, fitOctets, maxOf, utf8Octets } from "./arbitraries.js";

/** Categories of refusal, one test each so that one bug cannot hide another. */
export type Category =
  | "number out of range"
  | "number of the wrong type"
  | "octets/uuid of the wrong length"
  | "text over its octet limit"
  | "text with NUL or a lone surrogate"
  | "dictionary entry without a proper key"
  | "too many items for a 1-octet count"
  | "msg with fewer frames than its minimum"
  | "bytes, lists and maps of the wrong type"
  | "null instead of a value";

/** An invalid value for one field and the kinds an encoder may report for it. */
export interface Invalid {
  readonly value: unknown;
  readonly kinds: readonly EncodeKind[];
  /** What the value is, for failure messages (fast-check prints the rest). */
  readonly why: string;
}

const invalid = (kinds: readonly EncodeKind[], why: string) => (value: unknown): Invalid => ({ value, kinds, why });

/** Text of 256..300 octets: just over the 1-octet limit, with multi-octet characters at the cut. */
const overlongText: fc.Arbitrary<string> = fc
  .tuple(fc.string({ unit: codePoint, minLength: 300, maxLength: 300 }), fc.integer({ min: 256, max: 300 }))
  .map(([text, limit]) => fitOctets(text, limit))
  .filter((text) => utf8Octets(text) > 255);

/**
 * Text that cannot travel: a NUL or a lone surrogate (high or low) spliced into valid text. Base texts reach
 * 200 code points so both the short-text loop and the long-text path of the encoder are exercised; the
 * result stays within 255 octets so that only the text rule is broken.
 */
export const badText: fc.Arbitrary<string> = fc
  .tuple(boundedText(200), fc.constantFrom("\0", "\ud800", "\udbff", "\udc00", "\udfff"), fc.nat())
  .map(([text, bad, at]) => {
    const units = [...text];
    units.splice(at % (units.length + 1), 0, bad);
    return units.join("");
  })
  .filter((text) => utf8Octets(text) <= 255);

const goodShortText = boundedText(40);

function numberCases(size: number): Partial<Record<Category, fc.Arbitrary<Invalid>>> {
  if (size === 8) {
    const max = maxOf(8);
    return {
      "number out of range": fc.oneof(
        fc.bigInt({ min: -(1n << 80n), max: -1n }).map(invalid(["OutOfRange"], "negative bigint")),
        fc.bigInt({ min: max + 1n, max: 1n << 80n }).map(invalid(["OutOfRange"], "bigint over 2^64-1")),
        // A number is accepted only as a safe non-negative integer; §10 lists OutOfRange/BadType for the
        // row without saying which of the two a negative or unsafe number gets, so either is right.
        fc.integer({ min: -(2 ** 31), max: -1 }).map(invalid(["OutOfRange", "BadType"], "negative number")),
        fc.constantFrom(2 ** 53, 2 ** 53 + 2, 2 ** 60, 2 ** 64, Number.MAX_VALUE).map(invalid(["OutOfRange", "BadType"], "number beyond 2^53")),
      ),
      "number of the wrong type": fc
        .constantFrom<unknown>(1.5, -0.25, Number.NaN, Number.POSITIVE_INFINITY, "1", true, [1], {}, Buffer.alloc(8))
        .map(invalid(["BadType"], "not a bigint nor a safe integer")),
    };
  }
  const max = Number(maxOf(size));
  return {
    "number out of range": fc.oneof(
      fc.integer({ min: 1, max: 1 << 20 }).map((n) => max + n).map(invalid(["OutOfRange"], `integer over ${max}`)),
      fc.integer({ min: -(2 ** 31), max: -1 }).map(invalid(["OutOfRange"], "negative integer")),
      fc.constantFrom(2 ** 32, 2 ** 53, 2 ** 60).map(invalid(["OutOfRange"], "large integer")),
    ),
    "number of the wrong type": fc.oneof(
      fc.integer({ min: 0, max: Math.min(max, 2 ** 30) - 1 }).map((n) => n + 0.5).map(invalid(["BadType"], "non-integer")),
      fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "1", true, [1], {})
        .map(invalid(["BadType"], "not a number")),
      // A bigint is the size-8 type; for a narrow field it is the wrong type, not a value to convert.
      fc.bigInt({ min: 0n, max: BigInt(max) }).map(invalid(["BadType"], "bigint for a number of size 1/2/4")),
    ),
  };
}

function bytesOfWrongLength(width: number): fc.Arbitrary<Invalid> {
  return fc
    .integer({ min: 0, max: width + 8 })
    .filter((length) => length !== width)
    .chain((length) => fc.uint8Array({ minLength: length, maxLength: length }))
    .map(invalid(["BadLength"], `not exactly ${width} octets`));
}

const notBytes = fc.constantFrom<unknown>("00ff", [0, 255], 7, new Map()).map(invalid(["BadType"], "not a Uint8Array"));
const notList = fc.constantFrom<unknown>("a", new Set(["a"]), { 0: "a", length: 1 }, 7).map(invalid(["BadType"], "not an array"));
const notMap = fc.constantFrom<unknown>([["a", "b"]], { a: "b" }, "a=b").map(invalid(["BadType"], "not a Map"));

/**
 * `null` for any field. The TypeScript API spells "unset" as a missing property (`Draft` is a `Partial`);
 * `null` means unset only in the JSON form (§11), which `fromJSON` turns into a missing property. Read
 * strictly, `null` in a draft is a value of the wrong type (`BadType`); the property that uses it also
 * accepts "treated as unset", as long as both implementations agree.
 */
const nullValue: fc.Arbitrary<Invalid> = fc.constant(null).map(invalid(["BadType"], "null"));

/** The category of {@link nullValue}: tested on its own, because §10 leaves its meaning open. */
export const NULL_CATEGORY: Category = "null instead of a value";

/** Invalid values for one field, by category; categories that do not apply to the field are absent. */
export function invalidValues(field: FieldSchema): Partial<Record<Category, fc.Arbitrary<Invalid>>> {
  return { ...invalidByType(field), [NULL_CATEGORY]: nullValue };
}

function invalidByType(field: FieldSchema): Partial<Record<Category, fc.Arbitrary<Invalid>>> {
  switch (field.type) {
    case "number":
      return numberCases(field.size ?? 1);
    case "octets":
      return { "octets/uuid of the wrong length": bytesOfWrongLength(field.size ?? 0), "bytes, lists and maps of the wrong type": notBytes };
    case "uuid":
      return { "octets/uuid of the wrong length": bytesOfWrongLength(16), "bytes, lists and maps of the wrong type": notBytes };
    case "string":
      return {
        "text over its octet limit": overlongText.map(invalid(["TooLong"], "string over 255 octets")),
        "text with NUL or a lone surrogate": badText.map(invalid(["InvalidText"], "NUL or lone surrogate")),
        "bytes, lists and maps of the wrong type": fc.constantFrom<unknown>(7, Buffer.from("x"), ["x"]).map(invalid(["BadType"], "not a string")),
      };
    case "longstr":
      return {
        "text with NUL or a lone surrogate": badText.map(invalid(["InvalidText"], "NUL or lone surrogate")),
        "bytes, lists and maps of the wrong type": fc.constantFrom<unknown>(7, Buffer.from("x")).map(invalid(["BadType"], "not a string")),
      };
    case "strings":
      return {
        "text with NUL or a lone surrogate": fc.tuple(fc.array(goodShortText, { maxLength: 3 }), badText)
          .map(([good, bad]) => [...good, bad]).map(invalid(["InvalidText"], "an item with NUL or lone surrogate")),
        "bytes, lists and maps of the wrong type": fc.oneof(notList, fc.constant(["a", 7]).map(invalid(["BadType"], "an item that is not a string"))),
      };
    case "shortstrings":
      return {
        "text over its octet limit": fc.tuple(fc.array(goodShortText, { maxLength: 3 }), overlongText)
          .map(([good, bad]) => [...good, bad]).map(invalid(["TooLong"], "an item over 255 octets")),
        "text with NUL or a lone surrogate": fc.tuple(fc.array(goodShortText, { maxLength: 3 }), badText)
          .map(([good, bad]) => [bad, ...good]).map(invalid(["InvalidText"], "an item with NUL or lone surrogate")),
        "too many items for a 1-octet count": fc.integer({ min: 256, max: 300 })
          .map((count) => Array.from({ length: count }, (_, i) => `i${i}`)).map(invalid(["TooMany"], "over 255 items")),
        "bytes, lists and maps of the wrong type": notList,
      };
    case "hash":
      return {
        "text over its octet limit": overlongText.map((key) => new Map([["a", "1"], [key, "v"]])).map(invalid(["TooLong"], "a key over 255 octets")),
        "text with NUL or a lone surrogate": fc.tuple(badText, fc.boolean())
          .map(([bad, inKey]) => new Map([inKey ? [bad, "v"] : ["k", bad]])).map(invalid(["InvalidText"], "NUL or lone surrogate in key or value")),
        "bytes, lists and maps of the wrong type": fc.oneof(
          notMap,
          fc.constantFrom<unknown>(new Map<unknown, unknown>([[7, "v"]]), new Map<unknown, unknown>([["k", 7]]))
            .map(invalid(["BadType"], "a key or value that is not a string")),
        ),
      };
    case "dictionary":
      return {
        "dictionary entry without a proper key": fc.oneof(
          fc.tuple(boundedText(40), boundedText(40), boundedText(40))
            .map(([a, b, value]) => new Map([[`${a}=${b}`, value]])).map(invalid(["InvalidEntry"], "key containing '='")),
          boundedText(40).map((value) => new Map([["", value]])).map(invalid(["InvalidEntry"], "empty key")),
        ),
        "text over its octet limit": fc.tuple(boundedText(100, codePoint.filter((c) => c !== "="), 1), overlongText)
          .map(([key, value]) => new Map([[key, fitOctets(value, 255 - utf8Octets(key) + 4)]]))
          .filter((map) => [...map].every(([k, v]) => utf8Octets(k) + 1 + utf8Octets(v) > 255))
          .map(invalid(["TooLong"], "key=value over 255 octets")),
        "text with NUL or a lone surrogate": fc.tuple(badText, fc.boolean())
          .map(([bad, inKey]) => new Map([inKey ? [bad.replaceAll("=", "") || "\0", "v"] : ["k", bad]]))
          .filter((map) => [...map].every(([k, v]) => k !== "" && utf8Octets(k) + 1 + utf8Octets(v) <= 255))
          .map(invalid(["InvalidText"], "NUL or lone surrogate in key or value")),
        "too many items for a 1-octet count": fc.integer({ min: 256, max: 300 })
          .map((count) => new Map(Array.from({ length: count }, (_, i): [string, string] => [`k${i}`, "v"]))).map(invalid(["TooMany"], "over 255 entries")),
        "bytes, lists and maps of the wrong type": notMap,
      };
    case "chunk":
    case "frame":
      return { "bytes, lists and maps of the wrong type": notBytes };
    case "msg":
      return {
        ...((field.min ?? 0) > 0
          ? {
            "msg with fewer frames than its minimum": fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: (field.min ?? 0) - 1 })
              .map(invalid(["TooFew"], `fewer than ${field.min} frames`)),
          }
          : {}),
        "bytes, lists and maps of the wrong type": fc.oneof(
          fc.constantFrom<unknown>(Buffer.from("x"), "x").map(invalid(["BadType"], "not an array of frames")),
          fc.constantFrom<unknown>(["x"], [Buffer.alloc(0), 7]).map(invalid(["BadType"], "a frame that is not a Uint8Array")),
        ),
      };
  }
}
