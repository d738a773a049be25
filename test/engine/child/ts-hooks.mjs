// Module hooks for register.mjs: `.js` specifiers that name a `.ts` source resolve to it, and `.ts` files are
// transpiled (types stripped, no type check) with the repository's own TypeScript. Transpiled modules are
// cached by content hash in the directory ZPROTO_TS_TRANSPILE_CACHE names (the test run makes it and removes
// it at the end), so only the first child process pays for loading the compiler (tests that spawn children
// stay fast on a busy machine). Without it, nothing is cached.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CACHE = process.env.ZPROTO_TS_TRANSPILE_CACHE;
let compiler;

export async function resolve(specifier, context, nextResolve) {
  if ((specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:")) && specifier.endsWith(".js") && context.parentURL?.startsWith("file:")) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(fileURLToPath(url))) {
      const source = new URL(url.href.replace(/\.js$/, ".ts"));
      if (existsSync(fileURLToPath(source))) return { url: source.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

async function transpile(path, text) {
  compiler ??= (await import("typescript")).default;
  return compiler.transpileModule(text, {
    fileName: path,
    compilerOptions: { module: compiler.ModuleKind.ESNext, target: compiler.ScriptTarget.ES2022, sourceMap: false },
  }).outputText;
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith(".ts")) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const text = await readFile(path, "utf8");
  if (CACHE === undefined) return { format: "module", source: await transpile(path, text), shortCircuit: true };
  const cached = join(CACHE, `${createHash("sha256").update(path).update("\0").update(text).digest("hex")}.js`);
  let source;
  try {
    source = await readFile(cached, "utf8");
  } catch {
    source = await transpile(path, text);
    // Write then rename, so a child running at the same time never reads half a file.
    await mkdir(CACHE, { recursive: true });
    const partial = `${cached}.${process.pid}.tmp`;
    await writeFile(partial, source);
    await rename(partial, cached);
  }
  return { format: "module", source, shortCircuit: true };
}
