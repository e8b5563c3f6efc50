/** The plivo platform: XML checks, the caller-script driver, V3 signatures against plivo's validateV3Signature, the example handler. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import plivo from "plivo";
import { loadPlatform } from "../../src/platforms/registry.js";
import type { CallWebhook, HttpReply, ReplyContext } from "../../src/platforms/types.js";
import { parsePlivoReply } from "../../src/platforms/plivo/reply.js";
import { plivoXmlGrammar } from "../../src/platforms/plivo/grammar.js";
import { plivoSignature } from "../../src/signing/plivo.js";
import { getScheme } from "../../src/signing/index.js";
import { repoRoot } from "../helpers.js";
import { failuresOf, loadFixtureScript, loadFlowObject, probeHandler, runScripts, serve, type LocalHandler } from "../script-harness.js";

const token = "MAZDQ1ZJIYMDGWNJY0ZT-test-token";

interface PlivoHandlerModule {
  createPlivoHandler(options: { authTokens: string[]; publicUrl?: string; log?: (line: string) => void }): import("node:http").RequestListener;
}
const handlerModule = async () => (await import(pathToFileURL(join(repoRoot, "examples", "plivo-handler.js")).href)) as PlivoHandlerModule;

const xmlReply = (xml: string, contentType = "application/xml"): HttpReply => ({
  status: 200,
  headers: { "content-type": contentType },
  body: Buffer.from(xml),
});
const context: ReplyContext = {
  eventType: "answer",
  waits: true,
  expectsActions: false,
  request: {
    method: "POST",
    url: new URL("https://agent.test/plivo/answer"),
    body: Buffer.alloc(0),
    contentType: "application/x-www-form-urlencoded",
    headers: {},
  },
};
const findings = (xml: string) => parsePlivoReply(xmlReply(xml), context).failures.map((finding) => `${finding.path}: ${finding.message}`);

describe("plivo XML replies", () => {
  it("maps XML built with plivo's builder onto normalised actions, nested prompts first", () => {
    const response = new (
      plivo.Response as unknown as new () => {
        addGetInput(attributes: object): { addSpeak(text: string): unknown };
        addWait(attributes: object): unknown;
        addHangup(): unknown;
        toXML(): string;
      }
    )();
    response.addGetInput({ action: "https://agent.test/plivo/input", inputType: "dtmf speech", numDigits: "1" }).addSpeak("Press 1");
    response.addWait({ length: "2" });
    response.addHangup();
    const parsed = parsePlivoReply(xmlReply(response.toXML()), context);
    assert.deepEqual(parsed.failures, []);
    assert.deepEqual(
      parsed.actions.map(({ type, path }) => `${type}@${path}`),
      ["speak@Response/GetInput[1]/Speak[1]", "listen@Response/GetInput[1]", "pause@Response/Wait[1]", "hangup@Response/Hangup[1]"],
    );
    assert.equal(parsed.actions[0]!["barge_in"], true);
    assert.deepEqual(parsed.actions[1]!["input"], ["dtmf", "speech"]);
    assert.deepEqual(parsed.native?.select("Response/GetInput@action"), ["https://agent.test/plivo/input"]);
    assert.deepEqual(parsed.native?.select("Response/GetInput[1]/Speak"), ["Press 1"]);
  });

  it("names invalid XML by element path, attribute and line:column", () => {
    assert.deepEqual(findings("<Response><Gather/></Response>"), [
      `Response/Gather[1]: unknown element <Gather> (Plivo XML has ${plivoXmlGrammar.root.children.join(", ")})`,
    ]);
    assert.deepEqual(findings('<Response><GetInput inputType="dtmf"><Dial><Number>1555</Number></Dial></GetInput></Response>'), [
      "Response/GetInput[1]/Dial[1]: <Dial> cannot be nested in <GetInput> (it takes Speak, Play, Wait)",
    ]);
    assert.deepEqual(findings('<Response><Speak voicee="WOMAN">Hi</Speak></Response>'), [
      "Response/Speak[1]@voicee: not a valid attribute of <Speak> (valid: language, loop, voice)",
    ]);
    assert.deepEqual(findings("<Response><Speak>Hi</Response>"), [
      "1:20: not well-formed XML (Expected closing tag 'Speak' (opened in line 1, col 11) instead of closing tag 'Response'.)",
    ]);
    assert.deepEqual(findings("<Say>Hi</Say>"), ["Say: expected one <Response> root element, got <Say>"]);
    assert.deepEqual(
      parsePlivoReply(xmlReply("<Response/>", "application/json"), context).failures.map((finding) => finding.message),
      ['expected text/xml or application/xml, got "application/json"'],
    );
  });

  it("checks GetInput/GetDigits parameters, URLs and what follows a Hangup", () => {
    assert.deepEqual(findings('<Response><GetInput action="/plivo/input" inputType="voice" method="PUT" numDigits="one"/></Response>'), [
      'Response/GetInput[1]@method: expected GET or POST, got "PUT"',
      'Response/GetInput[1]@numDigits: expected a whole number, got "one"',
      'Response/GetInput[1]@inputType: expected dtmf, speech or "dtmf speech", got "voice"',
    ]);
    assert.deepEqual(findings('<Response><GetInput action="/plivo/input"/></Response>'), [
      'Response/GetInput[1]@inputType: required: dtmf, speech or "dtmf speech"',
    ]);
    assert.deepEqual(findings('<Response><GetDigits action="ftp://x/y" numDigits="1"/></Response>'), [
      'Response/GetDigits[1]@action: expected an http(s) URL, got "ftp://x/y"',
    ]);
    // Never reached, but Plivo runs the document: a warning.
    assert.deepEqual(findings("<Response><Hangup/><Speak>Still here?</Speak></Response>"), []);
    assert.deepEqual(
      parsePlivoReply(xmlReply("<Response><Hangup/><Speak>Still here?</Speak></Response>"), context).warnings.map(
        (finding) => `${finding.path}: ${finding.message}`,
      ),
      ["Response/Speak[1]: unreachable: nothing runs after <Hangup> (Response/Hangup[1])"],
    );
    assert.deepEqual(findings("<Response><Stream>https://agent.test/media</Stream></Response>"), [
      'Response/Stream[1]: expected a ws(s) URL as the text, got "https://agent.test/media"',
    ]);
  });

  it("the grammar is the one plivo's XML builder enforces today (staleness)", async () => {
    const { extractPlivoGrammar } = (await import(pathToFileURL(join(repoRoot, "scripts", "extract-plivo-grammar.mjs")).href)) as {
      extractPlivoGrammar(): unknown;
    };
    assert.deepEqual(extractPlivoGrammar(), plivoXmlGrammar, "run: node scripts/extract-plivo-grammar.mjs");
  });
});

describe("plivo signatures", () => {
  const signer = getScheme("plivo").create([{ value: token, source: "(test)" }], { purpose: "sign" });
  const url = "https://agent.test/plivo/answer?b=2&a=1";
  const form = "CallUUID=abc&From=15550100001&To=15550100002&Speech=caf%C3%A9+au+lait";
  const params = Object.fromEntries(new URLSearchParams(form));

  it("reproduces the PROVIDERS §6.3 vector (checked with plivo@4 validateV3Signature)", () => {
    const vector = plivoSignature(
      "my_auth_token",
      "POST",
      "https://answer.url/path?b=2&a=1",
      new URLSearchParams({ CallUUID: "x", From: "+1", To: "+2" }),
      "12345",
    );
    assert.equal(vector, "MdPD0TPoPazAuuWYhMLvJe4y/XhwYV74G0Q+am34drk=");
    assert.equal(
      plivo.validateV3Signature("POST", "https://answer.url/path?b=2&a=1", "12345", "my_auth_token", vector, { CallUUID: "x", From: "+1", To: "+2" }),
      true,
    );
    const verdict = getScheme("plivo")
      .create([{ value: "my_auth_token", source: "(test)" }], { purpose: "verify" })
      .verify(
        {
          headers: { "x-plivo-signature-v3": vector, "x-plivo-signature-v3-nonce": "12345", "content-type": "application/x-www-form-urlencoded" },
          body: Buffer.from("CallUUID=x&From=%2B1&To=%2B2"),
          method: "POST",
          url: "https://answer.url/path?b=2&a=1",
        },
        { now: 0, toleranceSeconds: 300 },
      );
    assert.deepEqual(verdict, { valid: true });
  });

  it("vwh's signatures verify in validateV3Signature (POST form, GET query), and a tampered parameter fails in both", () => {
    const headers = signer.sign({
      id: "evt_1",
      timestamp: 0,
      body: Buffer.from(form),
      method: "POST",
      url,
      contentType: "application/x-www-form-urlencoded",
    }).headers;
    const nonce = headers["x-plivo-signature-v3-nonce"]!;
    assert.equal(plivo.validateV3Signature("POST", url, nonce, token, headers["x-plivo-signature-v3"]!, params), true);
    assert.equal(plivo.validateV3Signature("POST", url, nonce, token, headers["x-plivo-signature-ma-v3"]!, params), true);
    assert.equal(plivo.validateV3Signature("POST", url, nonce, token, headers["x-plivo-signature-v3"]!, { ...params, To: "15550100999" }), false);
    const received = { headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, method: "POST", url };
    assert.deepEqual(signer.verify({ ...received, body: Buffer.from(form) }, { now: 0, toleranceSeconds: 300 }), { valid: true });
    assert.deepEqual(signer.verify({ ...received, body: Buffer.from(form.replace("15550100002", "15550100999")) }, { now: 0, toleranceSeconds: 300 }), {
      valid: false,
      reason: "no matching signature",
    });
    const getUrl = "https://agent.test/plivo/answer?CallUUID=abc&From=15550100001";
    const get = signer.sign({ id: "evt_2", timestamp: 0, body: Buffer.alloc(0), method: "GET", url: getUrl, contentType: "" }).headers;
    assert.equal(plivo.validateV3Signature("GET", getUrl, get["x-plivo-signature-v3-nonce"]!, token, get["x-plivo-signature-v3"]!), true);
  });

  it("accepts any signature of a comma-separated list, as plivo-node does", () => {
    const headers = signer.sign({
      id: "evt_3",
      timestamp: 0,
      body: Buffer.from(form),
      method: "POST",
      url,
      contentType: "application/x-www-form-urlencoded",
    }).headers;
    const listed = {
      ...headers,
      "x-plivo-signature-v3": `${"A".repeat(43)}=,${headers["x-plivo-signature-v3"]}`,
      "content-type": "application/x-www-form-urlencoded",
    };
    assert.equal(plivo.validateV3Signature("POST", url, headers["x-plivo-signature-v3-nonce"]!, token, listed["x-plivo-signature-v3"], params), true);
    assert.deepEqual(signer.verify({ headers: listed, body: Buffer.from(form), method: "POST", url }, { now: 0, toleranceSeconds: 300 }), { valid: true });
  });
});

describe("plivo platform data", () => {
  it("identifies answer, GetInput and hangup requests; its starters validate", async () => {
    const platform = await loadPlatform("plivo");
    const identify = (body: string) => platform.identify({ method: "POST", path: "/plivo/answer", headers: {}, body: Buffer.from(body) });
    assert.deepEqual(identify("CallUUID=u-1&Event=StartApp&From=1555"), { eventType: "answer", callId: "u-1", eventId: undefined });
    assert.equal(identify("CallUUID=u-1&InputType=speech&Speech=hi").eventType, "get_input");
    assert.equal(identify("CallUUID=u-1&Event=Hangup&HangupCause=NORMAL_CLEARING").eventType, "hangup");
    for (const starter of platform.starters) await loadFlowObject(starter.flow({ from: "+15550100001", to: "+15550100002" }), "plivo");
  });
});

describe("plivo calls (driver)", () => {
  const setup = (settings: Record<string, unknown> = {}) => ({
    call: { callId: "uuid-1", from: "+15550100001", to: "+15550100002", direction: undefined },
    url: new URL("https://agent.test/plivo/answer"),
    start: new Date("2026-11-30T10:00:00Z"),
    newId: (prefix: string) => `${prefix}_1`,
    settings,
    now: () => 0,
    wait: async () => undefined,
  });
  const menu =
    '<Response><GetInput action="/plivo/input" inputType="dtmf speech" numDigits="1"><Speak>Press 1</Speak></GetInput><Speak>Nothing heard.</Speak></Response>';

  it("posts the answer form, sends GetInput results to the action URL, falls through on silence, and reports the hangup", async () => {
    const platform = await loadPlatform("plivo");
    const driver = await platform.startCall(setup());
    const sent: CallWebhook[] = [];
    const play = async (reply: (webhook: CallWebhook) => string | undefined) => {
      for (;;) {
        const move = await driver.next();
        if (move.kind === "observed" || move.kind === "executed") continue;
        if (move.kind !== "send") return move;
        sent.push(move.webhook);
        const xml = reply(move.webhook);
        const http: HttpReply = xml === undefined ? { status: 200, headers: {}, body: Buffer.alloc(0) } : xmlReply(xml);
        driver.replied(move.webhook, {
          ok: true,
          reply: http,
          parsed: platform.parseReply(http, {
            eventType: move.webhook.eventType,
            waits: move.webhook.waits,
            expectsActions: false,
            request: move.webhook.request,
          }),
        });
      }
    };
    assert.equal((await play(() => menu)).kind, "await-caller");
    const answer = new URLSearchParams(sent[0]!.request.body.toString("utf8"));
    assert.equal(sent[0]!.request.contentType, "application/x-www-form-urlencoded");
    assert.deepEqual(
      [answer.get("CallUUID"), answer.get("From"), answer.get("CallStatus"), answer.get("Event"), answer.get("Direction")],
      ["1d8bb42b-ad4f-4ae6-a228-b039a229d2bc", "15550100001", "ringing", "StartApp", "inbound"],
    );
    // Plivo's CallUUID is a UUID: vwh's call id maps onto one, the same every time.
    assert.match(answer.get("CallUUID")!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    driver.caller({ kind: "say", text: "billing please", confidence: 0.87 }, 500);
    assert.equal((await play(() => menu)).kind, "await-caller");
    const input = new URLSearchParams(sent[1]!.request.body.toString("utf8"));
    assert.equal(sent[1]!.request.url.href, "https://agent.test/plivo/input");
    assert.deepEqual([input.get("InputType"), input.get("Speech"), input.get("SpeechConfidenceScore")], ["speech", "billing please", "0.87"]);
    // Silence: no request; the document goes on to its last Speak, and its end hangs up.
    driver.caller({ kind: "silence", ms: 5000 }, undefined);
    assert.deepEqual(await play(() => undefined), { kind: "ended", reason: "handler_hangup" });
    const hangup = new URLSearchParams(sent[2]!.request.body.toString("utf8"));
    assert.equal(sent[2]!.request.url.pathname, "/plivo/answer");
    assert.deepEqual([hangup.get("Event"), hangup.get("CallStatus"), hangup.get("HangupCause")], ["Hangup", "completed", "NORMAL_CLEARING"]);
    assert.equal(sent.length, 3);
  });

  it("takes hangup_url and answer_method from the settings, and refuses bad ones", async () => {
    const platform = await loadPlatform("plivo");
    const driver = await platform.startCall(setup({ answer_method: "GET", hangup_url: "https://agent.test/plivo/hangup" }));
    const move = await driver.next();
    assert.equal(move.kind === "send" && `${move.webhook.request.method} ${move.webhook.request.url.searchParams.get("Event")}`, "GET StartApp");
    await assert.rejects(platform.startCall(setup({ hangup_url: "/relative" })), /settings\.hangup_url: expected an absolute http\(s\) URL/);
  });
});

describe("plivo caller scripts against examples/plivo-handler.js", () => {
  let handler: LocalHandler;
  before(async () => {
    const { createPlivoHandler } = await handlerModule();
    handler = await serve(createPlivoHandler({ authTokens: [token] }));
  });
  after(() => handler.close());

  it("the bundled scripts pass (menu with GetDigits, silence then speech), duplicates included", async () => {
    const flows = await Promise.all(["plivo-menu.json", "plivo-speech.json"].map((name) => loadFixtureScript(name, "plivo")));
    const result = await runScripts(flows, `${handler.origin}/plivo/answer`, token, { faults: { duplicates: 1, reorderWindow: 0, seed: 5, bail: false } });
    assert.deepEqual(failuresOf(result), []);
    assert.deepEqual(
      result.flows[0]!.events.map((event) => event.eventType),
      ["answer", "get_input", "get_digits", "hangup"],
    );
  });

  it("the handler refuses a wrong auth token (401)", async () => {
    const flow = await loadFixtureScript("plivo-menu.json", "plivo");
    const result = await runScripts([flow], `${handler.origin}/plivo/answer`, "wrong-token");
    assert.match(failuresOf(result)[0]!, /expected status 2xx, got 401/);
  });

  it("passes vwh verify-signature's probe (forged, tampered, stale, replayed)", async () => {
    assert.deepEqual(await probeHandler(`${handler.origin}/plivo/answer`, "plivo", token), { wrong: [], asExpected: 7 });
  });

  it("survives hostile requests: unsigned, forged, oversized, signed garbage", async () => {
    const signer = getScheme("plivo").create([{ value: token, source: "(test)" }], { purpose: "sign" });
    const signed = (path: string, body: string) => {
      const url = `${handler.origin}${path}`;
      const { headers } = signer.sign({
        id: "evt",
        timestamp: 0,
        body: Buffer.from(body),
        method: "POST",
        url,
        contentType: "application/x-www-form-urlencoded",
      });
      return fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body });
    };
    const statuses = [
      (await fetch(`${handler.origin}/plivo/answer`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "CallUUID=x" }))
        .status,
      (
        await fetch(`${handler.origin}/plivo/answer`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-plivo-signature-v3": "AAAA", "x-plivo-signature-v3-nonce": "1" },
          body: "CallUUID=x",
        })
      ).status,
      (await fetch(`${handler.origin}/plivo/answer`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status,
      (await fetch(`${handler.origin}/plivo/input`, { method: "POST", body: "x".repeat(100_000) }).catch(() => ({ status: 413 }))).status,
      (await signed("/plivo/input", "%%%&&&=&Digits=%E0%A4%A")).status,
      (await signed("/plivo/input", "Digits=9&Digits=1&Speech=")).status,
      (await fetch(`${handler.origin}/elsewhere`)).status,
    ];
    assert.deepEqual(statuses, [401, 401, 415, 413, 200, 200, 404]);
  });

  it("a handler whose XML breaks the grammar fails the call, named by path", async () => {
    const bad = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/xml" }).end('<Response><GetInput action="/plivo/input"><Speak>Hi</Speak><Record/></GetInput></Response>');
    });
    try {
      const flow = await loadFlowObject({ version: 1, platform: "plivo", name: "bad XML", script: [{}, { press: "1" }] }, "plivo");
      const result = await runScripts([flow], `${bad.origin}/plivo/answer`, token);
      assert.deepEqual(failuresOf(result).slice(0, 1), [
        "answer Response/GetInput[1]/Record[1]: <Record> cannot be nested in <GetInput> (it takes Speak, Play, Wait)",
      ]);
      assert.equal(result.flows[0]!.turns!.at(-1)!.ended, "failed");
    } finally {
      await bad.close();
    }
  });
});
