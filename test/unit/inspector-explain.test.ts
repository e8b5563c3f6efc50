/**
 * Issue 26, the inspector's server side in process: why a signature was refused (URLs tried, signatures
 * masked, never the secret), replies read by the platform's own reader (findings, the actions the log
 * line names), and Copy as curl's quoting.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { Chalk } from "chalk";
import { loadPlatform } from "../../src/platforms/registry.js";
import { getScheme } from "../../src/signing/index.js";
import { plivoSignature } from "../../src/signing/plivo.js";
import { twilioSignature } from "../../src/signing/twilio.js";
import { curlCommand } from "../../src/tunnel/curl.js";
import { readReply } from "../../src/tunnel/reply-reading.js";
import { summarizeReply } from "../../src/tunnel/reply-summary.js";
import { candidateUrls, createSignatureExplainer, maskSignature } from "../../src/tunnel/signature-explain.js";
import { formatRequestLine } from "../../src/ui/tunnel-log.js";

const token = "0123456789abcdef0123456789abcdef";
const form = "CallSid=CA1&Digits=1234&From=%2B15550001111";
const at = new Date("2026-12-07T08:00:00Z");

function explainer(scheme: string, secrets: string[]) {
  const chosen = getScheme(scheme);
  const input = secrets.map((value) => ({ value, source: "(test)" }));
  return createSignatureExplainer({
    scheme: chosen,
    settings: { purpose: "verify" },
    secrets,
    verifier: chosen.create(input, { purpose: "verify" }),
    signer: chosen.create(input, { purpose: "sign" }),
    toleranceSeconds: 300,
  });
}

describe("why a signature was refused (issue 26)", () => {
  it("Twilio: finds the URL the platform signed among http/https and port variants, and masks both signatures", () => {
    const signedOver = "http://abc.ngrok.app/voice?x=1";
    const received = twilioSignature(token, signedOver, new URLSearchParams(form));
    const headers = { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": received, host: "abc.ngrok.app" };
    const explained = explainer("twilio", [token])({ method: "POST", headers, body: Buffer.from(form) }, "https://abc.ngrok.app/voice?x=1", at);

    assert.equal(explained.expectedUrl, "https://abc.ngrok.app/voice?x=1");
    assert.deepEqual(
      explained.candidates.map((candidate) => candidate.url),
      ["https://abc.ngrok.app/voice?x=1", "https://abc.ngrok.app:443/voice?x=1", "http://abc.ngrok.app/voice?x=1", "http://abc.ngrok.app:80/voice?x=1"],
    );
    assert.deepEqual(
      explained.candidates.filter((candidate) => candidate.matches).map((candidate) => candidate.url),
      [signedOver],
      "exactly the URL it was signed over",
    );
    const expected = twilioSignature(token, "https://abc.ngrok.app/voice?x=1", new URLSearchParams(form));
    assert.equal(explained.header, "x-twilio-signature");
    assert.equal(explained.expected, `${expected.slice(0, 4)}…${expected.slice(-4)}`);
    assert.equal(explained.received, `${received.slice(0, 4)}…${received.slice(-4)}`);
    assert.match(explained.hint, /the platform signed http:\/\/abc\.ngrok\.app\/voice\?x=1, vwh checked https:/);
    const text = JSON.stringify(explained);
    for (const whole of [token, expected, received]) assert.ok(!text.includes(whole), "no secret and no whole signature");
  });

  it("Plivo: the URL it signed is found by the verifier itself, and the expected V3 signature is made with the request's nonce", () => {
    const body = "CallUUID=u1&Digits=12";
    const nonce = "12345678901234567890";
    const received = plivoSignature(token, "POST", "http://abc.ngrok.app/answer", new URLSearchParams(body), nonce);
    const headers = { "content-type": "application/x-www-form-urlencoded", "x-plivo-signature-v3": received, "x-plivo-signature-v3-nonce": nonce };
    const explained = explainer("plivo", [token])({ method: "POST", headers, body: Buffer.from(body) }, "https://abc.ngrok.app/answer", at);
    assert.deepEqual(
      explained.candidates.filter((candidate) => candidate.matches).map((candidate) => candidate.url),
      ["http://abc.ngrok.app/answer", "http://abc.ngrok.app:80/answer"],
      "Plivo signs the URL without a default port: both spellings are the one it signed",
    );
    const expected = plivoSignature(token, "POST", "https://abc.ngrok.app/answer", new URLSearchParams(body), nonce);
    assert.equal(explained.expected, maskSignature(expected));
    assert.equal(explained.received, maskSignature(received));
  });

  it("Twilio with another auth token: no URL matches, and the hint says so", () => {
    const received = twilioSignature("another-token-entirely-000000000", "https://abc.ngrok.app/voice", new URLSearchParams(form));
    const headers = { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": received };
    const explained = explainer("twilio", [token])({ method: "POST", headers, body: Buffer.from(form) }, "https://abc.ngrok.app/voice", at);
    assert.ok(explained.candidates.length > 1 && explained.candidates.every((candidate) => !candidate.matches));
    assert.match(explained.hint, /another secret/);
  });

  it("a timestamped scheme: a stale but right signature is said to be right; a wrong one differs from the expected", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const body = Buffer.from('{"event_type":"call.started"}');
    const signer = getScheme("standard").create([{ value: secret, source: "" }], { purpose: "sign" });
    const stale = signer.sign({
      id: "evt_1",
      timestamp: Math.floor(at.getTime() / 1000) - 3600,
      body,
      method: "POST",
      url: "",
      contentType: "application/json",
    });
    const explain = explainer("standard", [secret]);
    const right = explain({ method: "POST", headers: stale.headers, body }, "http://127.0.0.1/hook", at);
    assert.equal(right.expectedUrl, undefined, "the standard scheme does not sign the URL");
    assert.deepEqual(right.candidates, []);
    assert.equal(right.expected, right.received);
    assert.match(right.hint, /signature itself is right/);
    const tampered = explain({ method: "POST", headers: stale.headers, body: Buffer.from('{"event_type":"call.ended"}') }, "http://127.0.0.1/hook", at);
    assert.notEqual(tampered.expected, tampered.received);
    assert.ok(!JSON.stringify([right, tampered]).includes(secret.slice(6)));
  });

  it("a shared secret (Vapi) shows neither value: the header is the secret", () => {
    const explained = explainer("vapi", ["vapi-secret-value-123456"])(
      { method: "POST", headers: { "x-vapi-secret": "vapi-secret-value-123457" }, body: Buffer.from("{}") },
      "http://127.0.0.1/hook",
      at,
    );
    assert.deepEqual([explained.expected, explained.received], [undefined, undefined]);
    assert.ok(!JSON.stringify(explained).includes("vapi-secret"));
  });

  it("masks short values whole, and tries the Host a request came with", () => {
    assert.equal(maskSignature("abc"), "…");
    assert.ok(candidateUrls("https://a.example/x", { host: "b.example" }).includes("http://b.example/x"));
    assert.deepEqual(candidateUrls("not a url", {}), ["not a url"]);
  });
});

describe("replies read with the platform's reader (issue 26)", () => {
  const request = (body: string, contentType = "application/x-www-form-urlencoded") => ({
    method: "POST",
    url: "https://abc.ngrok.app/voice",
    headers: { "content-type": contentType },
    body: Buffer.from(body),
  });
  const reply = (body: string, contentType: string) => ({ status: 200, headers: { "content-type": contentType }, body: Buffer.from(body) });

  it("names TwiML and Plivo XML verbs, NCCO actions and vwh instructions, and the log line prints them", async () => {
    const twilio = await loadPlatform("twilio");
    const twiml = reply('<?xml version="1.0"?><Response><Say>Hi</Say><Gather input="dtmf" action="/next"><Say>Press 1</Say></Gather></Response>', "text/xml");
    const reading = readReply(twilio, "voice", request("CallSid=CA1&CallStatus=ringing"), twiml, 12);
    assert.deepEqual(reading?.actions, ["Say", "Gather"]);
    assert.deepEqual(reading?.failures, []);
    const summary = summarizeReply(twiml, reading);
    assert.deepEqual(summary.actions, ["Say", "Gather"]);
    const line = formatRequestLine(
      {
        time: at,
        method: "POST",
        path: "/voice",
        eventType: "voice",
        callId: "CA1",
        sequence: undefined,
        status: 200,
        latencyMs: 12,
        bytes: 10,
        signature: undefined,
        proxyError: undefined,
        reply: summary,
      },
      new Chalk({ level: 0 }),
    );
    assert.match(line, /→ text\/xml \d+ B \[Say, Gather\]/);

    const plivo = await loadPlatform("plivo");
    const plivoReading = readReply(
      plivo,
      "answer",
      request("CallUUID=u1&Event=StartApp"),
      reply('<Response><Speak>Hi</Speak><GetDigits action="https://x.example/d"><Speak>Press</Speak></GetDigits></Response>', "application/xml"),
      5,
    );
    assert.deepEqual(plivoReading?.actions, ["Speak", "GetDigits"]);

    const vonage = await loadPlatform("vonage");
    const ncco = readReply(
      vonage,
      "answer",
      request("{}", "application/json"),
      reply('[{"action":"talk","text":"Hi"},{"action":"input","type":["dtmf"],"eventUrl":["https://x.example/in"]}]', "application/json"),
      5,
    );
    assert.deepEqual(ncco?.actions, ["talk", "input"]);
  });

  it("reports what vwh simulate would: a TwiML grammar failure with its path, and a note for a reply the platform ignores", async () => {
    const twilio = await loadPlatform("twilio");
    const bad = readReply(twilio, "voice", request("CallSid=CA1"), reply('<Response><Gather input="keypad"/></Response>', "text/xml"), 5);
    assert.ok(bad && bad.failures.length > 0);
    assert.equal(bad.failures[0]!.path, "Response/Gather[1]@input");
    const events = Object.keys(twilio.events).filter((type) => !twilio.events[type]!.waits);
    const ignored = readReply(twilio, events[0]!, request("CallSid=CA1"), reply("<Response><Say>x</Say></Response>", "text/xml"), 5);
    assert.match(ignored?.note ?? "", /does not act on the reply/);
    assert.deepEqual(ignored?.actions, ["Say"], "still named in the log");
    assert.equal(readReply(undefined, "x", request(""), reply("", "text/xml"), 1), undefined, "no platform, no reading");
  });
});

describe("Copy as curl (issue 26)", () => {
  it("single-quotes every value: a hostile body and header reach curl as they are, and nothing runs", async () => {
    const body = `Digits=1'; touch /tmp/pwned-vwh; echo '$(id)\`id\`\n2`;
    const command = curlCommand(
      {
        method: "POST",
        path: "/voice?a=1&b='2'",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "ab'cd", "content-length": "9" },
        body: Buffer.from(body),
      },
      "http://localhost:3000",
    );
    // `curl` replaced by a function that prints its arguments, NUL-separated.
    const { stdout } = await promisify(execFile)("sh", ["-c", `curl() { for a; do printf '%s\\0' "$a"; done; }; ${command}`]);
    assert.deepEqual(stdout.split("\0").slice(0, -1), [
      "-sS",
      "-i",
      "-X",
      "POST",
      "http://localhost:3000/voice?a=1&b='2'",
      "-H",
      "content-type: application/x-www-form-urlencoded",
      "-H",
      "x-twilio-signature: ab'cd",
      "--data-binary",
      body,
    ]);
    const binary = curlCommand({ method: "POST", path: "/", headers: {}, body: Buffer.from([0, 255, 1]) }, "http://localhost:3000");
    assert.match(binary, /^printf %s 'AP8B' \| base64 -d \| curl .* --data-binary @-$/);
  });
});
