/** The vonage platform: NCCO checks, the caller-script driver, JWT signatures against @vonage/jwt, the example handler. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { verifySignature } from "@vonage/jwt";
import { Input, NCCOBuilder, Talk } from "@vonage/voice";
import { loadPlatform } from "../../src/platforms/registry.js";
import type { CallDriver, CallWebhook, DriverMove, HttpReply, ReplyContext } from "../../src/platforms/types.js";
import { nccoGrammar } from "../../src/platforms/vonage/grammar.js";
import { parseNccoReply } from "../../src/platforms/vonage/reply.js";
import { getScheme } from "../../src/signing/index.js";
import { json, repoRoot, runInProcess } from "../helpers.js";
import { failuresOf, loadFixtureScript, loadFlowObject, probeHandler, runScripts, serve, type LocalHandler } from "../script-harness.js";

const secret = "vwh-test-signature-secret-0123456789";
const jwt = createRequire(import.meta.url)("jsonwebtoken") as { sign(payload: object, secret: string, options: object): string };

interface VonageHandlerModule {
  createVonageHandler(options: { signatureSecrets: string[]; publicUrl?: string; log?: (line: string) => void }): import("node:http").RequestListener;
  ANSWER_PATH: string;
}
const handlerModule = async () => (await import(pathToFileURL(join(repoRoot, "examples", "vonage-handler.js")).href)) as VonageHandlerModule;

const jsonReply = (body: unknown, status = 200): HttpReply => ({
  status,
  headers: { "content-type": "application/json" },
  body: Buffer.from(JSON.stringify(body)),
});
const context = (eventType = "answer"): ReplyContext => ({
  eventType,
  waits: true,
  expectsActions: false,
  request: { method: "GET", url: new URL("http://127.0.0.1/webhooks/answer"), body: Buffer.alloc(0), contentType: undefined, headers: {} },
});
const findings = (body: unknown, eventType?: string) =>
  parseNccoReply(jsonReply(body), context(eventType)).failures.map((finding) => `${finding.path}: ${finding.message}`);

describe("vonage NCCO replies", () => {
  it("maps an NCCO built with @vonage/voice onto normalised actions", () => {
    const ncco = new NCCOBuilder()
      .addAction(new Talk("Hello", true))
      .addAction(new Input({ maxDigits: 1 }, undefined, "https://example.test/input"))
      .build();
    const parsed = parseNccoReply(jsonReply(ncco), context());
    assert.deepEqual(parsed.failures, []);
    assert.deepEqual(
      parsed.actions.map(({ type, path }) => `${type}@${path}`),
      ["speak@[0]", "listen@[1]"],
    );
    assert.equal(parsed.actions[0]!["barge_in"], true);
    assert.deepEqual(parsed.native?.select("[1].eventUrl[0]"), ["https://example.test/input"]);
  });

  it("names invalid NCCOs by path", () => {
    assert.deepEqual(findings([{ action: "talk" }]), ["[0].text: required (a string)"]);
    assert.match(findings([{ action: "speak", text: "hi" }])[0]!, /^\[0\]\.action: unknown action "speak" \(expected one of connect, conversation, input/);
    assert.deepEqual(findings([{ action: "talk", text: "hi", voice: "Amy" }]), ['[0]: unknown field "voice"']);
    assert.deepEqual(findings([{ action: "input", type: "dtmf" }]), ['[0].type: expected a list, got "dtmf"']);
    assert.deepEqual(findings({ action: "talk", text: "hi" }), ["body: expected an NCCO (a JSON array of actions), got an object"]);
    assert.deepEqual(findings([{ action: "connect", endpoint: [{ type: "phone" }] }]), ["[0].endpoint[0].number: required (a string)"]);
    assert.deepEqual(findings([]), ["body: expected at least one action: an empty NCCO hangs up at once"]);
  });

  it("reads the string values Vonage's own samples send as what they mean, and warns on the SDK's boolean endOnSilence (issue 24)", () => {
    const record = parseNccoReply(
      jsonReply([{ action: "record", beepStart: "true", endOnSilence: "3", timeOut: "60", eventUrl: ["https://example.test/rec"] }]),
      context(),
    );
    assert.deepEqual(record.failures, []);
    assert.equal(record.actions[0]!["beep"], true);
    assert.equal(record.actions[0]!["max_duration_s"], 60);
    assert.deepEqual(findings([{ action: "record", timeOut: "a minute" }]), ['[0].timeOut: expected a number or a numeric string (^\\d+$), got "a minute"']);
    const sdkTyped = parseNccoReply(jsonReply([{ action: "input", type: ["speech"], speech: { endOnSilence: true } }]), context());
    assert.deepEqual(sdkTyped.failures, []);
    assert.match(sdkTyped.warnings[0]?.message ?? "", /documents seconds of silence \(a number from 0\.4 to 10\)/);
  });

  it("reads an NCCO served as text/plain (ASP.NET Core's Ok(string)) with a warning, and fails one that is not JSON", () => {
    const ncco = Buffer.from(JSON.stringify([{ action: "talk", text: "hi" }]));
    const plain = parseNccoReply({ status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: ncco }, context());
    assert.deepEqual(plain.failures, []);
    assert.deepEqual(
      plain.actions.map((action) => action.type),
      ["speak"],
    );
    assert.match(plain.warnings[0]?.message ?? "", /expected application\/json, got "text\/plain; charset=utf-8": Vonage reads the NCCO anyway/);
    const html = parseNccoReply({ status: 200, headers: { "content-type": "text/html" }, body: Buffer.from("<html></html>") }, context());
    assert.match(html.failures[0]?.message ?? "", /^expected application\/json \(an NCCO\), got "text\/html" and a body that is not valid JSON/);
  });

  it("catches a bargeIn prompt with no input after it, bad URLs and input types", () => {
    assert.deepEqual(findings([{ action: "talk", text: "Hi", bargeIn: true }]), [
      "[0].bargeIn: bargeIn talk must be followed by an input action (Vonage keeps listening for barge-in until one)",
    ]);
    assert.deepEqual(
      findings([
        { action: "talk", text: "Hi", bargeIn: true },
        { action: "input", type: ["dtmf"] },
      ]),
      [],
    );
    assert.deepEqual(findings([{ action: "input", type: ["voice"], eventUrl: ["/input"] }]), [
      '[0].eventUrl[0]: expected an absolute http/https URL, got "/input"',
      '[0].type[0]: expected "dtmf" or "speech", got "voice"',
    ]);
    assert.deepEqual(findings([{ action: "connect", endpoint: [{ type: "websocket", uri: "https://agent.test/ws" }] }]), [
      '[0].endpoint[0].uri: expected a ws(s) URL, got "https://agent.test/ws"',
    ]);
  });

  it("lets the NCCO go on when an input result gets no NCCO back, but not the answer webhook", () => {
    const empty: HttpReply = { status: 204, headers: {}, body: Buffer.alloc(0) };
    assert.deepEqual(parseNccoReply(empty, context("input")).failures, []);
    assert.equal(parseNccoReply(empty, context("answer")).failures[0]?.message, "expected an NCCO (a JSON array of actions), got an empty reply (204)");
  });

  it("the grammar is the one @vonage/voice declares today (staleness)", async () => {
    const { extractVonageGrammar } = (await import(pathToFileURL(join(repoRoot, "scripts", "extract-vonage-grammar.mjs")).href)) as {
      extractVonageGrammar(): Promise<unknown>;
    };
    assert.deepEqual(await extractVonageGrammar(), nccoGrammar, "run: node scripts/extract-vonage-grammar.mjs");
    assert.deepEqual(Object.keys(nccoGrammar.actions), ["connect", "conversation", "input", "notify", "record", "stream", "talk", "wait"]);
  });
});

describe("vonage signatures", () => {
  const scheme = getScheme("vonage");
  const signer = scheme.create([{ value: secret, source: "(test)" }], { purpose: "sign" });
  const now = 1_800_000_000;
  const body = Buffer.from('{"status":"answered","uuid":"abc"}');
  const url = "https://agent.test/webhooks/event";
  const token = (headers: Record<string, string>) => headers["authorization"]!.replace(/^Bearer /, "");

  it("vwh's token verifies in @vonage/jwt, and its payload_hash is the body's SHA-256", () => {
    const headers = signer.sign({ id: "evt_1", timestamp: now, body, method: "POST", url, contentType: "application/json" }).headers;
    assert.equal(verifySignature(token(headers), secret), true);
    assert.equal(verifySignature(token(headers), "another-secret-entirely-0000"), false);
    const claims = JSON.parse(Buffer.from(token(headers).split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
    assert.equal(claims["payload_hash"], createHash("sha256").update(body).digest("hex"));
    assert.equal(claims["iss"], "Vonage");
    assert.deepEqual(signer.verify({ headers, body, method: "POST", url }, { now, toleranceSeconds: 300 }), { valid: true });
  });

  it("a token signed by jsonwebtoken (the SDK's JWT library) as Vonage signs verifies in vwh; GETs hash the query", () => {
    const getUrl = "https://agent.test/webhooks/answer?to=15550100002&from=15550100001&uuid=abc";
    const payloadHash = createHash("sha256")
      .update(JSON.stringify({ to: "15550100002", from: "15550100001", uuid: "abc" }))
      .digest("hex");
    const signed = jwt.sign({ iat: now, jti: "6c9a", iss: "Vonage", payload_hash: payloadHash }, secret, { algorithm: "HS256" });
    const verdict = signer.verify(
      { headers: { authorization: `Bearer ${signed}` }, body: Buffer.alloc(0), method: "GET", url: getUrl },
      { now, toleranceSeconds: 300 },
    );
    assert.deepEqual(verdict, { valid: true });
    const ours = signer.sign({ id: "evt_2", timestamp: now, body: Buffer.alloc(0), method: "GET", url: getUrl, contentType: "" }).headers;
    assert.equal(verifySignature(token(ours), secret), true);
  });

  it("a tampered body passes @vonage/jwt but not vwh, and the verdict says why", () => {
    const headers = signer.sign({ id: "evt_3", timestamp: now, body, method: "POST", url, contentType: "application/json" }).headers;
    const tampered = Buffer.from('{"status":"completed","uuid":"abc"}');
    assert.equal(verifySignature(token(headers), secret), true);
    const verdict = signer.verify({ headers, body: tampered, method: "POST", url }, { now, toleranceSeconds: 300 });
    assert.deepEqual(verdict, { valid: false, reason: "payload_hash does not match the body (@vonage/jwt's verifySignature does not check this; vwh does)" });
    assert.match(JSON.stringify(signer.verify({ headers, body, method: "POST", url }, { now: now + 900, toleranceSeconds: 300 })), /iat timestamp too old/);
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${token(headers).split(".")[1]}.`;
    assert.deepEqual(signer.verify({ headers: { authorization: `Bearer ${none}` }, body, method: "POST", url }, { now, toleranceSeconds: 300 }), {
      valid: false,
      reason: 'unsupported JWT alg "none" (Vonage signs callbacks with HS256)',
    });
  });
});

/** Drives a call to its first await-caller, collecting the webhooks. */
async function movesUntilCaller(
  driver: CallDriver,
  reply: (webhook: CallWebhook) => HttpReply | undefined,
): Promise<{ sent: CallWebhook[]; last: DriverMove }> {
  const platform = await loadPlatform("vonage");
  const sent: CallWebhook[] = [];
  for (;;) {
    const move = await driver.next();
    if (move.kind !== "send") {
      if (move.kind === "observed" || move.kind === "executed") continue;
      return { sent, last: move };
    }
    sent.push(move.webhook);
    const http = reply(move.webhook) ?? { status: 204, headers: {}, body: Buffer.alloc(0) };
    const parsed = platform.parseReply(http, {
      eventType: move.webhook.eventType,
      waits: move.webhook.waits,
      expectsActions: false,
      request: move.webhook.request,
    });
    driver.replied(move.webhook, { ok: true, reply: http, parsed });
  }
}

describe("vonage platform data", () => {
  it("identifies answer, status and input webhooks; its starters validate", async () => {
    const platform = await loadPlatform("vonage");
    const identify = (method: string, path: string, body = "") => platform.identify({ method, path, headers: {}, body: Buffer.from(body) });
    assert.deepEqual(identify("GET", "/webhooks/answer?to=1555&from=1666&uuid=leg-9&conversation_uuid=CON-1&endpoint_type=phone"), {
      eventType: "answer",
      callId: "leg-9",
      eventId: undefined,
    });
    assert.deepEqual(identify("POST", "/webhooks/event", '{"status":"completed","uuid":"leg-9"}'), {
      eventType: "completed",
      callId: "leg-9",
      eventId: undefined,
    });
    assert.equal(identify("POST", "/webhooks/input", '{"speech":{"results":[]},"uuid":"leg-9"}').eventType, "input");
    assert.equal(identify("POST", "/webhooks/notify", '{"step":"menu","uuid":"leg-9","conversation_uuid":"CON-1"}').eventType, "notify");
    // Not Vonage's: other platforms' JSON is left to them (the tunnel asks each platform in turn).
    assert.deepEqual(identify("POST", "/hook", '{"message":{"type":"status-update"}}'), { eventType: undefined, callId: undefined, eventId: undefined });
    for (const starter of platform.starters) await loadFlowObject(starter.flow({ from: "+15550100001", to: "+15550100002" }), "vonage");
  });
});

describe("vonage calls (driver)", () => {
  const setup = (settings: Record<string, unknown> = {}) => ({
    call: { callId: "leg-1", from: "+15550100001", to: "+15550100002", direction: undefined },
    url: new URL("https://agent.test/webhooks/answer"),
    start: new Date("2026-11-30T10:00:00Z"),
    newId: (prefix: string) => `${prefix}_1`,
    settings,
    now: () => 0,
    wait: async () => undefined,
  });
  const menu = [
    { action: "talk", text: "Press 1 or say something", bargeIn: true },
    { action: "input", type: ["dtmf", "speech"], dtmf: { maxDigits: 1 }, eventUrl: ["https://agent.test/webhooks/input"] },
  ];

  it("sends started, ringing, the answer (GET query), answered; the input result goes to its eventUrl", async () => {
    const platform = await loadPlatform("vonage");
    const driver = await platform.startCall(setup());
    const first = await movesUntilCaller(driver, (webhook) => (webhook.eventType === "answer" ? jsonReply(menu) : undefined));
    assert.deepEqual(
      first.sent.map((webhook) => `${webhook.eventType} ${webhook.request.method} ${webhook.request.url.pathname}`),
      ["started POST /webhooks/event", "ringing POST /webhooks/event", "answer GET /webhooks/answer", "answered POST /webhooks/event"],
    );
    assert.equal(first.sent[2]!.request.url.searchParams.get("from"), "15550100001");
    assert.equal(first.last.kind, "await-caller");
    driver.caller({ kind: "say", text: "book me in", confidence: 0.9 }, 1000);
    const second = await movesUntilCaller(driver, () =>
      jsonReply([
        { action: "record", eventUrl: ["https://agent.test/webhooks/recording"] },
        { action: "talk", text: "Bye" },
      ]),
    );
    const input = JSON.parse(second.sent[0]!.request.body.toString("utf8")) as Record<string, unknown>;
    assert.equal(second.sent[0]!.request.url.href, "https://agent.test/webhooks/input");
    assert.deepEqual(input["speech"], { timeout_reason: "end_on_silence_timeout", results: [{ confidence: "0.90", text: "book me in" }] });
    assert.deepEqual(input["dtmf"], { digits: null, timed_out: true });
    // The reply NCCO replaced the menu; its end hangs up, the leg completes, the recording is reported.
    assert.deepEqual(
      second.sent.map((webhook) => `${webhook.eventType} ${webhook.request.url.pathname}`),
      ["input /webhooks/input", "completed /webhooks/event", "record /webhooks/recording"],
    );
    assert.match(JSON.parse(second.sent[2]!.request.body.toString("utf8")).recording_url as string, /^https:\/\/api\.nexmo\.com\/v1\/files\//);
    assert.deepEqual(second.last, { kind: "ended", reason: "handler_hangup" });
  });

  it("POSTs the answer when answer_method is POST, and takes event_url from the settings", async () => {
    const platform = await loadPlatform("vonage");
    const driver = await platform.startCall(setup({ answer_method: "POST", event_url: "https://agent.test/status" }));
    const { sent } = await movesUntilCaller(driver, (webhook) => (webhook.eventType === "answer" ? jsonReply(menu) : undefined));
    assert.deepEqual(
      sent.map((webhook) => `${webhook.request.method} ${webhook.request.url.pathname}`),
      ["POST /status", "POST /status", "POST /webhooks/answer", "POST /status"],
    );
    assert.equal(
      JSON.parse(sent[2]!.request.body.toString("utf8")).uuid,
      "0b72da62-722e-4d6c-ad89-2ebec6f3413b",
      "Vonage's uuid is a UUID, derived from the call id",
    );
    await assert.rejects(platform.startCall(setup({ answer_method: "PUT" })), /settings\.answer_method: expected GET or POST/);
  });
});

describe("vonage caller scripts against examples/vonage-handler.js", () => {
  let handler: LocalHandler;
  before(async () => {
    const { createVonageHandler } = await handlerModule();
    handler = await serve(createVonageHandler({ signatureSecrets: [secret] }));
  });
  after(() => handler.close());

  it("the bundled scripts pass (menu, speech by POST, barge-in), duplicates included", async () => {
    const flows = await Promise.all(["vonage-menu.json", "vonage-speech.json", "vonage-barge-in.json"].map((name) => loadFixtureScript(name, "vonage")));
    const result = await runScripts(flows, `${handler.origin}/webhooks/answer`, secret, { faults: { duplicates: 1, reorderWindow: 0, seed: 3, bail: false } });
    assert.deepEqual(failuresOf(result), []);
    assert.deepEqual(
      result.flows.map((flow) => flow.passed),
      [true, true, true],
    );
    assert.deepEqual(
      result.flows[0]!.turns!.map((turn) => `${turn.label}: ${turn.actions.join(",")} ${turn.ended ?? ""}`.trim()),
      ["connect: speak,listen", "press 2: speak,listen", "press 0: speak,transfer transferred"],
    );
  });

  it("the handler refuses a wrong secret (401), reported as a status failure", async () => {
    const flow = await loadFixtureScript("vonage-menu.json", "vonage");
    const result = await runScripts([flow], `${handler.origin}/webhooks/answer`, "not-the-secret-0000000000");
    assert.equal(result.flows[0]!.passed, false);
    assert.match(failuresOf(result)[0]!, /expected status 2xx, got 401/);
  });

  it("passes vwh verify-signature's probe (forged, tampered, stale, replayed)", async () => {
    assert.deepEqual(await probeHandler(`${handler.origin}/webhooks/event`, "vonage", secret), { wrong: [], asExpected: 9 });
  });

  it("survives hostile requests: unsigned, forged, oversized, signed garbage", async () => {
    const signer = getScheme("vonage").create([{ value: secret, source: "(test)" }], { purpose: "sign" });
    const signed = (path: string, body: string) => {
      const url = `${handler.origin}${path}`;
      const { headers } = signer.sign({
        id: "evt",
        timestamp: Math.floor(Date.now() / 1000),
        body: Buffer.from(body),
        method: "POST",
        url,
        contentType: "application/json",
      });
      return fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
    };
    const statuses = [
      (await fetch(`${handler.origin}/webhooks/answer`)).status,
      (await fetch(`${handler.origin}/webhooks/answer?to=1`, { headers: { authorization: "Bearer a.b.c" } })).status,
      (await fetch(`${handler.origin}/webhooks/input`, { method: "POST", body: "x".repeat(100_000) }).catch(() => ({ status: 413 }))).status,
      (await signed("/webhooks/input", "not json")).status,
      (await signed("/webhooks/input", "[1,2]")).status,
      (await signed("/webhooks/input", '{"speech":{"results":[null]},"dtmf":{"digits":5}}')).status,
      (await fetch(`${handler.origin}/elsewhere`)).status,
    ];
    assert.deepEqual(statuses, [401, 401, 413, 400, 400, 200, 404]);
  });

  it("a handler whose NCCO breaks the rules fails the call, named by path", async () => {
    const bad = await serve((request, response) => {
      if (request.url?.startsWith("/webhooks/answer"))
        json(response, 200, [
          { action: "talk", text: "Welcome", bargeIn: true },
          { action: "talk", text: "Goodbye" },
        ]);
      else response.writeHead(204).end();
    });
    try {
      const flow = await loadFlowObject(
        { version: 1, platform: "vonage", name: "bad NCCO", script: [{ expect: { actions: ["speak", "speak"] } }, { press: "1" }] },
        "vonage",
      );
      const result = await runScripts([flow], `${bad.origin}/webhooks/answer`, secret);
      const failures = failuresOf(result);
      assert.ok(
        failures.includes("answer [0].bargeIn: bargeIn talk must be followed by an input action (Vonage keeps listening for barge-in until one)"),
        failures.join("\n"),
      );
      assert.equal(result.flows[0]!.turns!.at(-1)!.ended, "failed");
    } finally {
      await bad.close();
    }
  });
});

describe("vwh simulate --platform vonage (CLI)", () => {
  it("runs a bundled script against the example handler and exits 0 (the file's platform picks the scheme)", async () => {
    const { createVonageHandler } = await handlerModule();
    const handler = await serve(createVonageHandler({ signatureSecrets: [secret] }));
    try {
      const result = await runInProcess(["simulate", "fixtures/scripts/vonage-menu.json", "--url", `${handler.origin}/webhooks/answer`, "--json"], {
        env: { VWH_SECRET: secret },
      });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const report = JSON.parse(result.stdout) as { flows: { platform: string; passed: boolean }[] };
      assert.deepEqual(
        report.flows.map((flow) => [flow.platform, flow.passed]),
        [["vonage", true]],
      );
    } finally {
      await handler.close();
    }
  });
});
