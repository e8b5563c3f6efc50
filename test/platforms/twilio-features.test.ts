/**
 * Twilio features real apps use (issue 24): a GET voice URL, <Record> transcription and recording-status
 * callbacks, scriptable <Dial> outcomes (a hunt through numbers), caller location reaching the handler,
 * and the settings a file may give — an unknown key or a value Twilio does not have is the file's error.
 * Replies are built with twilio's own VoiceResponse; signatures are checked with twilio.validateRequest.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import twilio from "twilio";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { parseTwilioReply } from "../../src/platforms/twilio/reply.js";
import type { CallDriver, CallerInput, DriverMove } from "../../src/platforms/types.js";
import { getScheme } from "../../src/signing/index.js";
import { createDispatcher } from "../../src/transport/undici.js";
import { runSimulation } from "../../src/engine/run.js";
import { startListener } from "../helpers.js";
import { inlineFlow } from "../platform-helpers.js";

const publicVoiceUrl = "https://ivr.example.test/twilio/voice";
const { VoiceResponse } = twilio.twiml;

interface Sent {
  type: string;
  method: string;
  url: URL;
  params: URLSearchParams;
  afterMs: number;
}

/** Drives a call without HTTP: each send is answered with the TwiML `answer` builds. */
async function drive(answer: (sent: Sent) => string, caller: CallerInput[], settings: Record<string, unknown> = {}) {
  const driver: CallDriver = await twilioPlatform.startCall({
    call: { callId: "call_features", from: "+14155550100", to: "+14155550199", direction: undefined },
    url: new URL(publicVoiceUrl),
    start: new Date(0),
    newId: (prefix) => `${prefix}_1`,
    settings,
    now: () => 0,
    wait: async () => {},
  });
  const sent: Sent[] = [];
  const steps = [...caller];
  driver.caller({ kind: "connect" }, undefined);
  for (let move: DriverMove = await driver.next(); ; move = await driver.next()) {
    if (move.kind === "send") {
      const { request } = move.webhook;
      const params = request.method === "GET" ? request.url.searchParams : new URLSearchParams(request.body.toString("utf8"));
      const item = { type: move.webhook.eventType, method: request.method, url: request.url, params, afterMs: move.webhook.afterMs };
      sent.push(item);
      const body = Buffer.from(answer(item));
      const reply = { status: 200, headers: { "content-type": "text/xml" }, body };
      driver.replied(move.webhook, {
        ok: true,
        reply,
        parsed: parseTwilioReply(reply, { eventType: move.webhook.eventType, waits: move.webhook.waits, expectsActions: false, request }),
      });
    } else if (move.kind === "stream") driver.streamEnded({ kind: "closed_by_agent" });
    else if (move.kind === "await-caller") driver.caller(steps.shift() ?? { kind: "hangup" }, undefined);
    else if (move.kind === "ended") return { sent, ended: move.reason };
  }
}

const twiml = (build: (response: InstanceType<typeof VoiceResponse>) => void) => {
  const response = new VoiceResponse();
  build(response);
  return response.toString();
};

describe("twilio features (issue 24)", () => {
  it("fetches the voice URL with GET when the number is set so, parameters in the query", async () => {
    const run = await drive(() => twiml((r) => r.hangup()), [], { voice_method: "GET" });
    assert.equal(run.sent[0]!.method, "GET");
    assert.equal(run.sent[0]!.url.pathname, "/twilio/voice");
    assert.match(run.sent[0]!.params.get("CallSid")!, /^CA[0-9a-f]{32}$/);
    const post = await drive(() => twiml((r) => r.hangup()), []);
    assert.equal(post.sent[0]!.method, "POST", "POST by default, as Twilio's console");
  });

  it("a GET voice URL passes twilio.webhook()'s own signature check on a GET-only route", async () => {
    const hits: string[] = [];
    const server = await startListener((request, response) => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const publicUrl = new URL(`${url.pathname}${url.search}`, publicVoiceUrl).href;
      const valid = twilio.validateRequest("f3a1c0ffee5eed0123456789abcdef01", String(request.headers["x-twilio-signature"]), publicUrl, {});
      hits.push(`${request.method} ${valid}${request.headers["vwh-attempt"] === undefined ? "" : " vwh-attempt"}`);
      if (request.method !== "GET") return void response.writeHead(405).end();
      response.writeHead(valid ? 200 : 403, { "content-type": "text/xml" }).end(twiml((r) => r.say("Hello from a GET route")));
    }, "/twilio/voice");
    const dispatcher = createDispatcher(2);
    try {
      const flow = await inlineFlow({
        version: 1,
        platform: "twilio",
        name: "get",
        settings: { voice_method: "GET" },
        script: [{ expect: { says: { contains: "GET route" } } }],
      });
      const scheme = getScheme("twilio");
      const result = await runSimulation([flow], {
        target: new URL(server.url),
        publicUrl: new URL(publicVoiceUrl),
        signer: scheme.create([{ value: "f3a1c0ffee5eed0123456789abcdef01", source: "(test)" }], { purpose: "sign" }),
        signatureHeaders: scheme.headers({ purpose: "sign" }),
        policy: { timeoutMs: 5000, retries: 0, backoffMs: 0, timeScale: 1 },
        faults: { duplicates: 0, reorderWindow: 0, seed: 7, bail: false },
        budgetMs: 10_000,
        strictLatency: false,
        realtime: false,
        dispatcher,
      });
      assert.equal(result.flows[0]!.passed, true, JSON.stringify(result.flows[0]));
      assert.deepEqual(hits, ["GET true"], "signed, and no header Twilio does not send (vwh-attempt)");
    } finally {
      await dispatcher.close();
      await server.close();
    }
  });

  it("<Record transcribeCallback recordingStatusCallback>: both callbacks go out with Twilio's parameters", async () => {
    const run = await drive(
      (sent) =>
        sent.url.pathname === "/twilio/voice"
          ? twiml((r) => {
              r.say("Leave a message");
              r.record({
                action: "/twilio/recorded",
                transcribeCallback: "/twilio/transcribed",
                recordingStatusCallback: "/twilio/recording-status",
                recordingStatusCallbackMethod: "POST",
                maxLength: 30,
              });
            })
          : twiml((r) => r.hangup()),
      [{ kind: "say", text: "please call me back tomorrow", confidence: 0.9 }],
    );
    assert.deepEqual(
      run.sent.map((sent) => `${sent.type} ${sent.url.pathname}`),
      ["voice /twilio/voice", "record /twilio/recorded", "recording_status /twilio/recording-status", "transcription /twilio/transcribed"],
    );
    const [, recorded, status, transcription] = run.sent;
    const recordingSid = recorded!.params.get("RecordingSid")!;
    assert.match(recordingSid, /^RE[0-9a-f]{32}$/);
    assert.deepEqual(Object.fromEntries([...status!.params].filter(([name]) => name !== "RecordingStartTime")), {
      AccountSid: recorded!.params.get("AccountSid"),
      CallSid: recorded!.params.get("CallSid"),
      RecordingSource: "RecordVerb",
      RecordingSid: recordingSid,
      RecordingUrl: recorded!.params.get("RecordingUrl"),
      RecordingStatus: "completed",
      RecordingChannels: "1",
      RecordingDuration: recorded!.params.get("RecordingDuration"),
      ErrorCode: "0",
    });
    assert.match(status!.params.get("RecordingStartTime")!, /^\w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000$/);
    assert.equal(transcription!.params.get("TranscriptionText"), "please call me back tomorrow");
    assert.equal(transcription!.params.get("TranscriptionStatus"), "completed");
    assert.match(transcription!.params.get("TranscriptionSid")!, /^TR[0-9a-f]{32}$/);
    assert.equal(
      transcription!.params.get("TranscriptionUrl"),
      `https://api.twilio.com/2010-04-01/Accounts/${recorded!.params.get("AccountSid")}/Recordings/${recordingSid}/Transcriptions/${transcription!.params.get("TranscriptionSid")}`,
    );
    assert.equal(transcription!.params.get("RecordingSid"), recordingSid);
    assert.equal(transcription!.params.get("From"), "+14155550100", "the call's parameters come with the transcription");
    // Twilio identifies both again (tunnel, recordings).
    for (const sent of [status!, transcription!]) {
      const identity = twilioPlatform.identify({ method: "POST", path: sent.url.pathname, headers: {}, body: Buffer.from(sent.params.toString()) });
      assert.equal(identity.eventType, sent.type);
    }
    // Nothing said: the transcription fails, as Twilio's does on a silent recording.
    const silent = await drive(
      (sent) => (sent.url.pathname === "/twilio/voice" ? twiml((r) => r.record({ transcribe: true, transcribeCallback: "/t" })) : twiml((r) => r.hangup())),
      [{ kind: "press", digits: "#" }],
    );
    assert.equal(silent.sent.find((sent) => sent.type === "transcription")?.params.get("TranscriptionStatus"), "failed");
  });

  it("a hunt: busy, then no-answer, then the third number answers (Dial action sees each DialCallStatus)", async () => {
    const numbers = ["+14155550101", "+14155550102", "+14155550103"];
    const run = await drive(
      (sent) => {
        const attempt = Number(sent.url.searchParams.get("n") ?? "0");
        const status = sent.params.get("DialCallStatus");
        if (status === "completed") return twiml((r) => r.hangup());
        return twiml((r) => r.dial({ action: `/twilio/hunt?n=${attempt + 1}`, timeout: 15 }, numbers[attempt]!));
      },
      [],
      { dial_outcomes: ["busy", "no-answer", "completed"] },
    );
    const dials = run.sent.filter((sent) => sent.type === "dial");
    assert.deepEqual(
      dials.map((sent) => sent.params.get("DialCallStatus")),
      ["busy", "no-answer", "completed"],
    );
    assert.deepEqual(
      dials.map((sent) => sent.params.get("DialBridged")),
      ["false", "false", "true"],
    );
    assert.equal(dials[0]!.params.get("DialCallDuration"), null, "an unanswered leg has no duration");
    assert.equal(dials[2]!.params.get("DialCallDuration"), "30");
    assert.ok(dials[2]!.afterMs - dials[1]!.afterMs >= 0);
    assert.equal(run.ended, "handler_hangup");
    // Without action, Twilio goes on with the next verb when nobody answers: <Dial>a</Dial><Dial>b</Dial>.
    const plain = await drive(
      () =>
        twiml((r) => {
          r.dial(numbers[0]!);
          r.dial(numbers[1]!);
          r.say("nobody is free");
        }),
      [],
      { dial_outcomes: ["no-answer", "busy"] },
    );
    assert.equal(plain.ended, "handler_hangup", "both unanswered: the Say runs, then the end of the document");
    const answered = await drive(
      () =>
        twiml((r) => {
          r.dial(numbers[0]!);
          r.dial(numbers[1]!);
        }),
      [],
      { dial_outcomes: ["failed"] },
    );
    assert.equal(answered.ended, "transferred", "the second number answers (the default outcome)");
  });

  it("caller location (FromState, FromCity, FromZip and their Caller*/Called* twins) reaches the handler", async () => {
    const run = await drive(() => twiml((r) => r.hangup()), [], {
      from_city: "SAN FRANCISCO",
      from_state: "CA",
      from_zip: "94105",
      to_state: "NY",
      to_city: "NEW YORK",
    });
    const params = run.sent[0]!.params;
    assert.deepEqual(
      ["FromCity", "FromState", "FromZip", "FromCountry", "CallerCity", "CallerState", "CallerZip", "ToState", "CalledState", "CalledCity", "ToZip"].map(
        (name) => params.get(name),
      ),
      ["SAN FRANCISCO", "CA", "94105", "US", "SAN FRANCISCO", "CA", "94105", "NY", "NY", "NEW YORK", ""],
    );
  });

  it("refuses at load an unknown setting (naming the known ones, with a did-you-mean), a Dial outcome or a call status Twilio does not have", async () => {
    await assert.rejects(inlineFlow({ version: 1, platform: "twilio", name: "typo", settings: { from_sate: "CA" }, script: [{}] }), (error: Error) =>
      /settings\.from_sate: unknown setting for twilio \(known: voice_method, status_callback, .*from_state.*\); did you mean "from_state"\?/.test(
        error.message,
      ),
    );
    await assert.rejects(
      inlineFlow({ version: 1, platform: "twilio", name: "dial", settings: { dial_outcomes: ["busy", "rejected"] }, script: [{}] }),
      /settings\.dial_outcomes\[1\]: expected one of "completed", "answered", "busy", "no-answer", "failed", "canceled", got "rejected"/,
    );
    await assert.rejects(
      inlineFlow({ version: 1, platform: "twilio", name: "status", script: [{}, { event: { type: "status", payload: { CallStatus: "hungup" } } }] }),
      /script\[1\]\.event\.payload\.CallStatus: expected one of "initiated", .*"canceled", got "hungup"/,
    );
    await assert.rejects(
      inlineFlow({ version: 1, platform: "twilio", name: "method", settings: { voice_method: "PUT" }, script: [{}] }),
      /settings\.voice_method: expected one of "GET", "POST", got "PUT"/,
    );
    await assert.rejects(
      inlineFlow({ version: 1, platform: "vonage", name: "other", settings: { voice_method: "GET" }, script: [{}] }),
      /settings\.voice_method: unknown setting for vonage \(known: answer_method, event_url, event_method\)/,
    );
    const ok = await inlineFlow({
      version: 1,
      platform: "twilio",
      name: "ok",
      settings: { voice_method: "GET", dial_outcomes: ["no-answer"], from_state: "CA" },
      script: [{}],
    });
    assert.equal(ok.platform.id, "twilio");
  });
});
