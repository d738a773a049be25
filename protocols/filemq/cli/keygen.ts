/**
 * `filemq keygen`: writes a CURVE key pair as two certificates, the secret one and the `.pub` one.
 */
import { writeCertificatePair } from "../curve.js";
import type { FilemqCommand } from "./common.js";

export const keygenCommand: FilemqCommand = {
  name: "keygen",
  synopsis: "FILE",
  summary: "write a CURVE key pair (transport encryption)",
  description: `
Writes a new CURVE key pair for transport encryption: FILE holds the secret key (readable by its owner
only; give it to filemq publish --curve, or to a subscriber's --curve) and FILE.pub the public key (give it
to the peers: a subscriber's --curve-server, a publisher's --curve-client). Existing files are not
overwritten.

Exit status: 0 when both files were written; 1 when one exists or cannot be written; 2 for a bad command line.`,
  options: {},
  operands: { noun: "certificate file", many: false },

  async run([file], _values, io) {
    const { publicFile, publicKey } = await writeCertificatePair(file);
    io.stdout.write(`wrote ${file} (secret) and ${publicFile}; public key ${publicKey}\n`);
    return 0;
  },
};
