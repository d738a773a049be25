/**
 * The action skeleton of a server or client model: a starting implementation file,
 * written once and then owned by the user. It is never rewritten or patched: when the model changes, the
 * regenerated engine's actions interface changes, and the compiler reports in the user's file which action
 * is missing (or no longer exists).
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import { tidy } from "./emit-codec.js";
import { planFiles } from "./generate.js";
import type { MachineIR } from "./ir.js";
import { displayPath } from "./load.js";
import { loadModel, type LoadOptions } from "./model.js";
import { relativeModule } from "./module-path.js";
import { skeletonView, type SkeletonViewOptions } from "./skeleton-view.js";
import { render } from "./templates.js";

/** The skeleton's source text for `model`, importing the engine module from `options.engineImport`. */
export function emitSkeleton(model: MachineIR, options: SkeletonViewOptions): string {
  return tidy(render("skeleton.ts.hbs", skeletonView(model, options)));
}

/** Options of {@link skeleton}. */
export interface SkeletonOptions extends LoadOptions {
  /** The skeleton file to write (`protocols/hello/server.ts`, say). */
  readonly out: string;
  /**
   * The engine module `zproto generate` writes for this model (a `.ts` path). By default the one it writes
   * without `--out`: beside the model.
   */
  readonly engine?: string;
}

/**
 * What {@link skeleton} did: `written` a new file; `exists`: a file was already there and was left alone;
 * `failed`: the model has errors, and nothing was written; `not-a-machine`: it is a codec model, which has no
 * actions. {@link planSkeleton} answers `planned` where it would write.
 */
export type SkeletonStatus = "planned" | "written" | "exists" | "failed" | "not-a-machine";

/** The outcome of {@link skeleton}. */
export interface SkeletonResult {
  readonly status: SkeletonStatus;
  /** The skeleton file (as given in `out`). */
  readonly path: string;
  /** The engine module the skeleton imports, and the specifier it imports it by. */
  readonly engine: string;
  readonly engineImport: string;
  /** Whether the engine module exists yet: until `zproto generate` writes it, the skeleton cannot compile. */
  readonly engineFound: boolean;
  /** The skeleton's text (also when a file exists, to compare with); null when the model failed. */
  readonly text: string | null;
  /** Every problem of the model, warnings included. */
  readonly diagnostics: readonly Diagnostic[];
}

/** The skeleton {@link skeleton} would write for the model at `modelPath`, without writing anything. */
export function planSkeleton(modelPath: string, options: SkeletonOptions): SkeletonResult {
  const engine = options.engine ?? planFiles([modelPath])[0].output;
  const engineImport = relativeModule(options.out, engine);
  const outcome = { path: options.out, engine, engineImport, engineFound: statSync(engine, { throwIfNoEntry: false })?.isFile() ?? false };
  const { model, diagnostics } = loadModel(modelPath, options);
  if (model === null) return { ...outcome, status: "failed", text: null, diagnostics };
  if (model.kind === "codec") {
    const notMachine: Diagnostic = {
      file: displayPath(modelPath), line: 1, column: 1, severity: "error",
      message: "this is a codec model; skeletons are made for server and client models, whose actions are written by hand",
    };
    return { ...outcome, status: "not-a-machine", text: null, diagnostics: [...diagnostics, notMachine] };
  }
  return { ...outcome, status: "planned", text: emitSkeleton(model, { engineImport }), diagnostics };
}

/**
 * Writes the action skeleton of the server or client model at `modelPath` to `options.out`, unless that
 * file exists: then it is left exactly as it is and the status is `exists`. The file is created
 * exclusively, so even a file appearing meanwhile is never overwritten.
 */
export function skeleton(modelPath: string, options: SkeletonOptions): SkeletonResult {
  const plan = planSkeleton(modelPath, options);
  if (plan.text === null) return plan;
  mkdirSync(dirname(options.out), { recursive: true });
  try {
    writeFileSync(options.out, plan.text, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { ...plan, status: "exists" };
  }
  return { ...plan, status: "written" };
}
