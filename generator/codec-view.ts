/**
 * Prepares a codec IR for the codec template: for every field, which runtime primitive encodes, sizes and
 * decodes it, its TypeScript type and its unset value. The template only lays these out.
 */
import type { CodecIR, FieldIR, MessageIR } from "./ir.js";
import { docLines, docSingle, tsLiteral } from "./literal.js";
import { upperSnake } from "./names.js";

const TS_TYPES: Record<FieldIR["type"], string> = {
  number: "number", octets: "Uint8Array", string: "string", longstr: "string", strings: "string[]", hash: "Map<string, string>",
  chunk: "Uint8Array", uuid: "Uint8Array", frame: "Uint8Array", msg: "Uint8Array[]", dictionary: "Map<string, string>", shortstrings: "string[]",
};

/** Runtime names of the sizing check, writer method and reader method of variable-size body fields. */
const SIZED: Partial<Record<FieldIR["type"], { sizer: string; method: string }>> = {
  string: { sizer: "stringSize", method: "string" },
  longstr: { sizer: "longstrSize", method: "longstr" },
  strings: { sizer: "stringsSize", method: "strings" },
  hash: { sizer: "hashSize", method: "hash" },
  shortstrings: { sizer: "shortstringsSize", method: "shortstrings" },
  dictionary: { sizer: "dictionarySize", method: "dictionary" },
  chunk: { sizer: "chunkSize", method: "chunk" },
};

/** Identifiers the generated encoders and decoders use themselves; field locals must not shadow them. */
const LOCAL_NAMES_IN_USE = new Set(["msg", "writer", "reader", "size", "frames", "fields", "id", "topic", "Buffer"]);

function tsType(field: FieldIR): string {
  return field.type === "number" && field.size === 8 ? "bigint" : TS_TYPES[field.type];
}

/** TypeScript expression of a field's unset value (`spec/wire.md` §3). */
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
    sizer: sized?.sizer ?? "",
    method: sized?.method ?? "",
  };
}

type FieldView = ReturnType<typeof fieldView>;

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
    idHex: `0x${message.id.toString(16).padStart(2, "0")}`,
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
    locals: body.filter((field) => field.isSized || (field.isFixedBytes && field.settable)),
    sized: body.filter((field) => field.isSized),
    body,
    frames,
    hasMsg: frames.some((field) => field.isMsg),
    frameCount: frames.length + 1,
    fixedOctets,
    ownFields: own,
    ownConstants: own.filter((field) => !field.settable && field.isConstString),
  };
}

/** Everything the codec template shows. */
export function codecView(model: CodecIR, options: { runtimeImport: string }) {
  const messages = model.messages.map((message) => messageView(message, model));
  const header: FieldView[] = model.framing === "frames" ? messages[0].fields.slice(0, model.headerFields) : [];
  // Every settable field of the protocol once: a field name has one type in a model, so this is well typed.
  const allFields = new Map<string, FieldView>();
  for (const message of messages) for (const field of message.settable) if (!allFields.has(field.key)) allFields.set(field.key, field);
  return {
    source: model.source,
    runtimeImport: options.runtimeImport,
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
    isBinary: model.framing === "binary",
    isPubsub: model.framing === "pubsub",
    isFrames: model.framing === "frames",
    hasCommand: model.framing !== "frames" || model.command === "frame",
    defines: model.defines.map((define) => ({
      ...define, literal: tsLiteral(define.value), docLines: docLines(define.doc), docSingle: docSingle(define.doc, 0),
    })),
    messages,
    onlyMessage: messages[0],
    header,
    schemaLiteral: "",
  };
}

export type CodecView = ReturnType<typeof codecView>;
