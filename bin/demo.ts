#!/usr/bin/env node
/**
 * `npm run demo`: the FileMQ demo (protocols/filemq/demo.ts). Exits 0 when the mirror checked out.
 */
import { runDemo } from "../protocols/filemq/demo.js";

runDemo((line) => process.stdout.write(`${line}\n`)).then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
