/** Loads and caches the handlebars templates of templates/. */
import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** templates/ beside generator/ in the source tree, and beside dist/generator/ once compiled. */
function templatePath(name: string): string {
  for (const candidate of ["../templates/", "../../templates/"]) {
    const url = new URL(candidate + name, import.meta.url);
    try {
      readFileSync(url);
      return fileURLToPath(url);
    } catch {
      // try the next location
    }
  }
  throw new Error(`template ${name} not found`);
}

const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Renders template `name` (e.g. `codec.ts.hbs`) with `view`. Output is code, so nothing is HTML-escaped. */
export function render(name: string, view: object): string {
  let template = cache.get(name);
  if (template === undefined) {
    template = Handlebars.compile(readFileSync(templatePath(name), "utf8"), { noEscape: true, strict: true });
    cache.set(name, template);
  }
  return template(view);
}
