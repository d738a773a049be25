/**
 * Correctness gate run before any timing: the hand-written codec must be a fair yardstick, so it has to
 * produce the generated codec's bytes, read the generated codec's output (and vice versa), and refuse the
 * same bad input with the same error kind. The other candidates must at least round-trip the sample.
 *
 * @packageDocumentation
 */
import { decode, encode, sample, type Sample } from "../generated/bench/bench_msg.js";
import { EncodeError, MalformedError } from "../runtime/wire/errors.js";
import { decodeMsgpack, encodeMsgpack, msgpackSample } from "./candidates/msgpack.js";
import { decodeProtobuf, encodeProtobuf, fromLong, protobufSample } from "./candidates/protobuf.js";
import { decodeSample, encodeSample } from "./hand-codec.js";
import { SAMPLE_VALUES, sampleMessage } from "./sample.js";

/** Thrown when a check fails; the benchmark must not run. */
export class EquivalenceError extends Error {
  override readonly name = "EquivalenceError";
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new EquivalenceError(what);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  const left = [...a];
  const right = [...b];
  return left.every(([key, value], i) => right[i][0] === key && right[i][1] === value);
}

function sameSample(a: Sample, b: Sample): boolean {
  return a.message === b.message && a.sequence === b.sequence && a.timestamp === b.timestamp && a.flags === b.flags &&
    a.sender === b.sender && a.topic === b.topic && sameBytes(a.payload, b.payload) && sameMap(a.headers, b.headers);
}

/** The sample's frame built octet by octet from the wire description, independently of both codecs. */
function expectedFrame(message: Sample): Buffer {
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const u64 = (n: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
  const str = (s: string): Buffer => Buffer.concat([Buffer.of(Buffer.byteLength(s)), Buffer.from(s, "utf8")]);
  const long = (s: string): Buffer => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s, "utf8")]);
  return Buffer.concat([
    Buffer.of(0xaa, 0xa1, 0x01), u32(message.sequence), u64(message.timestamp), Buffer.of(message.flags),
    str(message.sender), str(message.topic), u32(message.payload.length), message.payload, u32(message.headers.size),
    ...[...message.headers].flatMap(([key, value]) => [str(key), long(value)]),
  ]);
}

/** Both codecs encode `message` to the same single frame, and each decodes the other's output back to it. */
function checkRoundTrip(message: Sample, label: string, decoded: Sample = message): void {
  const generated = encode(message);
  const hand = encodeSample(message);
  check(generated.length === 1 && hand.length === 1, `${label}: expected one frame each`);
  check(sameBytes(generated[0], hand[0]), `${label}: hand and generated frames differ:\n  ${generated[0].toString("hex")}\n  ${hand[0].toString("hex")}`);
  check(sameBytes(hand[0], expectedFrame(decoded)), `${label}: frame differs from the wire description`);
  check(sameSample(decode(hand), decoded), `${label}: generated decode of hand frames differs`);
  check(sameSample(decodeSample(generated), decoded), `${label}: hand decode of generated frames differs`);
}

/** The error kind `action` throws (of class `type`), or a description of what happened instead. */
function errorKind(action: () => unknown, type: typeof EncodeError | typeof MalformedError): string {
  try {
    action();
    return "(no error)";
  } catch (error) {
    return error instanceof type ? error.kind : `(${String(error)})`;
  }
}

function checkSameRefusal(label: string, generated: () => unknown, hand: () => unknown, type: typeof EncodeError | typeof MalformedError): void {
  const expected = errorKind(generated, type);
  const actual = errorKind(hand, type);
  check(!expected.startsWith("("), `${label}: generated codec did not refuse: ${expected}`);
  check(expected === actual, `${label}: generated refuses with ${expected}, hand with ${actual}`);
}

/** Frames that both decoders must refuse, with a label each. */
function malformedCases(frame: Buffer): Array<[string, Uint8Array[]]> {
  const cases: Array<[string, Uint8Array[]]> = [["no frames", []]];
  for (let length = 0; length < frame.length; length++) cases.push([`truncated to ${length}`, [frame.subarray(0, length)]]);
  const patched = (label: string, at: number, value: number): void => {
    const copy = Buffer.from(frame);
    copy[at] = value;
    cases.push([label, [copy]]);
  };
  patched("bad signature", 1, 0xa2);
  patched("unknown id", 2, 9);
  patched("sender length overruns", 16, 250);
  patched("NUL in sender", 17, 0);
  patched("invalid UTF-8 in sender", 18, 0xff);
  const topicAt = 17 + SAMPLE_VALUES.sender.length + 1;
  patched("bare continuation octet in topic", topicAt + 2, 0x80);
  const countAt = frame.length - 4 - (1 + 4 + 4 + 7) - (1 + 6 + 4 + 9);
  patched("hash count overruns", countAt + 3, 200);
  patched("hash count too small (trailing bytes)", countAt + 3, 1);
  patched("NUL in hash value", frame.length - 1, 0);
  cases.push(["trailing octet", [Buffer.concat([frame, Buffer.of(0)])]]);
  cases.push(["extra frame", [frame, Buffer.alloc(0)]]);
  cases.push(["Uint8Array frame with trailing octet", [new Uint8Array(Buffer.concat([frame, Buffer.of(1)]))]]);
  // A valid two-entry hash whose second key "uniu" becomes "unit" by patching its last octet (the value
  // "b" and its 4-octet length follow it).
  const duplicate = encodeSample({ ...sampleMessage(), headers: new Map([["unit", "a"], ["uniu", "b"]]) })[0];
  duplicate[duplicate.length - 1 - 4 - 1] = "t".charCodeAt(0);
  cases.push(["duplicate hash key", [duplicate]]);
  return cases;
}

/** Messages that both encoders must refuse. */
function refusedMessages(): Array<[string, Sample]> {
  const base = sampleMessage();
  const bad = (fields: Record<string, unknown>): Sample => ({ ...base, ...fields }) as Sample;
  return [
    ["sequence -1", bad({ sequence: -1 })],
    ["sequence 2^32", bad({ sequence: 2 ** 32 })],
    ["sequence 1.5", bad({ sequence: 1.5 })],
    ["sequence as string", bad({ sequence: "1" })],
    ["sequence as bigint", bad({ sequence: 1n })],
    ["flags as bigint", bad({ flags: 1n })],
    ["timestamp as string", bad({ timestamp: "1" })],
    ["flags 256", bad({ flags: 256 })],
    ["timestamp -1n", bad({ timestamp: -1n })],
    ["timestamp 2^64", bad({ timestamp: 2n ** 64n })],
    ["timestamp 1.5", bad({ timestamp: 1.5 })],
    ["NUL in sender", bad({ sender: "a\0b" })],
    ["lone surrogate in topic", bad({ topic: "x\ud800y" })],
    ["sender of 256 octets", bad({ sender: "é".repeat(128) })],
    ["sender not a string", bad({ sender: 7 })],
    ["payload not bytes", bad({ payload: "abc" })],
    ["headers not a Map", bad({ headers: { unit: "celsius" } })],
    ["hash key of 256 octets", bad({ headers: new Map([["k".repeat(256), "v"]]) })],
    ["hash value not a string", bad({ headers: new Map<string, unknown>([["k", 1]]) })],
    ["NUL in long hash value", bad({ headers: new Map([["k", "v".repeat(100) + "\0"]]) })],
  ];
}

/**
 * Runs every check; throws {@link EquivalenceError} on the first failure. Returns the number of checks
 * passed, for the record.
 */
export function checkEquivalence(): number {
  let checks = 0;
  const message = sampleMessage();
  checkRoundTrip(message, "sample");
  checks++;
  checkRoundTrip({ ...message, sender: "zürich-✓", topic: "天気/𝄞", headers: new Map([["ключ", "значение 🙂"], ["", ""]]) }, "non-ASCII");
  checkRoundTrip({ ...message, sequence: 0xffff_ffff, timestamp: 0xffff_ffff_ffff_ffffn, flags: 255, payload: Buffer.alloc(0), headers: new Map() }, "extremes");
  checkRoundTrip({ ...message, sender: "s".repeat(255), topic: "", payload: Buffer.alloc(100_000, 7), headers: new Map([["k".repeat(255), "v".repeat(70_000)]]) }, "long fields");
  // Both codecs also take a safe integer number for a 64-bit field; it decodes as a bigint.
  checkRoundTrip({ ...message, timestamp: 2 ** 53 - 1 } as unknown as Sample, "number timestamp", { ...message, timestamp: 2n ** 53n - 1n });
  // Fields left out (undefined or null) take their unset values in both.
  const unset = { message: "SAMPLE", sequence: undefined, timestamp: null, sender: null, payload: undefined, headers: null } as unknown as Sample;
  checkRoundTrip(unset, "unset fields", sample());
  checks += 5;

  const frame = encode(message)[0];
  for (const [label, frames] of malformedCases(frame)) {
    checkSameRefusal(`decode ${label}`, () => decode(frames), () => decodeSample(frames), MalformedError);
    checks++;
  }
  for (const [label, bad] of refusedMessages()) {
    checkSameRefusal(`encode ${label}`, () => encode(bad), () => encodeSample(bad), EncodeError);
    checks++;
  }

  const protobuf = decodeProtobuf(encodeProtobuf(protobufSample()));
  check(protobuf.sequence === SAMPLE_VALUES.sequence && fromLong(protobuf.timestamp) === SAMPLE_VALUES.timestamp &&
    protobuf.flags === SAMPLE_VALUES.flags && protobuf.sender === SAMPLE_VALUES.sender && protobuf.topic === SAMPLE_VALUES.topic &&
    sameBytes(protobuf.payload, SAMPLE_VALUES.payload) && sameMap(new Map(Object.entries(protobuf.headers)), new Map(SAMPLE_VALUES.headers)),
  "protobufjs does not round-trip the sample");
  const msgpack = decodeMsgpack(encodeMsgpack(msgpackSample()));
  check(msgpack.sequence === SAMPLE_VALUES.sequence && msgpack.timestamp === SAMPLE_VALUES.timestamp &&
    msgpack.flags === SAMPLE_VALUES.flags && msgpack.sender === SAMPLE_VALUES.sender && msgpack.topic === SAMPLE_VALUES.topic &&
    sameBytes(msgpack.payload, SAMPLE_VALUES.payload) && msgpack.headers instanceof Map && sameMap(msgpack.headers, new Map(SAMPLE_VALUES.headers)),
  "msgpackr does not round-trip the sample");
  checks += 2;
  return checks;
}
