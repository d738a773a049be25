/**
 * `filemq keygen`: writes a CURVE key pair as two certificates, the secret one and the `.pub` one.
 */
import { writeCertificatePair } from "../curve.js";
import { onePositional } from "./common.js";
import type { Command } from "./main.js";

export const KEYGEN_USAGE = `Usage: filemq keygen <file>

Writes a new CURVE key pair for transport encryption: <file> holds the secret key (readable by its owner
only; give it to filemq publish --curve, or to a subscriber's --curve) and <file>.pub the public key (give it
to the peers: a subscriber's --curve-server, a publisher's --curve-client). Existing files are not
overwritten.

Exit status: 0 when both files were written; 1 when one exists or cannot be written; 2 for a bad command line.
`;

export const keygenCommand: Omit<Command, "usage"> = {
  options: {},

  async run(_values, positionals, io) {
    const file = onePositional(positionals, "give the certificate file to write");
    const { publicFile, publicKey } = await writeCertificatePair(file);
    io.stdout.write(`wrote ${file} (secret) and ${publicFile}; public key ${publicKey}\n`);
    return 0;
  },
};
