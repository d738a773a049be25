/** Module specifiers between generated and hand-written files. */
import { dirname, relative, resolve, sep } from "node:path";

/**
 * The specifier by which a file at `from` imports the module at `target` under NodeNext resolution:
 * relative, with `/` separators whatever the platform, and `.js` in place of `.ts` (or of no extension).
 */
export function relativeModule(from: string, target: string): string {
  let path = relative(dirname(resolve(from)), resolve(target)).split(sep).join("/").replace(/\.(ts|js)$/, "");
  if (!path.startsWith(".")) path = `./${path}`;
  return `${path}.js`;
}
