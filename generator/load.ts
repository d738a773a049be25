/**
 * Reads model files, XML or ZPL by their extension, and resolves their includes: the root element of an
 * included file takes the include's place, before anything else looks at the model. Only regular files of a
 * bounded size are read; each file once, however often it is included; includes stay inside the model's
 * directory unless allowed out, and their expanded size and nesting are bounded.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";
import type { Diagnostics, Location } from "./diagnostics.js";
import type { ModelElement, ParsedModel } from "./element.js";
import { parseXmlBytes } from "./xml.js";
import { parseZplModel } from "./zpl-model.js";

/** The two surface syntaxes of the model language. */
export type ModelSyntax = "xml" | "zpl";

/** What loading reads at most: bytes of one file, bytes of a model with its includes expanded, include nesting. */
export const MODEL_LIMITS = { fileBytes: 1024 * 1024, expandedBytes: 4 * 1024 * 1024, includeDepth: 16 } as const;

/** Options of {@link loadModelFile}. */
export interface ModelFileOptions {
  /**
   * Let `<include>` read files outside the directory of the model file being loaded (and its
   * sub-directories). Off by default: a model from elsewhere must not make the tool read any file it names.
   */
  readonly allowOutside?: boolean;
  /**
   * The directory whose tree `<include>` may read, instead of the model file's own directory: `generate`
   * gives the directory it was asked to generate, so the models under it can share fragments (the SASL
   * handshake in models/sasl/, say).
   */
  readonly includeRoot?: string;
}

/** The syntax of a model file: `.zpl` files are ZPL, every other file XML. */
export function syntaxOf(path: string): ModelSyntax {
  return extname(path).toLowerCase() === ".zpl" ? "zpl" : "xml";
}

/** A model file's name without its `.xml` or `.zpl` extension. */
export function modelStem(path: string): string {
  return basename(path).replace(/\.(xml|zpl)$/i, "");
}

/** How a model file path is shown in diagnostics: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith("..") || shown === "" ? path : shown;
}

/**
 * The model file named `stem` in the first of `directories` that has one, as `stem.xml` or `stem.zpl`;
 * a problem to report when that directory has both (which one is meant?) or none has either.
 */
export function findModelFile(directories: readonly string[], stem: string): { path: string } | { problem: string } {
  for (const directory of directories) {
    const found = [".xml", ".zpl"].map((extension) => join(directory, stem + extension))
      .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false);
    if (found.length === 1) return { path: found[0] };
    if (found.length > 1) return { problem: `both ${found.map(displayPath).join(" and ")} exist; keep one (a model is written in one syntax)` };
  }
  return { problem: `there is no ${stem}.xml or ${stem}.zpl in ${[...new Set(directories.map(displayPath))].join(" or ")}` };
}

/** Reads and parses one model file, leaving its includes as they are (what conversion works on). */
export function parseModelFile(path: string, diagnostics: Diagnostics): ParsedModel | null {
  const file = displayPath(resolve(path));
  const bytes = readModelBytes(resolve(path));
  if (typeof bytes === "string") {
    diagnostics.error({ file, line: 1, column: 1 }, `model file ${file} ${bytes}`);
    return null;
  }
  return parseBytes(bytes, file, syntaxOf(path), diagnostics);
}

/** Reads and parses a model file with its includes resolved; null when it could not be read at all. */
export function loadModelFile(
  path: string, diagnostics: Diagnostics, referencedFrom: Location | null = null, options: ModelFileOptions = {},
): ModelElement | null {
  const absolute = resolve(path);
  const home = canonical(options.includeRoot !== undefined ? resolve(options.includeRoot) : dirname(absolute));
  const loader = new ModelLoader(home, options.allowOutside ?? false, diagnostics);
  return loader.load(absolute, referencedFrom, []);
}

function parseBytes(bytes: Buffer, file: string, syntax: ModelSyntax, diagnostics: Diagnostics): ParsedModel | null {
  return syntax === "zpl" ? parseZplModel(bytes, file, diagnostics) : parseXmlBytes(bytes, file, diagnostics);
}

/**
 * The bytes of a regular file of at most {@link MODEL_LIMITS}.fileBytes, or why not. The file is opened
 * without blocking, so a FIFO is refused at once instead of waiting for a writer, and read up to the limit
 * only, so neither a device nor a file that grows (or claims size 0, as /proc files do) is read without end.
 */
function readModelBytes(path: string): Buffer | string {
  let descriptor: number;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? (error as Error).message})`;
  }
  try {
    const stat = fstatSync(descriptor);
    if (stat.isDirectory()) return "is a directory, not a model file";
    if (!stat.isFile()) return "is not a regular file (a device, FIFO or socket); only regular files are read as models";
    const limit = MODEL_LIMITS.fileBytes;
    const tooBig = `is more than ${limit} bytes, the limit of a model file`;
    if (stat.size > limit) return tooBig;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const read = readSync(descriptor, chunk, 0, chunk.length, null);
      if (read === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > limit) return tooBig;
    }
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  } finally {
    closeSync(descriptor);
  }
}

/** One file loaded with its includes resolved, and its size with every inclusion expanded. */
interface Loaded {
  readonly root: ModelElement;
  readonly expandedBytes: number;
}

/** A file as the loader knows it: where it was found, and the canonical path that identifies it. */
interface FileName {
  readonly path: string;
  readonly key: string;
}

/** Loads one model and everything it includes; remembers each file it read, so it reads each once. */
class ModelLoader {
  /** Loaded files by canonical path; null when the file was read and failed (its problems already reported). */
  private readonly loaded = new Map<string, Loaded | null>();

  constructor(
    private readonly home: string,
    private readonly allowOutside: boolean,
    private readonly diagnostics: Diagnostics,
  ) {}

  load(path: string, referencedFrom: Location | null, stack: readonly FileName[]): ModelElement | null {
    const name = { path, key: canonical(path) };
    return this.loadFile(name, referencedFrom, stack)?.root ?? null;
  }

  private loadFile(name: FileName, from: Location | null, stack: readonly FileName[]): Loaded | null {
    if (this.loaded.has(name.key)) return this.loaded.get(name.key) ?? null;
    const file = displayPath(name.path);
    const bytes = readModelBytes(name.path);
    if (typeof bytes === "string") {
      // Reported where it is referenced, each time: every such place needs fixing.
      this.diagnostics.error(from ?? { file, line: 1, column: 1 }, from ? `file ${file} ${bytes}` : `model file ${file} ${bytes}`);
      return null;
    }
    const parsed = parseBytes(bytes, file, syntaxOf(name.path), this.diagnostics);
    let loaded: Loaded | null = null;
    if (parsed !== null) {
      const size = { bytes: bytes.length, exceeded: false };
      const root = this.resolveIncludes(parsed.root, name, [...stack, name], size);
      loaded = size.exceeded ? null : { root, expandedBytes: size.bytes };
    }
    this.loaded.set(name.key, loaded);
    return loaded;
  }

  private resolveIncludes(element: ModelElement, including: FileName, stack: readonly FileName[], size: { bytes: number; exceeded: boolean }): ModelElement {
    const children: ModelElement[] = [];
    for (const child of element.children) {
      if (child.name !== "include") {
        children.push(this.resolveIncludes(child, including, stack, size));
        continue;
      }
      const included = this.include(child, including, stack);
      if (included === null || size.exceeded) {
        this.diagnostics.incomplete = true;
        continue;
      }
      size.bytes += included.expandedBytes;
      if (size.bytes > MODEL_LIMITS.expandedBytes) {
        size.exceeded = true;
        this.diagnostics.incomplete = true;
        this.diagnostics.error(child.attributes.get("filename")!.at, `with this include, ${displayPath(including.path)} grows past ` +
          `${MODEL_LIMITS.expandedBytes} bytes, the limit of a model with its includes expanded (each inclusion of a file counts)`);
        continue;
      }
      // A <fragment> root (several states, say, or a whole SASL exchange) splices its children in place.
      children.push(...(included.root.name === "fragment" ? included.root.children : [included.root]));
    }
    return { ...element, children };
  }

  /** The file an `<include>` names, loaded, or null after saying why it is not included. */
  private include(element: ModelElement, including: FileName, stack: readonly FileName[]): Loaded | null {
    const filename = element.attributes.get("filename");
    if (filename === undefined || filename.value.trim() === "") {
      this.diagnostics.error(element.at, "<include> needs a filename attribute");
      return null;
    }
    const path = resolve(dirname(including.path), filename.value);
    const target = { path, key: canonical(path) };
    if (stack.some((file) => file.key === target.key)) {
      this.diagnostics.error(filename.at, `include cycle: ${[...stack, target].map((file) => displayPath(file.path)).join(" -> ")}`);
      return null;
    }
    if (!this.allowOutside && target.key !== this.home && !target.key.startsWith(this.home + sep)) {
      this.diagnostics.error(filename.at, `include ${filename.value} leaves the model's directory ${displayPath(this.home)}; ` +
        "a model includes only files in its own directory tree unless allowed out (--include-root DIR, a directory holding both, or --allow-outside)");
      return null;
    }
    if (stack.length > MODEL_LIMITS.includeDepth) {
      this.diagnostics.error(filename.at, `includes nest more than ${MODEL_LIMITS.includeDepth} deep here`);
      return null;
    }
    return this.loadFile(target, filename.at, stack);
  }
}

/** The canonical path of a file or directory (symbolic links resolved), so that each has one identity. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
