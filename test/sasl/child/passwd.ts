// Runs `runPasswd` as `filemq passwd <file> <user>` would, on this process's stdin and stdout, so tests can
// drive it through a real pseudo-terminal (util-linux `script`). Exit 1 with one line on failure.
import { runPasswd } from "../../../protocols/sasl/index.js";

const [file, user] = process.argv.slice(2);
try {
  await runPasswd({ file, user, input: process.stdin, output: process.stdout });
} catch (error) {
  process.stdout.write(`passwd: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
