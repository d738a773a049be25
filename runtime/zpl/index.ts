/**
 * ZPL (ZeroMQ Property Language, spec 4) configuration files: parser, tree API and writer.
 *
 * ```ts
 * import { loadZplFile, writeZpl } from "./runtime/zpl/index.js";
 *
 * const config = await loadZplFile("server.cfg", { onWarning: (w) => log(formatZplWarning(w)) });
 * const timeout = config.getInteger("server/timeout", 5000); // throws ZplValueError on "5s"
 * for (const account of config.all("security/plain/account")) check(account.get("login", ""));
 * config.set("server/timeout", "10000");
 * log(writeZpl(config, { redact: ["password"] }));
 * ```
 *
 * Parsing follows the rules docs/zpl.md states (strict UTF-8 without BOM, LF or CRLF,
 * 4-space indentation of properties, quoted values closed on their line, first error rejects the document).
 * What CZMQ's zconfig also reads is read, with a warning: comment lines indented anyhow (tabs, odd or extra
 * spaces) and tabs around `=`. Lookups follow CZMQ `zconfig`: first match per path segment, one leading `/`
 * ignored. `onProperty` reports where each property was written, for tools that point into a document.
 *
 * @module
 */

export {
  ZplError,
  ZplPathError,
  ZplValueError,
  ZplWriteError,
  formatZplWarning,
  type ZplPosition,
  type ZplWarning,
  type ZplWarningCode,
} from "./errors.js";
export { ZplNode, isValidZplName, isZplNameChar, type ZplNodeData } from "./tree.js";
export {
  ZPL_DEFAULT_MAX_BYTES,
  loadZplFile,
  parseZpl,
  parseZplBytes,
  type ZplParseOptions,
  type ZplPropertyPosition,
} from "./parse.js";
export { ZPL_REDACTED, writeZpl, type ZplWriteOptions } from "./write.js";
