/**
 * CURVE certificates for FileMQ's transport encryption, in CZMQ's layout: a ZPL file with
 * `curve/public-key` and, for the owner's own certificate, `curve/secret-key` (Z85, 40 characters each).
 * `filemq keygen` writes a pair (`name`, readable by its owner only, and `name.pub` to hand out); servers and
 * clients read them. Secret keys never appear in an error or a log.
 */
import { stat, writeFile } from "node:fs/promises";
import { curveKeyPair } from "zeromq";
import { isCurveKey } from "../../runtime/engine/index.js";
import { loadZplFile } from "../../runtime/zpl/parse.js";
import { ConfigurationError } from "./server-config.js";

/** A certificate as read: always the public key, the secret key when it is the owner's own. */
export interface Certificate {
  readonly publicKey: string;
  readonly secretKey?: string;
}

/**
 * Reads a certificate file. With `secret`, the file must hold the secret key too, and a warning goes to
 * `warn` when group or others may read it.
 */
export async function readCertificate(file: string, options: { secret: boolean; warn?: (message: string) => void }): Promise<Certificate> {
  let tree;
  try {
    tree = await loadZplFile(file);
  } catch (error) {
    throw new ConfigurationError(`CURVE certificate ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const publicKey = tree.get("curve/public-key");
  if (!isCurveKey(publicKey)) throw new ConfigurationError(`CURVE certificate ${file} has no valid curve/public-key (40 Z85 characters)`);
  if (!options.secret) return { publicKey };
  const secretKey = tree.get("curve/secret-key");
  if (!isCurveKey(secretKey)) throw new ConfigurationError(`CURVE certificate ${file} has no valid curve/secret-key: give the secret certificate, not the .pub one`);
  if (((await stat(file)).mode & 0o077) !== 0) options.warn?.(`CURVE certificate ${file} can be read by others than its owner; it holds a secret key`);
  return { publicKey, secretKey };
}

/** Writes a new key pair: `file` with both keys (mode 0600) and `file.pub` with the public key. */
export async function writeCertificatePair(file: string): Promise<{ readonly publicFile: string; readonly publicKey: string }> {
  const { publicKey, secretKey } = curveKeyPair();
  const header = "#   ZeroMQ CURVE certificate, written by filemq keygen\n";
  const publicFile = `${file}.pub`;
  await writeFile(publicFile, `${header}#   Public: hand it to the peers that must know this one\ncurve\n    public-key = "${publicKey}"\n`, { mode: 0o644, flag: "wx" });
  await writeFile(file, `${header}#   SECRET: keep it to its owner\ncurve\n    public-key = "${publicKey}"\n    secret-key = "${secretKey}"\n`, { mode: 0o600, flag: "wx" });
  return { publicFile, publicKey };
}
