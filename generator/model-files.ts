/**
 * The model files a command line names: files as given, and for a directory every `.xml` and `.zpl` model
 * under it. `generate` and `check` read them alike, so a directory checks exactly what it generates.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import { displayPath } from "./load.js";
import type { LoadOptions } from "./model.js";

/** A model file, and the directory argument it was found under, if any. */
export interface ModelInput {
  readonly model: string;
  /** The directory argument the model was found under: its includes may read anywhere in that tree. */
  readonly root?: string;
}

/** What {@link findModels} found, and a diagnostic for each directory that holds no model. */
export interface FoundModels {
  readonly models: readonly ModelInput[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * The models `inputs` name, in order. A directory stands for every `.xml` and `.zpl` file under it, in name
 * order, except files whose names start with `_` (fragments meant for `<include>`); a directory without any
 * is an error, since a command that quietly does nothing hides a wrong path. Any other input is taken as a
 * model file (loading it says what is wrong with it).
 */
export function findModels(inputs: readonly string[]): FoundModels {
  const models: ModelInput[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const input of inputs) {
    if (!(statSync(input, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
      models.push({ model: input });
      continue;
    }
    const found = modelsUnder(input);
    if (found.length === 0) {
      diagnostics.push({
        file: displayPath(input), line: 1, column: 1, severity: "error",
        message: `directory ${displayPath(input)} holds no models (.xml or .zpl files whose names do not start with _)`,
      });
    }
    models.push(...found.map((model) => ({ model, root: input })));
  }
  return { models, diagnostics };
}

/** The load options for one model: a model found under a directory may include from anywhere in it, unless `options` say where. */
export function loadOptionsFor<Options extends LoadOptions>(input: ModelInput, options: Options): Options {
  return input.root !== undefined && options.includeRoot === undefined ? { ...options, includeRoot: input.root } : options;
}

function modelsUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return modelsUnder(path);
      return entry.isFile() && /\.(xml|zpl)$/i.test(entry.name) && !entry.name.startsWith("_") ? [path] : [];
    });
}
