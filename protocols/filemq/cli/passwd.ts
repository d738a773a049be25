/**
 * `filemq passwd`: sets a login's password in a PLAIN accounts file (salted scrypt hashes), reading the
 * password from the terminal (twice, without echo) or the first line of standard input.
 */
import { runPasswd } from "../../sasl/index.js";
import { UsageError, type FilemqCommand } from "./common.js";

export const passwdCommand: FilemqCommand = {
  name: "passwd",
  synopsis: "FILE USER",
  summary: "set a SASL PLAIN password in an accounts file",
  description: `
Adds the SASL PLAIN account USER to the accounts file FILE, or replaces its password. The password is read
from the terminal (asked twice, not echoed) or, when standard input is not a terminal, from its first line;
it is never an argument. The file holds salted scrypt hashes, one 'account' entry per login:

    account
        login = guest
        hash = "scrypt$16384$8$1$<salt>$<key>"

A new file is created readable by its owner only. Point a publisher at it with security/plain/file in its
configuration (see docs/filemq.md).

Exit status: 0 when the file was written; 1 when the password was refused or the input ended; 2 for a bad
command line.`,
  options: {},
  operands: { noun: "operand", many: true, min: 0 },

  async run(operands, _values, io) {
    const [file, user, ...extra] = operands;
    if (file === undefined || user === undefined) throw new UsageError("needs the accounts FILE and the USER");
    if (extra.length > 0) throw new UsageError(`takes FILE and USER only ('${extra[0]}' is one too many); the password is read from the terminal or standard input`);
    await runPasswd({ file, user, input: io.stdin, output: io.stderr });
    return 0;
  },
};
