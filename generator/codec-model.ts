/**
 * Checks a codec model and normalises it into {@link CodecIR} (docs/models.md, "Codec models"). Every problem is
 * reported with its position; the IR is returned only when there were no errors.
 */
import type { FieldType, Framing } from "../runtime/wire/schema.js";
import { checkAttributes, flagAttribute, integerAttribute, parseInteger, requiredName } from "./attributes.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import { documentation } from "./docs.js";
import type { CodecIR, DefineIR, FieldIR, MessageIR } from "./ir.js";
import { camelCase, isReservedWord, lowerSnake, pascalCase, upperSnake } from "./names.js";
import { plural } from "../runtime/wire/plural.js";
import type { ModelElement } from "./element.js";

const FIELD_TYPES: readonly FieldType[] = [
  "number", "octets", "string", "longstr", "strings", "hash", "chunk", "uuid", "frame", "msg", "dictionary", "shortstrings",
];
/** Types that cannot travel as a single frame in frame-per-field framing. */
const PACKED_ONLY: readonly FieldType[] = ["strings", "hash", "dictionary", "shortstrings"];
/** Class attributes that only steer the C generator. */
const C_ONLY = ["virtual", "use_zmq_msg", "package_dir", "source_dir", "header_ext", "source_ext", "project_header", "export_macro", "state"];
const CLASS_ATTRIBUTES = ["name", "title", "script", "signature", "pubsub", "framing", "command", ...C_ONLY];
/** Generated modules export these names; constructors must not collide with them. */
/** Runtime names a generated codec imports; message types must not collide with them. */
const RUNTIME_TYPE_NAMES = new Set(["Reader", "Writer", "FrameReader", "Codec", "CodecSchema", "Draft", "EncodeSite", "JsonMessage", "Routed",
  "EncodeError", "MalformedError", "JsonFormError", "Buffer", "Map", "Uint8Array"]);
const EXPORTED_NAMES = new Set(["encode", "decode", "schema", "codec", "commandName", "toJSON", "fromJSON", "encodeRouted", "decodeRouted", "subscription"]);

/** A field as written, before composite types are flattened. */
interface RawField {
  readonly element: ModelElement;
  readonly name: string;
  readonly header: boolean;
}

/** A field after flattening, still with its source position. */
interface PlacedField {
  readonly ir: FieldIR;
  readonly at: Location;
}

/** Builds the IR of a codec model whose root `<class>` is `root`; null when the model has errors. */
export function buildCodecModel(root: ModelElement, source: string, diagnostics: Diagnostics): CodecIR | null {
  const errorsBefore = diagnostics.errors.length;
  checkAttributes(root, CLASS_ATTRIBUTES, diagnostics);
  const nameAttribute = requiredName(root, diagnostics);
  const name = nameAttribute?.value.trim() ?? "unnamed";
  const className = lowerSnake(name);
  if (nameAttribute !== undefined && !/^[a-z_][a-z0-9_]*$/.test(className)) {
    diagnostics.error(nameAttribute.at, `class name "${name}" does not make an identifier`);
  }
  const constPrefix = upperSnake(name);
  const signature = integerAttribute(root, "signature", 0, 15, 0, diagnostics) ?? 0;
  const framing = framingOf(root, diagnostics);
  const commandAttribute = root.attributes.get("command");
  let command: "frame" | "none" = "frame";
  if (commandAttribute !== undefined) {
    if (framing !== "frames") diagnostics.error(commandAttribute.at, `command="${commandAttribute.value}" only applies to framing="frames"`);
    else if (commandAttribute.value === "none" || commandAttribute.value === "frame") command = commandAttribute.value;
    else diagnostics.error(commandAttribute.at, `command must be "frame" or "none", not "${commandAttribute.value}"`);
  }

  const types = new Map<string, ModelElement>();
  const defineElements: ModelElement[] = [];
  const messageElements: ModelElement[] = [];
  const headerFields: RawField[] = [];
  let license = "";
  let grammar: string | undefined;
  for (const child of root.children) {
    switch (child.name) {
      case "type": {
        checkAttributes(child, ["name"], diagnostics);
        const typeName = requiredName(child, diagnostics);
        if (typeName === undefined) break;
        if (types.has(lowerSnake(typeName.value))) diagnostics.error(typeName.at, `type "${typeName.value}" is defined twice`);
        types.set(lowerSnake(typeName.value), child);
        break;
      }
      case "define": defineElements.push(child); break;
      case "message": messageElements.push(child); break;
      case "header":
        for (const field of child.children) {
          if (field.name !== "field") diagnostics.error(field.at, `<${field.name}> is not allowed in <header>; only <field>`);
          else headerFields.push({ element: field, name: field.attributes.get("name")?.value ?? "", header: true });
        }
        break;
      case "license": license += (license ? "\n\n" : "") + documentation(child); break;
      case "grammar": grammar = documentation(child); break;
      default: diagnostics.error(child.at, `<${child.name}> is not part of a codec model`);
    }
  }

  const defines = buildDefines(defineElements, constPrefix, diagnostics);
  const context: FieldContext = { constPrefix, defines, types, framing, diagnostics };
  const header = headerFields.flatMap((raw) => flattenField(raw, context));
  if (framing === "frames") {
    // Header frames come before the command frame and identify the protocol, as a signature does.
    for (const field of header) {
      if (field.ir.value === undefined) diagnostics.error(field.at, `header field ${field.ir.name} must be a constant in framing="frames"`);
    }
  }
  const messages = buildMessages(messageElements, header, context);
  checkFieldConsistency(messages, diagnostics);

  if (framing === "frames" && command === "none" && messages.length !== 1) {
    diagnostics.unresolved(commandAttribute?.at ?? root.at, `a model without a command frame (command="none") has exactly one message, not ${messages.length}`);
  }
  if (messageElements.length === 0) diagnostics.unresolved(root.at, "a codec model needs at least one <message>");
  if (diagnostics.errors.length > errorsBefore) return null;

  const messageTypeNames = new Set(messages.map((message) => message.ir.typeName));
  const unionBase = pascalCase(name);
  return {
    kind: "codec",
    source,
    name,
    className,
    constPrefix,
    unionName: messageTypeNames.has(unionBase) ? `${unionBase}Message` : unionBase,
    title: root.attributes.get("title")?.value ?? "",
    doc: documentation(root),
    license,
    signature,
    framing,
    command,
    headerFields: header.length,
    defines,
    messages: messages.map((message) => message.ir),
    ...(grammar !== undefined ? { grammar } : {}),
  };
}

function framingOf(root: ModelElement, diagnostics: Diagnostics): Framing {
  const pubsub = flagAttribute(root, "pubsub", diagnostics);
  const framing = root.attributes.get("framing");
  if (framing === undefined || framing.value === "binary") return pubsub ? "pubsub" : "binary";
  if (framing.value !== "frames") {
    diagnostics.error(framing.at, `framing must be "binary" or "frames", not "${framing.value}"`);
    return "binary";
  }
  if (pubsub) diagnostics.error(framing.at, `pubsub="1" cannot be combined with framing="frames"`);
  return "frames";
}

function buildDefines(elements: readonly ModelElement[], constPrefix: string, diagnostics: Diagnostics): DefineIR[] {
  const defines: DefineIR[] = [];
  for (const element of elements) {
    checkAttributes(element, ["name", "value"], diagnostics);
    const name = requiredName(element, diagnostics);
    const value = element.attributes.get("value");
    if (name === undefined) continue;
    if (value === undefined) {
      diagnostics.error(element.at, `<define name="${name.value}"> needs a value attribute`);
      continue;
    }
    const constName = `${constPrefix}_${upperSnake(name.value)}`;
    if (defines.some((define) => define.constName === constName)) {
      diagnostics.error(name.at, `define "${name.value}" is defined twice`);
      continue;
    }
    const integer = parseInteger(value.value);
    defines.push({
      name: name.value,
      constName,
      value: integer !== null && integer <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(integer) : value.value,
      doc: documentation(element),
    });
  }
  return defines;
}

interface FieldContext {
  readonly constPrefix: string;
  readonly defines: readonly DefineIR[];
  readonly types: ReadonlyMap<string, ModelElement>;
  readonly framing: Framing;
  readonly diagnostics: Diagnostics;
}

function buildMessages(elements: readonly ModelElement[], header: readonly PlacedField[], context: FieldContext): { ir: MessageIR; fields: readonly PlacedField[]; at: Location }[] {
  const { diagnostics } = context;
  const messages: { ir: MessageIR; fields: readonly PlacedField[]; at: Location }[] = [];
  const byId = new Map<number, string>();
  const byKey = new Map<string, string>();
  const functionNames = new Set<string>();
  elements.forEach((element, position) => {
    checkAttributes(element, ["name", "id", "digest", "role"], diagnostics);
    // A message with a bad name or id is still checked through, so that one run reports every problem.
    const nameAttribute = requiredName(element, diagnostics);
    const name = nameAttribute?.value.trim() ?? `(message ${position + 1})`;
    const key = upperSnake(name);
    const idAttribute = element.attributes.get("id");
    // An omitted id is the 1-based position among all <message> siblings, as zproto assigns it.
    const id = idAttribute === undefined ? position + 1 : integerAttribute(element, "id", 1, 255, undefined, diagnostics);
    if (idAttribute === undefined && position + 1 > 255) diagnostics.error(element.at, `message ${name} is message number ${position + 1}; implicit ids stop at 255`);
    const previousId = id === undefined ? undefined : byId.get(id);
    if (previousId !== undefined) {
      const how = idAttribute === undefined ? "implicit id (its position)" : "id";
      diagnostics.error(idAttribute?.at ?? nameAttribute?.at ?? element.at, `message ${name} has ${how} ${id}, already used by message ${previousId}`);
    }
    if (id !== undefined) byId.set(id, name);
    if (nameAttribute !== undefined) {
      if (byKey.has(key)) diagnostics.error(nameAttribute.at, `message ${name} is defined twice (as ${byKey.get(key)})`);
      byKey.set(key, name);
    }
    const roleAttribute = element.attributes.get("role");
    const role = roleAttribute?.value.trim();
    if (roleAttribute !== undefined && role !== "client" && role !== "server") {
      diagnostics.error(roleAttribute.at, `role="${roleAttribute.value}" on message ${name} must be client or server (the peer that sends it)`);
    }

    const own: RawField[] = [];
    for (const child of element.children) {
      if (child.name === "field") own.push({ element: child, name: child.attributes.get("name")?.value ?? "", header: false });
      else diagnostics.error(child.at, `<${child.name}> is not allowed in <message>; only <field>`);
    }
    const fields = [...header, ...own.flatMap((raw) => flattenField(raw, context))];
    checkMessageFields(name, fields, diagnostics);
    if (nameAttribute === undefined || id === undefined) return;

    let functionName = camelCase(name);
    if (isReservedWord(functionName) || EXPORTED_NAMES.has(functionName)) functionName += "Message";
    functionNames.add(functionName);
    const digest = element.attributes.get("digest")?.value;
    messages.push({
      ir: {
        name,
        key,
        constName: `${context.constPrefix}_${key}`,
        typeName: RUNTIME_TYPE_NAMES.has(pascalCase(name)) ? `${pascalCase(name)}Message` : pascalCase(name),
        functionName,
        id,
        doc: documentation(element),
        ...(role === "client" || role === "server" ? { role } : {}),
        ...(digest !== undefined ? { digest: digest.toUpperCase() } : {}),
        fields: fields.map((field) => field.ir),
      },
      fields,
      at: nameAttribute.at,
    });
  });
  return messages;
}

function checkMessageFields(message: string, fields: readonly PlacedField[], diagnostics: Diagnostics): void {
  const seen = new Set<string>();
  fields.forEach((field, index) => {
    if (seen.has(field.ir.name)) diagnostics.error(field.at, `message ${message} has two fields named ${field.ir.name}`);
    seen.add(field.ir.name);
    if (field.ir.type === "msg" && index !== fields.length - 1) {
      diagnostics.error(field.at, `msg field ${field.ir.name} must be the last field of message ${message}`);
    }
  });
}

/** Same field name ⇒ same type and size in every message (docs/models.md, "`<field>`"). */
function checkFieldConsistency(messages: readonly { ir: MessageIR; fields: readonly PlacedField[] }[], diagnostics: Diagnostics): void {
  const first = new Map<string, { message: string; field: FieldIR }>();
  for (const message of messages) {
    for (const { ir: field, at } of message.fields) {
      if (field.header && message !== messages[0]) continue;
      const earlier = first.get(field.name);
      if (earlier === undefined) {
        first.set(field.name, { message: message.ir.name, field });
        continue;
      }
      if (earlier.field.type !== field.type) {
        diagnostics.error(at, `field ${field.name} is ${field.type} here but ${earlier.field.type} in message ${earlier.message}; a field name has one type`);
      } else if (earlier.field.size !== field.size) {
        diagnostics.error(at, `field ${field.name} has size ${field.size} here but ${earlier.field.size} in message ${earlier.message}; a field name has one size`);
      }
    }
  }
}

/** Expands one written field: itself, or the sub-fields of the composite type it names. */
function flattenField(raw: RawField, context: FieldContext): PlacedField[] {
  const { diagnostics } = context;
  const element = raw.element;
  checkAttributes(element, ["name", "type", "size", "value", "secret", "min"], diagnostics);
  const nameAttribute = requiredName(element, diagnostics);
  const typeAttribute = element.attributes.get("type");
  if (typeAttribute === undefined || typeAttribute.value.trim() === "") {
    if (nameAttribute !== undefined) diagnostics.error(nameAttribute.at, `field ${nameAttribute.value} needs a type attribute`);
    return [];
  }
  if (nameAttribute === undefined) {
    // Still check the rest of a nameless field; it joins no message.
    buildField(element, "unnamed", raw.header, false, context);
    return [];
  }
  const typeName = typeAttribute.value.trim();
  const composite = context.types.get(lowerSnake(typeName));
  if (composite === undefined) return [buildField(element, raw.name, raw.header, false, context)].filter((f): f is PlacedField => f !== null);

  for (const attribute of ["size", "value", "secret", "min"]) {
    const given = element.attributes.get(attribute);
    if (given !== undefined) diagnostics.error(given.at, `${attribute} cannot be set on field ${raw.name} of composite type ${typeName}`);
  }
  const tests = element.children.filter((child) => child.name === "test");
  const fields: PlacedField[] = [];
  for (const sub of composite.children) {
    if (sub.name !== "field") {
      diagnostics.error(sub.at, `<${sub.name}> is not allowed in <type>; only <field>`);
      continue;
    }
    const subName = sub.attributes.get("name")?.value ?? "";
    const subType = sub.attributes.get("type")?.value.trim() ?? "";
    if (context.types.has(lowerSnake(subType))) {
      diagnostics.error(sub.attributes.get("type")?.at ?? sub.at, `type ${typeName} uses composite type ${subType}; composite types cannot nest`);
      continue;
    }
    const subTests = tests.filter((test) => lowerSnake(testKey(test) ?? "") === lowerSnake(subName));
    const built = buildField({ ...sub, children: [...sub.children, ...subTests.map((test) => ({ ...test, attributes: new Map() }))] },
      `${raw.name} ${subName}`, raw.header, true, context);
    if (built === null) continue;
    // A sub-field's documentation reads in the context of the field that uses the type.
    const parentDoc = documentation(element).split("\n")[0];
    const doc = parentDoc && built.ir.doc ? `${parentDoc}: ${built.ir.doc[0].toLowerCase()}${built.ir.doc.slice(1)}` : built.ir.doc || parentDoc;
    fields.push({ at: built.at, ir: { ...built.ir, doc } });
  }
  return fields;
}

function buildField(element: ModelElement, writtenName: string, header: boolean, inComposite: boolean, context: FieldContext): PlacedField | null {
  const { diagnostics, framing } = context;
  const at = element.attributes.get("name")?.at ?? element.at;
  const name = lowerSnake(writtenName.trim());
  const key = camelCase(writtenName);
  const reserved = name === "message" || (framing === "pubsub" && name === "topic");
  if (reserved) diagnostics.error(at, `field name ${name} is reserved: it names the ${name === "message" ? "message type" : "pubsub topic"} in zproto-ts`);
  const typeAttribute = element.attributes.get("type")!;
  const type = typeAttribute.value.trim() as FieldType;
  if (!FIELD_TYPES.includes(type)) {
    diagnostics.unresolved(typeAttribute.at, `field ${name} has unknown type "${typeAttribute.value}"`);
    return null;
  }
  if (framing === "frames" && PACKED_ONLY.includes(type)) {
    diagnostics.error(typeAttribute.at, `field ${name}: type ${type} cannot travel as one frame in framing="frames"`);
  }
  if (framing === "pubsub" && (type === "dictionary" || type === "shortstrings")) {
    diagnostics.warning(typeAttribute.at, `field ${name}: ${type} is a Guide-era FILEMQ/1 type, unusual in a pubsub model`);
  }

  const sizeAttribute = element.attributes.get("size");
  let size: number | undefined;
  if (type === "number") {
    if (sizeAttribute === undefined && inComposite) {
      diagnostics.error(at, `number field ${name} inside a composite type needs a size (1, 2, 4 or 8)`);
    } else {
      size = sizeAttribute === undefined ? 1 : Number(parseInteger(sizeAttribute.value) ?? -1);
      if (![1, 2, 4, 8].includes(size)) diagnostics.error(sizeAttribute?.at ?? at, `number field ${name} has size "${sizeAttribute?.value}"; it must be 1, 2, 4 or 8`);
    }
  } else if (type === "octets") {
    if (sizeAttribute === undefined) diagnostics.error(at, `octets field ${name} needs a size`);
    else {
      const parsed = parseInteger(sizeAttribute.value);
      if (parsed === null || parsed < 1n || parsed > 0xffffffffn) diagnostics.error(sizeAttribute.at, `octets field ${name} has size "${sizeAttribute.value}"; it must be a positive integer`);
      else size = Number(parsed);
    }
  } else if (sizeAttribute !== undefined) {
    diagnostics.warning(sizeAttribute.at, `size is ignored on ${type} field ${name}`);
  }

  const valueAttribute = element.attributes.get("value");
  let value: number | bigint | string | undefined;
  if (valueAttribute !== undefined) {
    if (type === "number") value = resolveNumberConstant(valueAttribute.value, size ?? 1, name, valueAttribute.at, context);
    else if (type === "string") {
      value = valueAttribute.value;
      if (Buffer.byteLength(value, "utf8") > 255) diagnostics.error(valueAttribute.at, `constant of string field ${name} is over 255 octets`);
      if (value.includes("\0")) diagnostics.error(valueAttribute.at, `constant of string field ${name} contains NUL`);
    } else {
      diagnostics.error(valueAttribute.at, `field ${name} is ${type}; only number and string fields can have a constant value`);
    }
  }

  const minAttribute = element.attributes.get("min");
  let min: number | undefined;
  if (minAttribute !== undefined) {
    const parsed = parseInteger(minAttribute.value);
    if (type !== "msg") diagnostics.error(minAttribute.at, `min applies to msg fields only, not to ${type} field ${name}`);
    else if (parsed === null || parsed > 1000n) diagnostics.error(minAttribute.at, `min="${minAttribute.value}" must be a small non-negative integer`);
    else min = Number(parsed);
  }
  const secret = flagAttribute(element, "secret", diagnostics);

  const tests = element.children.flatMap((child) => {
    if (child.name !== "test") {
      diagnostics.error(child.at, `<${child.name}> is not allowed in <field>; only <test>`);
      return [];
    }
    const testName = testKey(child);
    return [{ ...(testName !== undefined ? { name: testName } : {}), text: child.text.trim() }];
  });
  if (reserved) return null;

  return {
    at,
    ir: {
      name,
      key,
      type,
      ...(size !== undefined ? { size } : {}),
      ...(value !== undefined ? { value, valueText: valueAttribute!.value } : {}),
      secret,
      ...(min !== undefined ? { min } : {}),
      doc: documentation(element),
      header,
      tests,
    },
  };
}

/** The entry key or sub-field a `<test>` names (zproto writes `key`; `name` is accepted too). */
function testKey(test: ModelElement): string | undefined {
  return test.attributes.get("key")?.value ?? test.attributes.get("name")?.value;
}

/** An integer literal, or a define name (`<CLASS>_<DEFINE>` first, then the bare name), fitting `size` octets. */
function resolveNumberConstant(text: string, size: number, field: string, at: Location, context: FieldContext): number | bigint | undefined {
  let value = parseInteger(text);
  if (value === null) {
    const wanted = upperSnake(text.trim());
    const define = context.defines.find((d) => d.constName === wanted) ?? context.defines.find((d) => d.constName === `${context.constPrefix}_${wanted}`);
    if (define === undefined) {
      context.diagnostics.unresolved(at, `constant "${text}" of field ${field} is neither an integer nor a define of this model`);
      return undefined;
    }
    value = typeof define.value === "number" ? BigInt(define.value) : parseInteger(define.value);
    if (value === null) {
      context.diagnostics.error(at, `define ${define.name} = "${define.value}" used by field ${field} is not an integer`);
      return undefined;
    }
  }
  if (value >= 1n << BigInt(8 * size)) {
    context.diagnostics.error(at, `constant ${value} of field ${field} does not fit in ${plural(size, "octet")}`);
    return undefined;
  }
  return size === 8 ? value : Number(value);
}
