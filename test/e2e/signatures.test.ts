/**
 * vwh sign, vwh verify-signature (offline, recording, probe) and simulate with other schemes: one spawned
 * `bin/vwh.js` per command and exit path (the contract), the rest in process through the real parser.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Stripe from "stripe";
import { Webhook } from "standardwebhooks";
import { getScheme, type SchemeSettings } from "../../src/signing/index.js";
import { defaultHmacSettings } from "../../src/signing/hmac.js";
import {
  fixture,
  json,
  loadExampleHandler,
  newSecret,
  runInProcess,
  runVwh,
  startListener,
  startServer,
  withTempDir,
  refusingServer,
  type TestServer,
} from "../helpers.js";

const secret = newSecret();
const env = { VWH_SECRET: secret };
const body = '{"event_type":"call.started","event_id":"evt_sign_1","call_id":"call_1","sequence":1,"timestamp":"2026-11-23T10:00:00Z","payload":{}}\n';

async function withBody<T>(work: (file: string, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const file = join(dir, "body.json");
    await writeFile(file, body);
    return work(file, dir);
  });
}

/** The headers a scheme puts on `body` at a fixed time. */
function signBody(scheme: string, secretValue: string, timestamp: number, settings: Partial<SchemeSettings> = {}): Record<string, string> {
  return getScheme(scheme)
    .create([{ value: secretValue, source: "" }], { purpose: "sign", ...settings })
    .sign({ id: "evt_sign_1", timestamp, body: Buffer.from(body), method: "POST", url: "", contentType: "application/json" }).headers;
}

function headerArgs(headers: Record<string, string>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
}

describe("vwh sign", () => {
  it("prints the headers, reproducibly with --id and --timestamp, verified by the official library", async () => {
    await withBody(async (file) => {
      // In process: sign's exit 0 is spawned by the standard-input test below.
      const result = await runInProcess(["sign", file, "--timestamp", "1700000000"], { env });
      assert.equal(result.code, 0, result.stderr);
      const headers = Object.fromEntries(
        result.stdout
          .trim()
          .split("\n")
          .map((line) => line.split(": ") as [string, string]),
      );
      assert.equal(headers["webhook-id"], "evt_sign_1", "the body's event_id is the default id");
      assert.equal(headers["webhook-timestamp"], "1700000000");
      const again = await runInProcess(["sign", file, "--timestamp", "1700000000", "--id", "evt_sign_1"], { env });
      assert.equal(again.stdout, result.stdout);
      assert.equal(headers["webhook-signature"], new Webhook(secret).sign("evt_sign_1", new Date(1700000000 * 1000), body));
    });
  });

  it("reads standard input, and --json gives an object", async () => {
    // Spawned: sign's exit 0, with a real process's standard input.
    const result = await runVwh(["sign", "-", "--json", "--id", "msg_1", "--timestamp", String(Math.floor(Date.now() / 1000))], { env, input: body });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { headers: Record<string, string> };
    assert.doesNotThrow(() => new Webhook(secret).verify(body, parsed.headers));
  });

  it("--curl prints a command that really delivers a verified request, without the secret", async () => {
    const received: Buffer[] = [];
    const server = await startServer((request, response) => {
      new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      received.push(request.body);
      response.writeHead(204).end();
    });
    try {
      await withBody(async (file) => {
        const result = await runInProcess(["sign", file, "--curl", server.url], { env });
        assert.equal(result.code, 0, result.stderr);
        assert.ok(!result.stdout.includes(secret));
        assert.match(result.stdout, /^curl -sS -X POST http:\/\/127\.0\.0\.1:\d+\/webhooks\/voice \\\n {2}-H 'content-type: application\/json'/);
        // Run the printed command with a stand-in curl: node's fetch, to stay offline-safe and exact.
        const command = result.stdout.replace(/\\\n\s*/g, " ");
        const url = /POST (\S+)/.exec(command)![1]!;
        const headers = Object.fromEntries([...command.matchAll(/-H '([^:]+): ([^']*)'/g)].map((match) => [match[1]!, match[2]!]));
        const response = await fetch(url, { method: "POST", headers, body });
        assert.equal(response.status, 204);
        assert.equal(received[0]!.toString(), body);
      });
    } finally {
      await server.close();
    }
  });

  it("signs with other schemes: stripe output verifies in the stripe library", async () => {
    const stripeSecret = "whsec_stripe_test";
    const result = await runInProcess(["sign", "-", "--scheme", "stripe", "--json"], { env: { VWH_SECRET: stripeSecret }, input: body });
    assert.equal(result.code, 0, result.stderr);
    const { headers } = JSON.parse(result.stdout) as { headers: Record<string, string> };
    assert.doesNotThrow(() => Stripe.webhooks.constructEvent(body, headers["stripe-signature"]!, stripeSecret));
  });

  it("warns about --secret on the command line and refuses bad input with exit 2", async () => {
    const warned = await runInProcess(["sign", "-", "--secret", secret], { input: body });
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /^warning: --secret is visible in the process list/m);
    assert.ok(!warned.stderr.includes(secret));
    const missing = await runVwh(["sign", "/nonexistent.json"], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^vwh: \/nonexistent\.json: cannot read body to sign: no such file$/m);
    const noSecret = await runInProcess(["sign", "-"], { input: body });
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /no signing secret: pass --secret or set VWH_SECRET/);
    const badTimestamp = await runInProcess(["sign", "-", "--timestamp", "yesterday"], { env, input: body });
    assert.equal(badTimestamp.code, 2);
    assert.match(badTimestamp.stderr, /--timestamp: expected a whole number of seconds/);
  });
});

describe("vwh verify-signature offline", () => {
  const now = 1700000000;
  const signed = signBody("standard", secret, now);

  it("prints valid and exits 0 for a good signature", async () => {
    await withBody(async (file) => {
      const result = await runVwh(["verify-signature", "--body", file, ...headerArgs(signed), "--at", String(now + 10)], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "valid\n");
    });
  });

  it("prints invalid with the reason and exits 1", async () => {
    await withBody(async (file, dir) => {
      const stale = await runVwh(["verify-signature", "--body", file, ...headerArgs(signed), "--at", String(now + 412)], { env });
      assert.equal(stale.code, 1);
      assert.equal(stale.stdout, "invalid: timestamp too old (412 s > 300 s tolerance)\n");
      const tolerant = await runInProcess(["verify-signature", "--body", file, ...headerArgs(signed), "--at", String(now + 412), "--tolerance", "600"], {
        env,
      });
      assert.equal(tolerant.code, 0);
      const tamperedFile = join(dir, "tampered.json");
      await writeFile(tamperedFile, body.replace("call_1", "call_2"));
      const tampered = await runInProcess(["verify-signature", "--body", tamperedFile, ...headerArgs(signed), "--at", String(now), "--json"], { env });
      assert.equal(tampered.code, 1);
      assert.deepEqual(JSON.parse(tampered.stdout), { scheme: "standard", valid: false, reason: "no matching signature" });
      const missing = await runInProcess(["verify-signature", "--body", file, "-H", `webhook-id: evt_sign_1`, "--at", String(now)], { env });
      assert.equal(missing.stdout, "invalid: missing header webhook-timestamp\n");
    });
  });

  it("reads headers from --headers-file and the body from standard input", async () => {
    await withTempDir(async (dir) => {
      const headersFile = join(dir, "headers.json");
      await writeFile(
        headersFile,
        JSON.stringify({ "Webhook-Id": signed["webhook-id"], "Webhook-Timestamp": now, "Webhook-Signature": signed["webhook-signature"] }),
      );
      const result = await runInProcess(["verify-signature", "--body", "-", "--headers-file", headersFile, "--at", String(now)], { env, input: body });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
  });

  it("accepts the valid one of several secrets (rotation)", async () => {
    await withBody(async (file) => {
      const result = await runInProcess(["verify-signature", "--body", file, ...headerArgs(signed), "--at", String(now)], {
        env: { VWH_SECRET: `${newSecret()} ${secret}` },
      });
      assert.equal(result.code, 0, result.stdout);
    });
  });

  it("checks hmac signatures configured by flags", async () => {
    const settings = { ...defaultHmacSettings, header: "x-hub-signature-256", template: "{body}", prefix: "sha256=" };
    const hmacHeaders = signBody("hmac", "shh", now, { hmac: settings });
    await withBody(async (file) => {
      const args = [
        "verify-signature",
        "--body",
        file,
        ...headerArgs(hmacHeaders),
        "--scheme",
        "hmac",
        "--hmac-header",
        "X-Hub-Signature-256",
        "--hmac-template",
        "{body}",
        "--hmac-prefix",
        "sha256=",
      ];
      const result = await runInProcess(args, { env: { VWH_SECRET: "shh" } });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const wrongTemplate = await runInProcess([...args.slice(0, -4), "--hmac-template", "{nonsense}.{body}"], { env: { VWH_SECRET: "shh" } });
      assert.equal(wrongTemplate.code, 2);
      assert.match(wrongTemplate.stderr, /--hmac-template: expected only the placeholders \{timestamp\}, \{body\}, \{method\}, \{url\}, \{id\}/);
    });
  });

  it("needs exactly one mode, and headers for --body (exit 2)", async () => {
    const none = await runVwh(["verify-signature"], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /nothing to verify: give --body \(with -H\), --recording or --url/);
    const both = await runInProcess(["verify-signature", "--body", "x", "--recording", "y"], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /choose one of --body, --recording/);
    const noHeaders = await runInProcess(["verify-signature", "--body", "-"], { env, input: body });
    assert.equal(noHeaders.code, 2);
    assert.match(noHeaders.stderr, /no headers to verify/);
    const badHeader = await runInProcess(["verify-signature", "--body", "-", "-H", "webhook-id"], { env, input: body });
    assert.equal(badHeader.code, 2);
    assert.match(badHeader.stderr, /--header: expected "name: value", got "webhook-id"/);
  });
});

describe("vwh verify-signature --recording", () => {
  it("verifies every recorded request at its recorded time and lists the invalid ones", async () => {
    const scheme = getScheme("standard").create([{ value: secret, source: "" }], { purpose: "sign" });
    const raw = (eventId: string, receivedAt: string, tamper = false) => {
      const eventBody = JSON.stringify({ event_type: "call.started", event_id: eventId, call_id: "call_r", sequence: 1, timestamp: receivedAt, payload: {} });
      const headers = scheme.sign({
        id: eventId,
        timestamp: Math.floor(Date.parse(receivedAt) / 1000),
        body: Buffer.from(eventBody),
        method: "POST",
        url: "",
        contentType: "application/json",
      }).headers;
      return {
        event_type: "call.started",
        raw: {
          method: "POST",
          path: "/webhooks/voice",
          headers: { "content-type": "application/json", ...headers },
          body: tamper ? eventBody.replace("call_r", "call_x") : eventBody,
          received_at: receivedAt,
        },
      };
    };
    const recording = {
      version: 1,
      name: "recorded",
      events: [raw("evt_a", "2025-01-01T10:00:00Z"), raw("evt_b", "2025-01-01T10:00:05Z", true), raw("evt_c", "2025-01-01T10:00:09Z")],
    };
    await withTempDir(async (dir) => {
      const file = join(dir, "recording.json");
      await writeFile(file, JSON.stringify(recording));
      const result = await runInProcess(["verify-signature", "--recording", file], { env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /✓ evt_a/);
      assert.match(result.stdout, /✗ evt_b {2}call\.started {2}no matching signature/);
      assert.match(result.stdout, /3 recorded requests: 2 valid, 1 invalid/);
      const asJson = await runInProcess(["verify-signature", "--recording", file, "--json"], { env });
      const report = JSON.parse(asJson.stdout) as { invalid: number; results: { event_id: string; valid: boolean }[] };
      assert.equal(report.invalid, 1);
      assert.deepEqual(
        report.results.filter((entry) => !entry.valid).map((entry) => entry.event_id),
        ["evt_b"],
      );
      // Checked now instead of at the recorded time, every one is stale.
      const late = await runInProcess(["verify-signature", "--recording", file, "--at", String(Math.floor(Date.now() / 1000))], { env });
      assert.match(late.stdout, /3 recorded requests: 0 valid, 3 invalid/);

      recording.events.splice(1, 1);
      await writeFile(file, JSON.stringify(recording));
      const clean = await runInProcess(["verify-signature", "--recording", file], { env });
      assert.equal(clean.code, 0, clean.stdout);
      const notRecording = await runInProcess(["verify-signature", "--recording", fixture("reschedule.json")], { env });
      assert.equal(notRecording.code, 2);
      assert.match(notRecording.stderr, /reschedule\.json:\d+:\d+: events\[0\]\.raw: required/);
    });
  });
});

describe("vwh verify-signature --url (probe)", () => {
  let verifying: TestServer;
  let careless: TestServer;
  before(async () => {
    const example = await loadExampleHandler();
    verifying = await startListener(example.createVoiceHandler({ secrets: [secret] }));
    careless = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "hangup" }] }));
  });
  after(async () => {
    await verifying.close();
    await careless.close();
  });

  it("passes a handler that verifies (exit 0)", async () => {
    const result = await runInProcess(["verify-signature", "--url", verifying.url], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /13 cases: 13 as expected, 0 wrong/);
    for (const name of [
      "no signature headers",
      "wrong secret",
      "body changed by one byte",
      "timestamp older than the tolerance",
      "timestamp in the future",
      "only an unknown signature version",
      "valid signature last in a rotated list",
      "malformed signature header",
      "valid request replayed after the tolerance",
    ]) {
      assert.match(result.stdout, new RegExp(`✓ ${name}`));
    }
  });

  it("fails a handler that skips verification, listing every accepted forgery (exit 1)", async () => {
    const result = await runInProcess(["verify-signature", "--url", careless.url, "--json"], { env });
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { passed: boolean; cases: { name: string; outcome: string; status: number }[] };
    assert.equal(report.passed, false);
    const accepted = report.cases.filter((entry) => entry.outcome === "wrongly-accepted").map((entry) => entry.name);
    assert.equal(accepted.length, 9);
    assert.ok(accepted.includes("wrong secret") && accepted.includes("valid request replayed after the tolerance"));
    const text = await runInProcess(["verify-signature", "--url", careless.url], { env });
    assert.match(text.stdout, /✗ wrong secret {2,}reject {2}200 {7}accepted a request it must refuse/);
  });

  it("the text summary counts accepted forgeries apart from cases with no reply within the time limit", async () => {
    // The first request (the valid one) and the second (no signature headers) are answered; the rest never are.
    let seen = 0;
    const stalling = await startServer((_request, response) => {
      if (++seen <= 2) json(response, 200, { instructions: [{ type: "hangup" }] });
    });
    try {
      const result = await runInProcess(["verify-signature", "--url", stalling.url, "--timeout", "100"], { env });
      assert.equal(result.code, 1);
      const summary = result.stdout.trim().split("\n").at(-1)!;
      assert.match(summary, /^13 cases: 1 as expected, 1 accepted a forgery, 11 no reply within the time limit$/);
      assert.doesNotMatch(summary, /wrong/);
      const silent = await runInProcess(["verify-signature", "--url", stalling.url, "--json", "--timeout", "100"], { env });
      const outcomes = (JSON.parse(silent.stdout) as { cases: { outcome: string }[] }).cases.map((entry) => entry.outcome);
      assert.equal(outcomes.filter((outcome) => outcome === "no-reply").length, 13, "the JSON separates them the same way");
    } finally {
      await stalling.close();
    }
  });

  it("fails a handler that refuses valid requests, and exits 3 when nothing listens", async () => {
    const strict = await runInProcess(["verify-signature", "--url", verifying.url], { env: { VWH_SECRET: newSecret() } });
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /✗ valid signature .* refused a valid request/);
    const closed = await refusingServer();
    const unreachable = await runVwh(["verify-signature", "--url", closed.url], { env });
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stdout, /could not reach the endpoint: connection refused/);
  });
});

describe("vwh simulate with other schemes and recordings", () => {
  it("signs deliveries with --scheme stripe so that the stripe library verifies them", async () => {
    const stripeSecret = "whsec_stripe_sim";
    let verified = 0;
    const server = await startServer((request, response) => {
      Stripe.webhooks.constructEvent(request.body, String(request.headers["stripe-signature"]), stripeSecret);
      verified++;
      response.writeHead(204).end();
    });
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "flow.json");
        await writeFile(file, JSON.stringify({ version: 1, name: "acks", events: [{ event_type: "speech.detected" }, { event_type: "call.ended" }] }));
        const result = await runInProcess(["simulate", file, "--url", server.url, "--scheme", "stripe"], { env: { VWH_SECRET: stripeSecret } });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.equal(verified, 2);
      });
    } finally {
      await server.close();
    }
  });

  it("replays a recording byte for byte: re-signed by default, as recorded with --keep-signatures", async () => {
    const seen: { body: string; signature: string; custom: string | undefined }[] = [];
    const server = await startServer((request, response) => {
      seen.push({
        body: request.body.toString("utf8"),
        signature: String(request.headers["webhook-signature"]),
        custom: request.headers["x-provider-trace"] as string | undefined,
      });
      response.writeHead(204).end();
    });
    const recordedBody = '{ "event_type": "call.ended",  "event_id": "evt_rec", "note": "spacing and ünïcode kept" }';
    const recording = {
      version: 1,
      name: "recorded call",
      events: [
        {
          raw: {
            method: "POST",
            path: "/webhooks/voice",
            headers: {
              "content-type": "application/json",
              "webhook-id": "evt_rec",
              "webhook-timestamp": "1600000000",
              "webhook-signature": "v1,recorded",
              "x-provider-trace": "abc",
              host: "old.example",
            },
            body: recordedBody,
            received_at: "2026-11-23T10:00:00Z",
          },
        },
      ],
    };
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "recording.json");
        await writeFile(file, JSON.stringify(recording));
        const resigned = await runInProcess(["simulate", file, "--url", server.url], { env });
        assert.equal(resigned.code, 0, resigned.stdout + resigned.stderr);
        assert.equal(seen[0]!.body, recordedBody);
        assert.notEqual(seen[0]!.signature, "v1,recorded");
        assert.equal(seen[0]!.custom, "abc");
        const kept = await runInProcess(["simulate", file, "--url", server.url, "--keep-signatures"]);
        assert.equal(kept.code, 0, kept.stdout + kept.stderr);
        assert.equal(seen[1]!.body, recordedBody);
        assert.equal(seen[1]!.signature, "v1,recorded");
        const mixed = await runInProcess(["simulate", fixture("reschedule.json"), "--url", server.url, "--keep-signatures"], { env });
        assert.equal(mixed.code, 2);
        assert.match(mixed.stderr, /--keep-signatures replays recordings only/);
      });
    } finally {
      await server.close();
    }
  });
});

describe("scheme settings from flags", () => {
  it("simulate --scheme hmac honours algorithm, encoding, template, timestamp and id headers", async () => {
    const { createHmac } = await import("node:crypto");
    const shared = "hmac-shared-secret";
    const failures: string[] = [];
    const server = await startServer((request, response) => {
      const id = String(request.headers["x-id"]);
      const timestamp = String(request.headers["x-ts"]);
      const expected = createHmac("sha512", shared).update(`${id}:${timestamp}:`).update(request.body).digest("base64");
      if (request.headers["x-sig"] !== `v=${expected}`) failures.push(String(request.headers["x-sig"]));
      response.writeHead(204).end();
    });
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "flow.json");
        await writeFile(file, JSON.stringify({ version: 1, name: "acks", events: [{ event_type: "call.ended", event_id: "evt_h1" }] }));
        const result = await runInProcess(
          [
            "simulate",
            file,
            "--url",
            server.url,
            "--scheme",
            "hmac",
            "--hmac-algorithm",
            "sha512",
            "--hmac-encoding",
            "base64",
            "--hmac-template",
            "{id}:{timestamp}:{body}",
            "--hmac-header",
            "x-sig",
            "--hmac-timestamp-header",
            "x-ts",
            "--hmac-id-header",
            "x-id",
            "--hmac-prefix",
            "v=",
          ],
          { env: { VWH_SECRET: shared } },
        );
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.equal(server.requests.length, 1);
        assert.equal(server.requests[0]!.headers["x-id"], "evt_h1");
        assert.deepEqual(failures, []);
        const badAlgorithm = await runInProcess(["simulate", file, "--url", server.url, "--scheme", "hmac", "--hmac-algorithm", "md5"], {
          env: { VWH_SECRET: shared },
        });
        assert.equal(badAlgorithm.code, 2);
        assert.match(badAlgorithm.stderr, /--hmac-algorithm: expected one of "sha256", "sha512", "sha1", got "md5"/);
      });
    } finally {
      await server.close();
    }
  });

  it("sign and verify-signature take the request URL, method and content type that Twilio signs", async () => {
    const token = "12345";
    const form = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    const requestUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const signed = await runInProcess(["sign", "-", "--scheme", "twilio", "--request-url", requestUrl, "--content-type", "application/x-www-form-urlencoded"], {
      env: { VWH_SECRET: token },
      input: form,
    });
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /^x-twilio-signature: 0\/KCTR6DLpKmkAf8muzZqo1nDgQ=$/m);
    assert.match(signed.stdout, /^content-type: application\/x-www-form-urlencoded$/m);
    const verifyArgs = ["verify-signature", "--scheme", "twilio", "--body", "-", "-H", "x-twilio-signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "--method", "post"];
    const verified = await runInProcess([...verifyArgs, "--request-url", requestUrl], { env: { VWH_SECRET: token }, input: form });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const otherUrl = await runInProcess([...verifyArgs, "--request-url", "https://mycompany.com/other.php"], { env: { VWH_SECRET: token }, input: form });
    assert.equal(otherUrl.stdout, "invalid: no matching signature\n");
    // Without the URL nothing can be checked: a usage error (exit 2), not a verdict.
    const noUrl = await runInProcess(verifyArgs, { env: { VWH_SECRET: token }, input: form });
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /twilio signatures cover the request URL: give --request-url/);
    const badMethod = await runInProcess([...verifyArgs, "--method", "P0ST"], { env: { VWH_SECRET: token }, input: form });
    assert.equal(badMethod.code, 2);
  });

  it("--method reaches templates that sign it", async () => {
    const args = ["--scheme", "hmac", "--hmac-template", "{method} {body}"];
    const signed = await runInProcess(["sign", "-", ...args, "--json"], { env: { VWH_SECRET: "k" }, input: "{}" });
    const { headers } = JSON.parse(signed.stdout) as { headers: Record<string, string> };
    const asPost = await runInProcess(["verify-signature", "--body", "-", ...headerArgs(headers), ...args], { env: { VWH_SECRET: "k" }, input: "{}" });
    assert.equal(asPost.stdout, "valid\n");
    const asPut = await runInProcess(["verify-signature", "--body", "-", ...headerArgs(headers), ...args, "--method", "PUT"], {
      env: { VWH_SECRET: "k" },
      input: "{}",
    });
    assert.equal(asPut.stdout, "invalid: no matching signature\n");
  });
});
