/** `zproto grammar`: the protocol's ABNF, one rule per message, one per field, and the shared encodings. */
import { describe, expect, it } from "vitest";
import { grammar } from "../generator/grammar.js";
import { loadCodecModel } from "../generator/model.js";

describe("ABNF grammar", () => {
  it("has a rule per message with its signature, id, constants and fields", () => {
    const text = grammar(loadCodecModel("models/zproto_example/zproto_example.xml"));
    expect(text).toContain("ZPROTO-EXAMPLE  = *( LOG / STRUCTURES / BINARY / TYPES )");
    expect(text).toContain("LOG             = signature %d1 sequence %x00.03 level event node peer time host data");
    expect(text).toContain("TYPES           = signature %d4 sequence client-forename client-surname");
    expect(text).toContain("flags           = 4OCTET        ; A set of flags");
    expect(text).toContain("signature       = %xAA %xA0");
    expect(text).toContain("hash            = number-4 *( string longstr )");
  });

  it("marks roles and writes Guide-era constants", () => {
    const text = grammar(loadCodecModel("models/filemq/fmq_msg.xml"));
    expect(text).toContain('C:OHAI          = signature %d1 %d6 %s"FILEMQ" %x01');
    expect(text).toContain("S:ORLY          = signature %d2 mechanisms challenge");
    expect(text).toContain("options         = dictionary");
  });

  it("shows frame-per-field messages frame by frame", () => {
    const text = grammar(loadCodecModel("models/majordomo/mdp01_worker_msg.xml"));
    expect(text).toContain('WORKER-REQUEST  = empty-frame %s"MDPW01" %d2 client empty-frame body');
    expect(text).toContain("body            = 1*frame");
    const client = grammar(loadCodecModel("models/majordomo/mdp01_client_msg.xml"));
    expect(client).toContain('REQUEST         = empty-frame %s"MDPC01" service body');
  });
});
