/**
 * Every example handler vwh ships survives the attack set (test/handler-attacks.ts), and the
 * reference handler's own fixes of issue 12 (items 11–14) hold in process.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { getScheme } from "../../src/signing/index.js";
import { twilioSignature } from "../../src/signing/twilio.js";
import { attackHandler, hostileEnvelopes, type HandlerUnderTest } from "../handler-attacks.js";
import { standardSigner } from "../engine-helpers.js";
import { parseTelnyxPrivateKey, rawPublicKeyBase64 } from "../../src/signing/telnyx.js";
import { loadExampleHandler, newSecret, repoRoot } from "../helpers.js";

const voiceSecret = newSecret();
const vonageSecret = randomBytes(24).toString("base64url");
const plivoToken = randomBytes(20).toString("base64url");

/** The headers a platform's own scheme puts on a POST of `body` to `url`. */
function schemeHeaders(scheme: string, secret: string, body: Buffer, url: string, contentType: string): Record<string, string> {
  return getScheme(scheme)
    .create([{ value: secret, source: "(test)" }], { purpose: "sign" })
    .sign({ id: "evt_attack", timestamp: Math.floor(Date.now() / 1000), body, method: "POST", url, contentType }).headers;
}

function standardHeaders(secret: string, body: Buffer, nowMs = Date.now()): Record<string, string> {
  return standardSigner(secret).sign({
    id: `msg_${randomBytes(6).toString("hex")}`,
    timestamp: Math.floor(nowMs / 1000),
    body,
    method: "POST",
    url: "",
    contentType: "application/json",
  }).headers;
}

let eventCounter = 0;
const callStarted = () =>
  Buffer.from(
    JSON.stringify({
      event_type: "call.started",
      event_id: `evt_attack_${eventCounter++}`,
      call_id: "call_a",
      sequence: 1,
      timestamp: new Date().toISOString(),
      payload: {},
    }),
  );

// The Telnyx handler sends Call Control commands: a stub API that accepts them (unref'd: it ends with the file).
const telnyxKey = { value: getScheme("telnyx").randomSecret(), source: "attacks" };
const telnyxSigner = getScheme("telnyx").create([telnyxKey], { purpose: "sign" });
const telnyxApi = createServer((_request, response) => void response.writeHead(200, { "content-type": "application/json" }).end('{"data":{"result":"ok"}}'));
await new Promise<void>((resolve) => telnyxApi.listen(0, "127.0.0.1", resolve));
telnyxApi.unref();
const callInitiated = () =>
  Buffer.from(
    JSON.stringify({
      data: {
        record_type: "event",
        event_type: "call.initiated",
        id: `evt_attack_${eventCounter++}`,
        occurred_at: new Date().toISOString(),
        payload: { call_control_id: "call_a", direction: "incoming" },
      },
      meta: { attempt: 1 },
    }),
  );

const aiSecret = randomBytes(16).toString("hex");
const noPrimitive = { toString: 1, valueOf: 2 };
/** Authentic bodies of the AI platforms' shapes with fields of the wrong type, plus the generic set. */
const aiHostileBodies = () => [
  ...hostileEnvelopes(),
  ...[
    { message: null },
    { message: { type: noPrimitive } },
    { message: { type: "tool-calls", toolCallList: [null, 5, { id: "a", function: { name: noPrimitive, arguments: "{not json" } }] } },
    { message: { type: "tool-calls", toolCallList: { id: "x" } } },
    { message: { type: "assistant-request", customer: { number: noPrimitive }, timestamp: noPrimitive, call: { id: noPrimitive } } },
    { event: "call_inbound", call_inbound: { call_id: noPrimitive, to_number: [] } },
    { event: noPrimitive, call: null },
    { name: "lookup_order", args: { order_id: noPrimitive } },
    { name: noPrimitive, args: null },
    { call_id: "c", event: noPrimitive },
    { call_id: { a: 1 }, from_number: 5 },
  ].map((body) => Buffer.from(JSON.stringify(body))),
];
let aiCounter = 0;

/**
 * How to start and sign for each example handler. A new example (examples/twilio-handler.js …) adds
 * its entry here; one without an entry fails the test below rather than going untested.
 */
const twilioToken = randomBytes(16).toString("hex");
let twilioCalls = 0;

const exampleHandlers: Record<string, HandlerUnderTest> = {
  "twilio-handler.js": {
    file: "examples/twilio-handler.js",
    env: (port) => ({ PORT: String(port), TWILIO_AUTH_TOKEN: twilioToken, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/twilio/voice",
    // Without PUBLIC_URL the handler checks the URL it was reached at, which is what the attack set signs.
    sign: (body, url) => ({
      "x-twilio-signature": twilioSignature(twilioToken, url, new URLSearchParams(body.toString("utf8"))),
      "i-twilio-idempotency-token": randomBytes(8).toString("hex"),
    }),
    validBody: () => Buffer.from(`CallSid=CA${String(twilioCalls++).padStart(32, "0")}&From=%2B15550100001&To=%2B15550100300`),
    hostileBodies: [
      Buffer.from("Digits[]=1&SpeechResult[x]=2"),
      Buffer.from("CallSid=&CallSid=CA1&Digits=%00%ff"),
      Buffer.from(`SpeechResult=${"a".repeat(60_000)}`),
      Buffer.from('{"CallSid":"CA1"}'),
    ],
    contentType: "application/x-www-form-urlencoded",
  },
  "voice-handler.js": {
    file: "examples/voice-handler.js",
    env: (port) => ({ PORT: String(port), VWH_SECRET: voiceSecret, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/webhooks/voice",
    sign: (body) => standardHeaders(voiceSecret, body),
    validBody: callStarted,
  },
  "telnyx-handler.js": {
    file: "examples/telnyx-handler.js",
    env: (port) => ({
      PORT: String(port),
      TELNYX_API_KEY: "KEY_attacks",
      TELNYX_BASE_URL: `http://127.0.0.1:${(telnyxApi.address() as AddressInfo).port}/v2`,
      TELNYX_PUBLIC_KEY: rawPublicKeyBase64(parseTelnyxPrivateKey(telnyxKey)),
      REQUEST_TIMEOUT_MS: "1000",
    }),
    path: "/webhooks/telnyx",
    sign: (body) =>
      telnyxSigner.sign({ id: "", timestamp: Math.floor(Date.now() / 1000), body, method: "POST", url: "", contentType: "application/json" }).headers,
    validBody: callInitiated,
    hostileBodies: [
      Buffer.from('{"data":{"event_type":5,"id":[],"payload":"x"}}'),
      Buffer.from('{"data":{"event_type":"call.speak.ended","id":"evt_h1","payload":{"call_control_id":{},"client_state":"%%%"}}}'),
      Buffer.from('{"data":{"event_type":"call.gather.ended","id":"evt_h2","payload":{"call_control_id":"c","digits":{"length":1e9}}}}'),
      Buffer.from("[]"),
      Buffer.from("null"),
    ],
  },
  "vonage-handler.js": {
    file: "examples/vonage-handler.js",
    env: (port) => ({ PORT: String(port), VONAGE_SIGNATURE_SECRET: vonageSecret, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/webhooks/input",
    sign: (body, url) => schemeHeaders("vonage", vonageSecret, body, url, "application/json"),
    validBody: () =>
      Buffer.from(
        JSON.stringify({
          dtmf: { digits: "1", timed_out: false },
          uuid: "leg_attack",
          conversation_uuid: "CON-attack",
          timestamp: `${new Date().toISOString()}#${eventCounter++}`,
        }),
      ),
    hostileBodies: [
      Buffer.from("[]"),
      Buffer.from("null"),
      Buffer.from('{"speech":{"results":"all of them"},"dtmf":{"digits":{"toString":1}}}'),
      Buffer.from('{"speech":{"results":[{"text":{"length":1}}]},"dtmf":"1"}'),
      Buffer.from(`${"[".repeat(20_000)}${"]".repeat(20_000)}`),
    ],
  },
  "plivo-handler.js": {
    file: "examples/plivo-handler.js",
    env: (port) => ({ PORT: String(port), PLIVO_AUTH_TOKEN: plivoToken, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/plivo/answer",
    contentType: "application/x-www-form-urlencoded",
    sign: (body, url) => schemeHeaders("plivo", plivoToken, body, url, "application/x-www-form-urlencoded"),
    validBody: () => Buffer.from(`CallUUID=call_attack_${eventCounter++}&From=15550100001&To=15550100002&Event=StartApp`),
    hostileBodies: [
      Buffer.from("Digits[]=1&Speech[x]=2"),
      Buffer.from("%%%&&&==&Digits=%E0%A4%A"),
      Buffer.from("Event=Hangup&HangupCause=" + "x".repeat(30_000)),
    ],
  },
  "vapi-llm-handler.js": {
    file: "examples/vapi-llm-handler.js",
    env: (port) => ({ PORT: String(port), REQUEST_TIMEOUT_MS: "1000" }),
    path: "/v1/chat/completions",
    sign: () => ({}),
    notAWebhook: "Vapi calls a custom LLM as an OpenAI-style API: vwh's vapi-llm sends no credential, and each completion is new",
    validBody: () => Buffer.from(JSON.stringify({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: "I'd like to book a table" }] })),
    hostileBodies: [
      Buffer.from('{"messages":[{"role":"user","content":5}]}'),
      Buffer.from('{"messages":[null,7,{"role":"user","content":{"length":1e9}}]}'),
      Buffer.from('{"messages":"x"}'),
      Buffer.from("[]"),
      Buffer.from("null"),
    ],
  },
  "vapi-handler.js": {
    file: "examples/vapi-handler.js",
    env: (port) => ({ PORT: String(port), VAPI_SECRET: aiSecret, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/vapi/server",
    sign: (body, url) => schemeHeaders("vapi", aiSecret, body, url, "application/json"),
    validBody: () =>
      Buffer.from(
        JSON.stringify({
          message: {
            type: "tool-calls",
            toolCallList: [{ id: `call_attack_${aiCounter++}`, type: "function", function: { name: "check_availability", arguments: "{}" } }],
            toolWithToolCallList: [],
          },
        }),
      ),
    hostileBodies: aiHostileBodies(),
  },
  "retell-handler.js": {
    file: "examples/retell-handler.js",
    env: (port) => ({ PORT: String(port), RETELL_API_KEY: aiSecret, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/retell/webhook",
    sign: (body, url) => schemeHeaders("retell", aiSecret, body, url, "application/json"),
    validBody: () =>
      Buffer.from(
        JSON.stringify({
          event: "call_inbound",
          call_inbound: { call_id: `call_attack_${aiCounter++}`, from_number: "+15550100001", to_number: "+15550100200" },
        }),
      ),
    hostileBodies: aiHostileBodies(),
  },
  "teler-handler.js": {
    file: "examples/teler-handler.js",
    env: (port) => ({ PORT: String(port), TELER_SECRET: aiSecret, REQUEST_TIMEOUT_MS: "1000" }),
    path: "/teler/flow",
    sign: (body, url) => schemeHeaders("hmac", aiSecret, body, url, "application/json"),
    validBody: () =>
      Buffer.from(
        JSON.stringify({
          call_id: `call_attack_${aiCounter++}`,
          account_id: "acc",
          from_number: "+15550100002",
          to_number: "+15550100001",
          direction: "outbound",
        }),
      ),
    hostileBodies: aiHostileBodies(),
  },
};

// The handlers are separate processes that mostly wait (slow bodies, timeouts): attack a few at once.
describe("every example handler survives the attack set", { concurrency: 4 }, async () => {
  const files = (await readdir(join(repoRoot, "examples"))).filter((name) => /handler\.js$/.test(name));

  it("has an attack configuration for each example handler", () => {
    assert.ok(files.includes("voice-handler.js"));
    for (const file of files) assert.ok(exampleHandlers[file], `examples/${file} has no entry in exampleHandlers (test/handler-attacks.test.ts)`);
  });

  for (const file of files) {
    const handler = exampleHandlers[file];
    if (!handler) continue;
    it(`examples/${file}`, { timeout: 60_000 }, async () => {
      const outcomes = await attackHandler(handler);
      const byName = new Map(outcomes.map((outcome) => [outcome.attack, outcome.detail]));
      assert.match(byName.get("request target http://[") ?? "", /^HTTP\/1\.1 400/);
      assert.match(byName.get("slow body") ?? "", /^HTTP\/1\.1 408|^closed$/);
    });
  }
});

/** Calls a request listener without a socket: enough of IncomingMessage and ServerResponse for it. */
function callListener(listener: RequestListener, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = Object.assign(Readable.from([body]), { method: "POST", url: "/webhooks/voice", headers }) as unknown as IncomingMessage;
    const response = {
      headersSent: false,
      status: 0,
      writeHead(status: number) {
        this.status = status;
        this.headersSent = true;
        return this;
      },
      end(bytes?: Buffer) {
        resolve({ status: this.status, body: bytes ? bytes.toString("utf8") : "" });
        return this;
      },
    };
    listener(request, response as unknown as ServerResponse);
  });
}

describe("the reference handler (examples/voice-handler.js)", () => {
  it("answers signed events whose digits or text are objects instead of dying (item 12)", async () => {
    const { instructionsFor } = await loadExampleHandler();
    const noPrimitive = { toString: 1 };
    assert.doesNotThrow(() => instructionsFor({ event_type: "dtmf.received", payload: { digits: noPrimitive } }));
    assert.doesNotThrow(() => instructionsFor({ event_type: "speech.transcribed", payload: { text: noPrimitive } }));
    assert.doesNotThrow(() => instructionsFor({ event_type: "call.started", payload: null as unknown as Record<string, unknown> }));
  });

  it("remembers event ids for the whole signature tolerance, however many events come in between (item 13)", async () => {
    const { createVoiceHandler } = await loadExampleHandler();
    let nowMs = Date.parse("2026-06-01T12:00:00Z");
    const lines: string[] = [];
    const listener = (createVoiceHandler as (options: { secrets: string[]; log: (line: string) => void; now: () => number }) => RequestListener)({
      secrets: [voiceSecret],
      log: (line) => lines.push(line),
      now: () => nowMs,
    });
    const event = (id: string) =>
      Buffer.from(JSON.stringify({ event_type: "call.ended", event_id: id, call_id: "c", sequence: 1, timestamp: "2026-06-01T12:00:00Z", payload: {} }));
    const captured = event("evt_captured");
    const capturedHeaders = { ...standardHeaders(voiceSecret, captured, nowMs), "content-type": "application/json" };
    assert.equal((await callListener(listener, capturedHeaders, captured)).status, 204);
    // A flood of 10 001 other authentic events (the old store forgot after 10 000) …
    for (let index = 0; index < 10_001; index++) {
      const body = event(`evt_flood_${index}`);
      await callListener(listener, standardHeaders(voiceSecret, body, nowMs), body);
    }
    // … then the captured request replayed 4 minutes later, inside the 300 s tolerance.
    nowMs += 240_000;
    assert.equal((await callListener(listener, capturedHeaders, captured)).status, 204);
    assert.equal(lines.at(-1), "204 call.ended evt_captured (duplicate: stored reply)");
    // Past the tolerance the timestamp check refuses the replay, so the id may be forgotten.
    nowMs += 400_000;
    assert.equal((await callListener(listener, capturedHeaders, captured)).status, 401);
  });
});
