/**
 * The protocols a state machine speaks. `protocol_class` names one codec model, or several separated by
 * spaces or commas when one socket carries several protocols (a Majordomo broker's ROUTER serves clients
 * and workers). Several protocols become one union codec (runtime/wire/union.ts): their message names
 * must differ, a field name must have one type, and their messages must be told apart by signature or
 * header frames. This module loads and checks them, and gives the engine templates their import section.
 */
import { dirname, join, relative, resolve } from "node:path";
import { unionProblems } from "../runtime/wire/union.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import type { CodecIR, MachineIR, ProtocolLinkIR } from "./ir.js";
import { findModelFile } from "./load.js";
import { render } from "./templates.js";
import { codecSchema } from "./schema.js";
import { camelCase } from "./names.js";

/** Loads the codec model a machine names. */
export type CodecLoader = (path: string, from: Location) => CodecIR | null;

/** The class names `protocol_class` lists. */
export function protocolClasses(attribute: string): string[] {
  return attribute.split(/[\s,]+/).filter((name) => name !== "");
}

/**
 * Loads every protocol `protocol_class` names, relative to the machine model at `path`; null (with
 * diagnostics at the attribute) when one does not load or they cannot share a socket.
 */
export function loadProtocols(
  path: string, attribute: { readonly value: string; readonly at: Location }, protocolDir: string, loadCodec: CodecLoader, diagnostics: Diagnostics,
): ProtocolLinkIR[] | null {
  const names = protocolClasses(attribute.value);
  if (names.length === 0) {
    diagnostics.error(attribute.at, "protocol_class names no codec model");
    return null;
  }
  const links: ProtocolLinkIR[] = [];
  for (const name of names) {
    const located = locateProtocol(path, protocolDir, name);
    if ("problem" in located) {
      diagnostics.error(attribute.at, `protocol_class ${name}: ${located.problem}`);
      return null;
    }
    const codec = loadCodec(located.path, attribute.at);
    if (codec === null) return null;
    links.push({ codec, importPath: importPath(path, located.path) });
  }
  if (links.length > 1) {
    const problems = unionProblems(links.map((link) => codecSchema(link.codec)));
    for (const problem of problems) diagnostics.error(attribute.at, `the protocols cannot share a socket: ${problem}`);
    if (problems.length > 0) return null;
  }
  return links;
}

/** The codec model a machine names: `<protocol_class>.xml` or `.zpl`, in `protocol_dir` or beside the machine. */
function locateProtocol(modelPath: string, protocolDir: string, protocolClass: string): { path: string } | { problem: string } {
  const base = dirname(resolve(modelPath));
  return findModelFile([join(base, protocolDir), base], protocolClass);
}

/** The module specifier of a protocol's generated codec, seen from the machine's generated module. */
function importPath(modelPath: string, protocolPath: string): string {
  const specifier = relative(dirname(modelPath), protocolPath).replace(/\\/g, "/").replace(/\.(xml|zpl)$/, ".js");
  return specifier.startsWith(".") ? specifier : `./${specifier}`;
}

/** The names a generated engine module gives the message union and the bag of fields of its protocols. */
export function messageTypeNames(model: MachineIR): { readonly union: string; readonly fields: string } {
  if (model.protocols.length === 1) return { union: model.protocol.unionName, fields: `${model.protocol.unionName}Fields` };
  return { union: `${model.typeName}Message`, fields: `${model.typeName}Fields` };
}

/**
 * The import section of an engine module: each protocol's codec and the message types its actions see,
 * and for several protocols the union type, fields and codec. One protocol keeps the plain form.
 */
export function protocolImports(model: MachineIR, messageTypes: ReadonlySet<string>, wireImport: string): string {
  const several = model.protocols.length > 1;
  const protocols = model.protocols.map((link) => ({
    alias: several ? `${camelCase(link.codec.className)}Codec` : "",
    importPath: link.importPath,
    unionName: link.codec.unionName,
    fieldsName: `${link.codec.unionName}Fields`,
    messageTypes: link.codec.messages.map((message) => message.typeName).filter((type) => messageTypes.has(type)).sort(),
  }));
  const names = messageTypeNames(model);
  const union = several ? {
    name: names.union,
    fields: names.fields,
    members: protocols.map((protocol) => protocol.unionName).join(" | "),
    fieldMembers: protocols.map((protocol) => protocol.fieldsName).join(" & "),
    codecs: protocols.map((protocol) => protocol.alias).join(", "),
  } : false;
  return render("protocols.ts.hbs", { className: model.className, wireImport, protocols, union });
}
