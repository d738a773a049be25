/**
 * Prepares a codec IR for the codec template: for every field, which runtime primitive encodes, sizes and
 * decodes it, its TypeScript type and its unset value. The template only lays these out.
 */
import { zplMessageName } from "../runtime/wire/zpl-form.js";
import { codecSchema } from "./schema.js";
import type { CodecIR, FieldIR, MessageIR } from "./ir.js";
import { docLines, docSingle, tsLiteral } from "./literal.js";
import { upperSnake } from "./names.js";

const TS_TYPES: Record<FieldIR["type"], string> = {
  number: "number", octets: "Uint8Array", string: "string", longstr: "string", strings: "string[]", hash: "Map<string, string>",
  chunk: "Uint8Array", uuid: "Uint8Array", frame: "Uint8Array", msg: "Uint8Array[]", dictionary: "Map<string, string>", shortstrings: "string[]",
};

/**
 * Runtime functions that check and bound, write and read each variable-size body field type, and whether
 * the writer needs the message site and field name (for errors it can still find while copying text).
 */
const SIZED: Partial<Record<FieldIR["type"], { bound: string; write: string; writeChecks: boolean; read: string }>> = {
  string: { bound: "stringBound", write: "writeString", writeChecks: true, read: "readString" },
  longstr: { bound: "longstrBound", write: "writeLongstr", writeChecks: true, read: "readLongstr" },
  strings: { bound: "stringsBound", write: "writeStrings", writeChecks: true, read: "readStrings" },
  hash: { bound: "hashBound", write: "writeHash", writeChecks: true, read: "readHash" },
  shortstrings: { bound: "shortstringsBound", write: "writeShortstrings", writeChecks: true, read: "readShortstrings" },
  dictionary: { bound: "dictionaryBound", write: "writeDictionary", writeChecks: false, read: "readDictionary" },
  chunk: { bound: "chunkBound", write: "writeChunk", writeChecks: false, read: "readChunk" },
};

/** Runtime values a generated codec may use (emit-codec imports those it does). */
export const RUNTIME_VALUES = [
  "FrameReader", "binaryBody", "chunkBound", "dictionaryBound", "endOfBody", "fixedBytes", "fixedFrame", "frameField",
  "frameValue", "fromJsonForm", "fromRouterFrames", "fromZplForm", "fromZplFormRouted", "hashBound", "isNumber1", "isNumber2",
  "isNumber4", "isNumber8", "longstrBound", "msgValue", "noMoreFrames", "numberError", "numberFrame", "printZplForm", "pubsubBody",
  "readChunk", "readConstantNumber", "readConstantString", "readDictionary", "readEnd", "readHash", "readLongstr", "readNumber1",
  "readNumber2", "readNumber4", "readNumber8", "readOctets", "readShortstrings", "readString", "readStrings", "readSubscription", "readTopic",
  "reserveFrame", "reservedOffset", "reservedView", "restFrames", "setNumber8", "shortstringsBound", "stringBound", "stringsBound",
  "subscriptionPrefix", "takeFrame", "textFrame", "toJsonForm", "toRouterFrames", "toZplForm", "topicBound", "unknownId",
  "unknownMessage", "writeChunk", "writeDictionary", "writeHash", "writeHeader", "writeLongstr", "writeOctets",
  "writeShortstrings", "writeString", "writeStrings", "writeTopicHeader",
];

/**
 * Identifiers the generated encoders and decoders use themselves, runtime functions included; field
 * locals must not shadow them.
 */
const LOCAL_NAMES_IN_USE = new Set([
  "msg", "buffer", "view", "start", "at", "bound", "body", "frames", "fields", "id", "topic", "Buffer", "Map", ...RUNTIME_VALUES,
]);

function tsType(field: FieldIR): string {
  return field.type === "number" && field.size === 8 ? "bigint" : TS_TYPES[field.type];
}

/** TypeScript expression of a field's unset value (docs/wire.md, "Field encodings"). */
function unsetExpression(field: FieldIR): string {
  switch (field.type) {
    case "number": return field.size === 8 ? "0n" : "0";
    case "octets": return `Buffer.alloc(${field.size})`;
    case "uuid": return "Buffer.alloc(16)";
    case "string": case "longstr": return '""';
    case "strings": case "shortstrings": return "[]";
    case "hash": case "dictionary": return "new Map()";
    case "chunk": case "frame": return "Buffer.alloc(0)";
    case "msg": return "[Buffer.alloc(0)]";
  }
}

function widthOf(field: FieldIR): number {
  return field.type === "uuid" ? 16 : field.size ?? 0;
}

function fieldDoc(field: FieldIR): string[] {
  const lines = docLines(field.doc);
  if (field.secret) lines.push(lines.length > 0 ? "" : "Secret.", "Never printed: traces and logs show it redacted.");
  return lines;
}

/** What the template needs of one field. */
function fieldView(field: FieldIR, message: MessageIR, model: CodecIR) {
  const constant = field.value !== undefined;
  const sized = SIZED[field.type];
  return {
    name: field.name,
    key: field.key,
    local: LOCAL_NAMES_IN_USE.has(field.key) ? `${field.key}Field` : field.key,
    renamed: LOCAL_NAMES_IN_USE.has(field.key),
    docLines: fieldDoc(field),
    docSingle: field.secret ? "" : docSingle(field.doc, 2),
    tsType: tsType(field),
    unset: unsetExpression(field),
    size: field.size,
    /** Bits of a `number` field: the DataView method that writes it is `setUint<bits>`. */
    bits: (field.size ?? 0) * 8,
    isNumber8: field.type === "number" && field.size === 8,
    width: widthOf(field),
    min: field.min ?? 0,
    literal: constant ? tsLiteral(field.value) : "",
    constName: constant ? `${upperSnake(message.key)}_${upperSnake(field.name)}` : "",
    headerConstName: constant ? `HEADER_${upperSnake(field.name)}` : "",
    maxOctets: field.type === "string" ? 255 : 0xffffffff,
    settable: !constant,
    isConstNumber: constant && field.type === "number",
    isConstString: constant && field.type === "string",
    isNumber: !constant && field.type === "number",
    isSized: !constant && sized !== undefined && !(model.framing === "frames"),
    isText: !constant && (field.type === "string" || field.type === "longstr"),
    isFixedBytes: field.type === "octets" || field.type === "uuid",
    isBytes: field.type === "frame" || field.type === "chunk",
    isFrame: field.type === "frame",
    isMsg: field.type === "msg",
    bound: sized?.bound ?? "",
    write: sized?.write ?? "",
    writeChecks: sized?.writeChecks ?? false,
    read: sized?.read ?? "",
    /** Octets of a body field whose width does not depend on its value, or undefined. */
    fixedWidth: fixedWidthOf(field),
  };
}

type FieldView = ReturnType<typeof fieldView>;

function fixedWidthOf(field: FieldIR): number | undefined {
  switch (field.type) {
    case "number": return field.size;
    case "octets": case "uuid": return widthOf(field);
    case "string": return field.value !== undefined ? 1 + Buffer.byteLength(String(field.value), "utf8") : undefined;
    default: return undefined;
  }
}

/**
 * Where a decoder reads each body field: a literal offset while every field before it has a fixed width,
 * then `at` (the offset after the last variable-size field, from `readEnd()`) plus the widths since. After
 * each variable-size field the decoder takes `readEnd()` into `at`: declared at the first one (`const` when
 * no other follows), assigned at later ones. `start` says where the body starts: a literal offset, or
 * `"at"` when `at` was already declared (after a pubsub topic).
 */
function decodeLayout(body: readonly FieldView[], start: number | "at") {
  let base: "at" | null = start === "at" ? "at" : null;
  let delta = start === "at" ? 0 : start;
  const offsetHere = (): string => (base === null ? String(delta) : delta === 0 ? "at" : `at + ${delta}`);
  const fields = body.map((field, i) => {
    const offset = offsetHere();
    let resume = "";
    if (field.fixedWidth === undefined) {
      const anotherFollows = body.slice(i + 1).some((later) => later.fixedWidth === undefined);
      resume = base === null ? `${anotherFollows ? "let" : "const"} at = readEnd();` : "at = readEnd();";
      base = "at";
      delta = 0;
    } else {
      delta += field.fixedWidth;
    }
    return { ...field, offset, resume };
  });
  return { fields, end: offsetHere() };
}

/**
 * Where an encoder writes each body field, as {@link decodeLayout} for decoders: `start` plus the widths so
 * far, then `at` (the offset a variable-size field's writer returned) plus the widths since. `assign` is
 * what takes a writer's offset into `at`: a declaration at the first one (`const` when no other follows),
 * an assignment after. A pubsub encoder declares `at` with its header (`headerAssign`).
 */
function encodeLayout(body: readonly FieldView[], pubsub: boolean) {
  const variable = (field: FieldView): boolean => field.fixedWidth === undefined;
  let base = pubsub ? "at" : "start";
  let delta = pubsub ? 0 : 3;
  let declared = pubsub;
  const offsetHere = (): string => (delta === 0 ? base : `${base} + ${delta}`);
  const fields = body.map((field, i) => {
    const offset = offsetHere();
    let assign = "";
    if (variable(field)) {
      const anotherFollows = body.slice(i + 1).some(variable);
      assign = declared ? "at = " : `${anotherFollows ? "let" : "const"} at = `;
      declared = true;
      base = "at";
      delta = 0;
    } else {
      delta += field.fixedWidth ?? 0;
    }
    return { ...field, offset, assign };
  });
  return { fields, end: offsetHere(), headerAssign: body.some(variable) ? "let at = " : "const at = " };
}

function messageView(message: MessageIR, model: CodecIR) {
  const fields = message.fields.map((field) => fieldView(field, message, model));
  const body = fields.filter((field) => !field.isFrame && !field.isMsg);
  const extraFrames = fields.filter((field) => field.isFrame || field.isMsg);
  // The body frame's octets that do not depend on values: header, numbers, constants, fixed-width bytes.
  const headerOctets = model.framing === "pubsub" ? 1 : 3;
  const fixedOctets = headerOctets + body.reduce((sum, field) => {
    if (field.isNumber || field.isConstNumber) return sum + (field.size ?? 1);
    if (field.isConstString) return sum + 1 + Buffer.byteLength(String(message.fields.find((f) => f.name === field.name)!.value), "utf8");
    if (field.isFixedBytes) return sum + field.width;
    return sum;
  }, 0);
  // After a pubsub topic, `at` holds the offset past its NUL (`let` when a variable-size field moves it on).
  const pubsubAt = body.length === 0 ? "" : body.some((field) => field.fixedWidth === undefined) ? "let" : "const";
  const decode = decodeLayout(body, model.framing === "pubsub" ? (body.length === 0 ? 0 : "at") : 3);
  const encode = encodeLayout(body, model.framing === "pubsub");
  let frameIndex = 1;
  const frames = extraFrames.map((field) => ({ ...field, frameIndex: frameIndex++ }));
  const own = fields.slice(model.framing === "frames" ? model.headerFields : 0);
  return {
    name: message.name,
    key: message.key,
    typeName: message.typeName,
    functionName: message.functionName,
    constName: message.constName,
    id: message.id,
    site: `${upperSnake(message.key)}_SITE`,
    commandConst: `${upperSnake(message.key)}_COMMAND`,
    docLines: docLines(message.doc),
    docSingle: docSingle(message.doc, 0),
    fields,
    settable: fields.filter((field) => field.settable),
    /** Whether the encoder reads the message at all (a message of constants only does not). */
    usesMessage: model.framing === "pubsub" || fields.some((field) => field.settable),
    /** Whether the encoder needs its site (for errors): binary writers always do, frame encoders for values. */
    usesSite: model.framing !== "frames" || own.some((field) => field.settable || field.isConstNumber),
    constants: fields.filter((field) => field.isConstString),
    /** Body fields the encoder reads into locals before checking anything, in wire order. */
    locals: body.filter((field) => field.isSized || field.isNumber || (field.isFixedBytes && field.settable)),
    /** Number fields, which the encoder checks before it bounds the frame. */
    numbers: body.filter((field) => field.isNumber),
    /** Body fields with the offset expression each is written at and what takes the offset after it. */
    encodeBody: encode.fields,
    /** Offset expression of the end of the body, for `takeFrame`. */
    encodeEnd: encode.end,
    /** How a pubsub encoder declares `at` with the offset after its header. */
    encodeHeaderAssign: encode.headerAssign,
    /** Whether the encoder writes through the frame's DataView (signature, id, numbers). */
    usesView: model.framing !== "pubsub" || body.some((field) => field.isNumber || field.isConstNumber),
    sized: body.filter((field) => field.isSized),
    body,
    /** Body fields with the offset expression each is decoded at and the statement that follows it. */
    decodeBody: decode.fields,
    /** Offset expression of the end of the body, for `endOfBody`. */
    decodeEnd: model.framing === "pubsub" && body.length === 0 ? "readEnd()" : decode.end,
    /** `let` or `const` for the `at` a pubsub decoder declares after the topic; empty when there are no body fields. */
    pubsubAt,
    frames,
    hasMsg: frames.some((field) => field.isMsg),
    frameCount: frames.length + 1,
    fixedOctets,
    ownFields: own,
    ownConstants: own.filter((field) => !field.settable && field.isConstString),
  };
}

/** The sentence saying which fields `{ redact: true }` hides from the ZPL form, or "" when none are secret. */
function redactNote(model: CodecIR): string {
  const secret = [...new Set(model.messages.flatMap((message) => message.fields.filter((field) => field.secret).map((field) => `\`${field.name}\``)))];
  if (secret.length === 0) return "";
  const names = secret.length === 1 ? secret[0] : `${secret.slice(0, -1).join(", ")} and ${secret[secret.length - 1]}`;
  return `With \`{ redact: true }\` (for logs) the secret field${secret.length === 1 ? "" : "s"} ${names} print${secret.length === 1 ? "s" : ""} as \`<redacted>\`.`;
}

/** Everything the codec template shows. */
export function codecView(model: CodecIR) {
  const messages = model.messages.map((message) => messageView(message, model));
  const schema = codecSchema(model);
  const header: FieldView[] = model.framing === "frames" ? messages[0].fields.slice(0, model.headerFields) : [];
  // Every settable field of the protocol once: a field name has one type in a model, so this is well typed.
  const allFields = new Map<string, FieldView>();
  for (const message of messages) for (const field of message.settable) if (!allFields.has(field.key)) allFields.set(field.key, field);
  return {
    source: model.source,
    fieldsName: `${model.unionName}Fields`,
    allFields: [...allFields.values()],
    title: model.title,
    docLines: docLines(model.doc),
    licenseLines: docLines(model.license),
    model: model.className,
    unionName: model.unionName,
    draftName: `${model.unionName}Draft`,
    signature: model.signature,
    signatureByte: `0x${(0xa0 | model.signature).toString(16)}`,
    /** The two signature octets as one big-endian 16-bit number. */
    signatureWord: `0x${(0xaaa0 | model.signature).toString(16)}`,
    isBinary: model.framing === "binary",
    isPubsub: model.framing === "pubsub",
    isFrames: model.framing === "frames",
    hasCommand: model.framing !== "frames" || model.command === "frame",
    defines: model.defines.map((define) => ({
      ...define, literal: tsLiteral(define.value), docLines: docLines(define.doc), docSingle: docSingle(define.doc, 0),
    })),
    messages,
    /** Whether any message needs a site constant for its errors. */
    anySite: messages.some((message) => message.usesSite),
    onlyMessage: messages[0],
    header,
    schemaLiteral: tsLiteral(schema),
    /** The ZPL form's `message` value of the first message, as the example in the ZPL form's TSDoc. */
    zplMessageExample: zplMessageName(schema, schema.messages[0]),
    /** What `{ redact: true }` hides, for the ZPL form's TSDoc; empty when the model has no secret fields. */
    zplRedactNote: redactNote(model),
  };
}

export type CodecView = ReturnType<typeof codecView>;
