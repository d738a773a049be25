// Lets a plain `node` child process run the repository's TypeScript sources directly:
// `node --import ./test/engine/child/register.mjs some.ts`. Engine tests use it for scenarios that may abort
// the whole process (a native assertion), which a vitest worker cannot survive.
import { register } from "node:module";

register("./ts-hooks.mjs", import.meta.url);
