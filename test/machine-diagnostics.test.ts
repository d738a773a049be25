/**
 * State-machine models that would check and then misbehave are caught by `check`: a method that shares a
 * message's event, handlers nothing can raise, messages and method calls no state handles, method results
 * that an accepted reply cannot give, and problems hidden behind an earlier one. Every shipped model checks
 * without a single diagnostic.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Project } from "ts-morph";
import { afterEach, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../generator/diagnostics.js";
import type { MachineIR } from "../generator/ir.js";
import { CLIENT_ENGINE_MEMBERS, ENGINE_HOOKS } from "../generator/reserved-names.js";
import { loadModel } from "../generator/model.js";
import { ClientEngine } from "../runtime/engine/client.js";
import type { Codec } from "../runtime/wire/codec.js";
import type { DynamicMessage } from "../runtime/wire/interpret.js";

/** The key-value protocol of issue 8: GET, SET, their answers, and a server push. */
const KV_MSG = `<class name="kv_msg" signature="4" script="zproto_codec_c">
<message name="GET" role="client"><field name="key" type="string"/></message>
<message name="SET" role="client"><field name="key" type="string"/><field name="value" type="string"/></message>
<message name="FOUND" role="server"><field name="value" type="string"/></message>
<message name="MISSING" role="server"/>
<message name="BYE"/>
</class>
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes the protocol and a machine model (`body` inside its `<class>`, from line 2); returns the model's path. */
function machine(kind: "server" | "client", body: string, codec = KV_MSG): string {
  const dir = mkdtempSync(join(tmpdir(), "zproto-machine-"));
  dirs.push(dir);
  writeFileSync(join(dir, "kv_msg.xml"), codec);
  const path = join(dir, `kv_${kind}.xml`);
  writeFileSync(path, `<class name="kv_${kind}" script="zproto_${kind}_c" protocol_class="kv_msg">\n${body}\n</class>\n`);
  return path;
}

/** `line:column severity: message` of every diagnostic in the model file itself, in order. */
function diagnosticsOf(path: string): string[] {
  return loadModel(path).diagnostics.filter((d) => d.file.endsWith(path.split("/").pop()!)).map((d) => `${d.line}:${d.column} ${d.severity}: ${d.message}`);
}

const CLIENT_START = `<state name="start">
<event name="constructor" next="ready"><action name="connect"/><action name="signal success"/></event>
</state>`;

describe("client methods and the events they raise", () => {
  it("refuse a method named like a protocol message, at the method's name", () => {
    const path = machine("client", [
      '<state name="ready"><event name="set"><action name="prepare set"/><action name="send" message="SET"/></event>',
      '<event name="FOUND"/><event name="MISSING"/></state>',
      '<method name="set"><field name="key" type="string"/><accept reply="SUCCESS"/></method>',
      '<reply name="SUCCESS"/>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "4:9 error: method set would raise event set, which is also the event of protocol message SET; a state could not tell a call from the message: rename the method",
    ]);
    expect(loadModel(path).model).toBeNull();
  });

  it("refuse a method named like an engine event, and API names the engine uses or another method has", () => {
    const path = machine("client", [
      '<state name="ready"><event name="expired"/><event name="close"/><event name="fetch"/><event name="FOUND"/><event name="MISSING"/></state>',
      '<method name="expired"/>',
      '<method name="close"/>',
      '<method name="fetch"/>',
      '<send><message name="GET" method="fetch"/></send>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "3:9 error: method expired would raise event expired, which the engine raises itself: rename the method",
      "4:9 error: method close would be the client's close(), which the engine uses; rename it",
      "6:27 error: <send> of GET would be the client's fetch(), which method fetch already is; rename one",
    ]);
  });

  it("refuse API names every JavaScript object has, and then, which would make the client a thenable", () => {
    const path = machine("client", [
      CLIENT_START,
      '<state name="ready"><event name="then"/><event name="to string"/><event name="FOUND"/><event name="MISSING"/></state>',
      '<method name="constructor"><accept reply="SUCCESS"/></method>',
      '<method name="then"><accept reply="SUCCESS"/></method>',
      '<method name="to string"><accept reply="SUCCESS"/></method>',
      '<reply name="SUCCESS"/>',
      '<send><message name="GET" method="value of"/></send>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "7:9 error: method then would be the client's then(), which makes an object a thenable: await would call it instead of handing the object over; rename it",
      "8:9 error: method to string would be the client's toString(), which every JavaScript object has; rename it",
      "10:27 error: <send> of GET would be the client's valueOf(), which every JavaScript object has; rename it",
    ]);
  });

  it("refuse actions named like the engine's hooks or like what every JavaScript object has", () => {
    const path = machine("server", [
      '<state name="serving">',
      '<event name="GET"><action name="server configured"/><action name="terminated"/></event>',
      '<event name="SET"><action name="then"/><action name="has own property"/><action name="look up"/></event>',
      "</state>",
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      '3:27 error: action "server configured" would be named serverConfigured, which is a hook the engine calls; rename it',
      '3:61 error: action "terminated" would be named terminated, which is a hook the engine calls; rename it',
      '4:27 error: action "then" would be named then, which makes an object a thenable: await would call it instead of handing the object over; rename it',
      '4:48 error: action "has own property" would be named hasOwnProperty, which every JavaScript object has; rename it',
    ]);
  });

  it("know only the model language's argument types, not the names every JavaScript object has", () => {
    const path = machine("client", [
      CLIENT_START,
      '<state name="ready"><event name="fetch"/><event name="FOUND"/><event name="MISSING"/></state>',
      '<method name="constructor"><accept reply="SUCCESS"/></method>',
      '<method name="fetch"><field name="key" type="constructor"/><field name="other" type="__proto__"/><accept reply="SUCCESS"/></method>',
      '<reply name="SUCCESS"/>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      '7:40 error: argument key has unknown type "constructor"',
      '7:80 error: argument other has unknown type "__proto__"',
    ]);
  });

  it("keeps the list of hooks in step with the engines' ServerHooks and ClientHooks", () => {
    const project = new Project({ skipAddingFilesFromTsConfig: true });
    const hooks = [["runtime/engine/server.ts", "ServerHooks"], ["runtime/engine/client.ts", "ClientHooks"]]
      .flatMap(([file, name]) => project.addSourceFileAtPath(file).getInterfaceOrThrow(name).getMembers().map((member) => member.getSymbolOrThrow().getName()));
    expect(new Set(hooks)).toEqual(ENGINE_HOOKS);
  });

  it("keeps the list of engine member names in step with the client engine", () => {
    const codec = { encode: () => [], decode: () => ({ message: "" }) } as unknown as Codec<DynamicMessage, unknown>;
    const engine = new ClientEngine({ name: "probe", states: [{ name: "start", handlers: {}, before: [], after: [] }] }, codec, {}, { createClient: () => ({}) });
    const members = new Set([...Object.getOwnPropertyNames(ClientEngine.prototype), ...Object.keys(engine)]);
    members.delete("constructor");
    expect([...members].filter((member) => !CLIENT_ENGINE_MEMBERS.has(member))).toEqual([]);
    expect([...CLIENT_ENGINE_MEMBERS].filter((member) => !members.has(member))).toEqual([]);
  });
});

describe("events nothing raises and messages nothing handles", () => {
  it("warn about a misspelt message event and the message it leaves unhandled, with a suggestion", () => {
    const path = machine("server", [
      '<state name="serving">',
      '<event name="GTE"><action name="look up"/><action name="send" message="FOUND"/></event>',
      '<event name="SET"><action name="store"/></event>',
      '<event name="expird"><action name="terminate"/></event>',
      '<event name="tick"><action name="send" message="BYE"/></event>',
      "</state>",
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "1:50 warning: no state of kv_server handles message GET (role=\"client\": the client sends it); the server drops it; event gte (line 3) looks like a misspelling of it",
      "3:8 warning: event gte is not a message, a method or an engine event, so only an action could raise it; did you mean message GET?",
      "5:8 warning: event expird is not a message, a method or an engine event, so only an action could raise it; did you mean engine event expired?",
    ]);
  });

  it("warn about a message without a role only when a misspelt event points at it", () => {
    const path = machine("server", [
      '<state name="serving"><event name="GET"/><event name="SET"/><event name="BEY"/></state>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "1:50 warning: no state of kv_server handles message BYE; the server drops it; event bey (line 2) looks like a misspelling of it",
      "2:68 warning: event bey is not a message, a method or an engine event, so only an action could raise it; did you mean message BYE?",
    ]);
  });

  it("say that only a wildcard sees a message meant for the machine", () => {
    const path = machine("client", `${CLIENT_START}\n<state name="ready"><event name="FOUND"/><event name="*"/></state>\n<method name="constructor"><accept reply="SUCCESS"/></method>\n<reply name="SUCCESS"/>`);
    expect(diagnosticsOf(path)).toEqual([
      '1:50 warning: no state of kv_client handles message MISSING (role="server": the server sends it); only "*" handlers see it',
    ]);
  });

  it("warn about a misspelt method event, a method no state handles and the event of an immediate method", () => {
    const path = machine("client", [
      CLIENT_START,
      '<state name="ready"><event name="FOUND"/><event name="MISSING"/><event name="fecth"/><event name="receive"/></state>',
      '<method name="constructor"><accept reply="SUCCESS"/></method>',
      '<method name="fetch"><accept reply="SUCCESS"/></method>',
      '<method name="receive" immediate="1"><accept reply="SUCCESS"/></method>',
      '<reply name="SUCCESS"/>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "5:72 warning: event fecth is not a message, a method or an engine event, so only an action could raise it; did you mean method fetch?",
      "5:93 warning: event receive never happens: method receive is immediate, so calling it raises no event",
      "7:9 warning: method fetch raises event fetch, which no state handles; the event is dropped and every call times out; event fecth (line 5) looks like a misspelling of it",
    ]);
  });

  it("let actions raise events whose names are close to nothing, or to a message only by one more letter", () => {
    const path = machine("server", '<state name="serving"><event name="GET"/><event name="SET"/><event name="BYE"/><event name="sets"/><event name="poll"/></state>');
    expect(diagnosticsOf(path)).toEqual([]);
  });
});

describe("what a method call resolves with", () => {
  const client = (methods: string, replies = '<reply name="FOUND"><field name="value" type="string"/></reply><reply name="MISSING"/>'): string =>
    machine("client", `${CLIENT_START}\n<state name="ready"><event name="fetch"/><event name="FOUND"/><event name="MISSING"/></state>\n${methods}\n${replies}`);
  const returns = (path: string): unknown => (loadModel(path).model as MachineIR | null)?.methods.find((method) => method.event === "fetch")?.returns;

  it("is undefined where an accepted reply lacks the returned field, and the type says so", () => {
    const path = client('<method name="fetch" return="value"><accept reply="FOUND"/><accept reply="MISSING"/></method>');
    expect(diagnosticsOf(path)).toEqual([]);
    expect(returns(path)).toEqual({ key: "value", tsType: "string | undefined" });
  });

  it("is never a field only a failure reply has: those reject the call", () => {
    const path = client(
      '<method name="fetch" return="reason"><accept reply="FOUND"/><accept reply="FAILURE"/></method>',
      '<reply name="FOUND"><field name="value" type="string"/></reply><reply name="FAILURE"><field name="reason" type="string"/></reply><reply name="MISSING"/>',
    );
    expect(diagnosticsOf(path)).toEqual([
      "6:22 error: method fetch returns reason, which only failure replies have (FAILURE); a failure reply rejects the call instead",
    ]);
  });

  it("is the reply's msg field with virtual=\"1\", and virtual beside a return of another type has no effect", () => {
    const replies = '<reply name="FOUND"><field name="value" type="string"/><field name="body" type="msg"/></reply><reply name="MISSING"/>';
    const virtual = client('<method name="fetch" virtual="1"><accept reply="FOUND"/></method>', replies);
    expect(diagnosticsOf(virtual)).toEqual([]);
    expect(returns(virtual)).toEqual({ key: "body", tsType: "Uint8Array[]" });
    const both = client('<method name="fetch" return="value" virtual="1"><accept reply="FOUND"/></method>', replies);
    expect(diagnosticsOf(both)).toEqual(['6:37 warning: virtual="1" on method fetch has no effect: return names value, a string field, not a msg field']);
    const none = client('<method name="fetch" virtual="1"><accept reply="MISSING"/></method>');
    expect(diagnosticsOf(none)).toEqual([
      '6:22 error: virtual="1" makes method fetch resolve with the msg field of its reply, but no accepted reply that is not a failure has one',
    ]);
  });

  it("refuses an immediate method that waits for nothing or takes arguments no action would see", () => {
    const path = client('<method name="fetch" immediate="1"><field name="key" type="string"/></method>');
    expect(diagnosticsOf(path)).toEqual([
      "5:28 warning: event fetch never happens: method fetch is immediate, so calling it raises no event",
      "6:22 error: immediate method fetch raises no event and accepts no reply, so it does nothing",
      "6:22 error: immediate method fetch raises no event, so no action would see its arguments (key)",
    ]);
  });
});

describe("constructor and destructor results", () => {
  it("warn that return on the constructor or the destructor has no effect, and type neither call by it", () => {
    const path = machine("client", [
      CLIENT_START,
      '<state name="ready"><event name="destructor"><action name="signal success"/><action name="terminate"/></event>',
      '<event name="FOUND"/><event name="MISSING"/></state>',
      '<method name="constructor" return="greeting"><accept reply="SUCCESS"/></method>',
      '<method name="destructor" return="greeting"><accept reply="SUCCESS"/></method>',
      '<reply name="SUCCESS"><field name="greeting" type="string"/></reply>',
    ].join("\n"));
    expect(diagnosticsOf(path)).toEqual([
      "7:28 warning: return on the constructor has no effect: create() resolves with the client itself; an action can keep the value on the client",
      "8:27 warning: return on the destructor has no effect: close() resolves with nothing; an action can keep the value on the client",
    ]);
    const model = loadModel(path).model as MachineIR;
    expect(model.methods.map((method) => method.returns)).toEqual([undefined, undefined]);
  });
});

describe("every problem of a machine in one run", () => {
  it("checks a machine whose protocol is missing, and the actions of a nameless event", () => {
    const path = machine("server", [
      '<state name="serving"><event next="nowhere"><action name="send"/></event></state>',
    ].join("\n"));
    writeFileSync(path, readFileSync(path, "utf8").replace(' protocol_class="kv_msg"', ""));
    expect(diagnosticsOf(path)).toEqual([
      "1:1 error: <class> needs a protocol_class attribute",
      "2:23 error: <event> needs a name attribute",
      "2:45 error: <action> needs a message attribute naming a protocol message",
    ]);
  });
});

describe("a machine with an include that cannot be read", () => {
  it("reports the include, and not the states, replies and messages the missing part may hold", () => {
    const body = [
      CLIENT_START,
      '<include filename="_states.xml"/>',
      '<state name="ready" inherit="defaults"><event name="fetch" next="waiting"><action name="send" message="LOOKUP"/></event></state>',
      '<method name="constructor"><accept reply="SUCCESS"/></method>',
      '<method name="fetch" return="value"><accept reply="FOUND"/></method>',
      '<reply name="SUCCESS"/>',
    ].join("\n");
    const complete = machine("client", body.replace('<include filename="_states.xml"/>', ""));
    expect(diagnosticsOf(complete)).toEqual([
      "1:50 warning: no state of kv_client handles message FOUND (role=\"server\": the server sends it); the client drops it",
      "1:50 warning: no state of kv_client handles message MISSING (role=\"server\": the server sends it); the client drops it",
      "6:21 error: superstate defaults does not exist",
      "6:60 error: next state waiting does not exist",
      "6:95 error: the protocol has no message LOOKUP",
      "8:22 error: method fetch returns value, which no accepted reply has",
      "8:45 error: method fetch accepts reply FOUND, which is not defined",
    ]);
    const incomplete = machine("client", body);
    expect(diagnosticsOf(incomplete)).toEqual([`5:10 error: file ${join(dirname(incomplete), "_states.xml")} does not exist`]);
  });
});

describe("shipped models", () => {
  // As generate finds them: fragments (`_` names) are not models, and may be included from anywhere in the tree.
  const models = (root: string): string[] => readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? models(path) : path.endsWith(".xml") && !name.startsWith("_") ? [path] : [];
  });

  it("check without a single warning", () => {
    const trees = ["models", "test/fixtures/models/engine", "test/fixtures/models/kv"];
    const all = trees.flatMap((root) => models(root).map((path) => ({ path, root })));
    expect(all.length).toBeGreaterThan(20);
    expect(all.flatMap(({ path, root }) => loadModel(path, { includeRoot: root }).diagnostics.map(formatDiagnostic))).toEqual([]);
  });
});
