/**
 * Issue 26: the tunnel attacked as a hostile peer — personal data kept out of recordings whatever the
 * case of a platform's field names, request data never reaching the terminal as control sequences,
 * memory bounded, any reply streamed, secrets masked however they are encoded, files 0600, and a lock
 * that dies with its tunnel. In process against real servers on 127.0.0.1 port 0.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Chalk } from "chalk";
import { formatRequestLine } from "../src/ui/tunnel-log.js";
import { formatEventLine } from "../src/ui/simulate-report.js";
import { terminalSafe } from "../src/ui/terminal-text.js";
import { runInProcess, startServer, withTempDir } from "./helpers.js";
import { toRecordedEvent, type RecordedRequest } from "../src/tunnel/recorder.js";
import { redactBody, redactPath, type RedactionFields } from "../src/tunnel/redact.js";
import { plivoPlatform } from "../src/platforms/plivo/index.js";
import { twilioPlatform } from "../src/platforms/twilio/index.js";
import { vapiPlatform } from "../src/platforms/vapi/index.js";
import { telnyxPlatform } from "../src/platforms/telnyx/index.js";
import { vonagePlatform } from "../src/platforms/vonage/index.js";
import { retellPlatform } from "../src/platforms/retell/index.js";

const form = "application/x-www-form-urlencoded";

function recorded(body: string, contentType: string, fields: RedactionFields, path = "/hook"): { body: string; path: string } {
  const request: RecordedRequest = { receivedAt: new Date("2026-01-02T03:04:05Z"), method: "POST", path, url: undefined, headers: { "content-type": contentType }, body: Buffer.from(body) };
  const event = toRecordedEvent(request, { redactPii: true, fields });
  return { body: event.raw.body ?? "", path: event.raw.path ?? "" };
}

describe("--redact-pii matches a platform's field names whatever their case (issue 26, defect 1)", () => {
  it("twilio: Digits, SpeechResult, CallerName, From and To leave no trace in the recording", () => {
    const body = new URLSearchParams({
      CallSid: "CA0123456789abcdef0123456789abcdef",
      From: "+14155550123",
      To: "+14155550199",
      Caller: "+14155550123",
      CallerName: "JANE DOE",
      Digits: "4111111111111111",
      SpeechResult: "my pin is 9876",
      UnstableSpeechResult: "my pin is",
    }).toString();
    const { body: stored } = recorded(body, form, twilioPlatform.redaction);
    const params = new URLSearchParams(stored);
    assert.equal(params.get("Digits"), "[redacted]");
    assert.equal(params.get("SpeechResult"), "[redacted]");
    assert.equal(params.get("UnstableSpeechResult"), "[redacted]");
    assert.equal(params.get("CallerName"), "[redacted]");
    assert.equal(params.get("From"), "+10000000023");
    assert.equal(params.get("CallSid"), "CA0123456789abcdef0123456789abcdef");
    for (const secret of ["4111111111111111", "9876", "JANE", "4155550123"]) assert.ok(!stored.includes(secret), `${secret} kept in ${stored}`);
  });

  it("twilio: the same fields in the query string of a GET webhook", () => {
    const { path } = recorded("", form, twilioPlatform.redaction, "/voice?Digits=1234&SpeechResult=hello%20world&From=%2B14155550123");
    const query = new URLSearchParams(path.split("?")[1]);
    assert.equal(query.get("Digits"), "[redacted]");
    assert.equal(query.get("SpeechResult"), "[redacted]");
    assert.equal(query.get("From"), "+10000000023");
  });

  it("plivo: Speech, Digits, CallerName, and From/To numbers written without '+'", () => {
    const body = new URLSearchParams({ CallUUID: "0e7b5b06-1a7b-4c6e-9d0e-2f4f1b7c5d3a", From: "14155550123", To: "442071838750", CallerName: "+14155550123", Speech: "my account is 5551234", Digits: "2468" }).toString();
    const { body: stored } = recorded(body, form, plivoPlatform.redaction);
    const params = new URLSearchParams(stored);
    assert.equal(params.get("Speech"), "[redacted]");
    assert.equal(params.get("Digits"), "[redacted]");
    assert.equal(params.get("From"), "10000000023");
    assert.equal(params.get("To"), "100000000050");
    assert.equal(params.get("CallerName"), "+10000000023");
    assert.equal(params.get("CallUUID"), "0e7b5b06-1a7b-4c6e-9d0e-2f4f1b7c5d3a");
  });

  it("vapi: originalTranscript, transcript and the customer's number in a JSON body at any depth", () => {
    const body = JSON.stringify({
      message: { type: "transcript", role: "user", transcriptType: "final", transcript: "my card is 4111", originalTranscript: "my card is four one one one", call: { id: "c-1", customer: { number: "14155550123" }, phoneNumber: { twilioPhoneNumber: "+14155550199" } } },
    });
    const stored = JSON.parse(recorded(body, "application/json", vapiPlatform.redaction).body) as { message: { transcript: string; originalTranscript: string; call: { id: string; customer: { number: string }; phoneNumber: { twilioPhoneNumber: string } } } };
    assert.equal(stored.message.originalTranscript, "[redacted]");
    assert.equal(stored.message.transcript, "[redacted]");
    assert.equal(stored.message.call.customer.number, "10000000023");
    assert.equal(stored.message.call.phoneNumber.twilioPhoneNumber, "+10000000099");
    assert.equal(stored.message.call.id, "c-1");
  });

  it("every platform's listed field is found in mixed, lower and upper case", () => {
    for (const platform of [twilioPlatform, plivoPlatform, vapiPlatform, telnyxPlatform, vonagePlatform, retellPlatform]) {
      const fields: RedactionFields = platform.redaction;
      for (const name of fields.text.filter((pattern): pattern is string => typeof pattern === "string")) {
        for (const spelled of [name, name.toLowerCase(), name.toUpperCase()]) {
          const out = JSON.parse(redactBody(Buffer.from(JSON.stringify({ [spelled]: "secret words 42" })), "application/json", platform.redaction).toString()) as Record<string, string>;
          assert.equal(out[spelled], "[redacted]", `${platform.id}: ${spelled}`);
        }
      }
      for (const name of fields.phone.filter((pattern): pattern is string => typeof pattern === "string")) {
        const out = new URLSearchParams(redactPath(`/h?${name}=14155550123`, platform.redaction).split("?")[1]);
        assert.equal(out.get(name), "10000000023", `${platform.id}: ${name}`);
      }
    }
  });
});

/** Any control character a terminal acts on: ESC, CR, BS, the C1 CSI, bidi overrides. */
const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const forged = "call.started\u001b[2K\r\u001b[32m200 \u2713 signature\u001b[8m\u009b2J\u202e";

describe("request data reaches the terminal escaped (issue 26, defect 2)", () => {
  const plain = new Chalk({ level: 0 });

  it("terminalSafe escapes C0, C1, DEL and bidi controls and keeps other text", () => {
    assert.equal(terminalSafe("a\u001b[2Kb\rc\u009bd\u007fe\u202ef"), "a\\x1b[2Kb\\rc\\x9bd\\x7fe\\u202ef");
    assert.equal(terminalSafe("call.started ✓ ünïcode 電話"), "call.started ✓ ünïcode 電話");
  });

  it("the live log escapes the event type, call id, path and reply of a forged request", () => {
    const line = formatRequestLine(
      {
        time: new Date(),
        method: "POST",
        path: "/hook?x=\u001b]0;title\u0007",
        eventType: forged,
        callId: "c\u001b[1A\u001b[2K",
        sequence: 1,
        status: 401,
        latencyMs: 2,
        bytes: 10,
        signature: { valid: false, reason: "no matching signature" },
        proxyError: undefined,
        reply: { status: 401, contentType: "text/plain\u001b[31m", bytes: 5, actions: undefined, excerpt: "no\u009b2J" },
      },
      plain,
    );
    assert.doesNotMatch(line, controls, JSON.stringify(line));
    assert.match(line, /call\.started\\x1b\[2K\\r\\x1b\[32m200 ✓ signature/);
    assert.match(line, /c\\x1b\[1A/);
  });

  it("simulate prints a recorded event type escaped", () => {
    const line = formatEventLine({ sequence: 1, eventType: forged, passed: true, status: 200, latencyMs: 3, attempts: 1, failures: [], warnings: [], instructionTypes: [] } as unknown as Parameters<typeof formatEventLine>[0], plain, 1000);
    assert.doesNotMatch(line, controls, JSON.stringify(line));
  });

  it("vwh simulate <recording> and verify-signature --recording print forged ids and types escaped", async () => {
    const handler = await startServer((_request, response) => void response.writeHead(200, { "content-type": "application/json" }).end("{}"));
    try {
      await withTempDir(async (dir) => {
        const body = JSON.stringify({ event_type: forged, event_id: "evt\u001b[2K\r\u001b[32m✓ evt_ok", call_id: "call\u001b[8m", sequence: 1, timestamp: "2025-01-01T10:00:00Z", payload: {} });
        const recording = { version: 1, name: "forged\u001b[2J", events: [{ event_type: forged, raw: { method: "POST", path: "/webhooks/voice", headers: { "content-type": "application/json", "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA" }, body, received_at: "2025-01-01T10:00:00Z" } }] };
        const file = join(dir, "recording.json");
        await writeFile(file, JSON.stringify(recording));
        const env = { VWH_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" };
        const simulated = await runInProcess(["simulate", file, "--url", handler.url], { env });
        assert.ok(simulated.stdout.includes("call.started"), simulated.stdout + simulated.stderr);
        assert.doesNotMatch(simulated.stdout, controls, JSON.stringify(simulated.stdout));
        const verified = await runInProcess(["verify-signature", "--recording", file], { env });
        assert.equal(verified.code, 1, verified.stderr);
        assert.match(verified.stdout, /evt\\x1b\[2K\\r/);
        assert.doesNotMatch(verified.stdout, controls, JSON.stringify(verified.stdout));
      });
    } finally {
      await handler.close();
    }
  });
});
