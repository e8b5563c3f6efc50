/**
 * Issue 26: the tunnel attacked as a hostile peer — personal data kept out of recordings whatever the
 * case of a platform's field names, request data never reaching the terminal as control sequences,
 * memory bounded, any reply streamed, secrets masked however they are encoded, files 0600, and a lock
 * that dies with its tunnel. In process against real servers on 127.0.0.1 port 0.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
