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
import { formatRequestLine } from "../../src/ui/tunnel-log.js";
import { formatEventLine } from "../../src/ui/simulate-report.js";
import { terminalSafe } from "../../src/ui/terminal-text.js";
import { runInProcess, startServer, withTempDir } from "../helpers.js";
import { connect, type Socket } from "node:net";
import { get } from "node:http";
import { startInspector } from "../../src/tunnel/inspector.js";
import { readFile, stat } from "node:fs/promises";
import { Recorder } from "../../src/tunnel/recorder.js";
import { maskSecretsInTarget, secretNeedles } from "../../src/tunnel/redact.js";
import { toExchangeView } from "../../src/tunnel/inspector.js";
import { appendDeadLetter } from "../../src/files/dead-letters.js";
import { TunnelSession } from "../../src/tunnel/session.js";
import { toRecordedEvent, type RecordedRequest } from "../../src/tunnel/recorder.js";
import { redactBody, redactPath, type RedactionFields } from "../../src/tunnel/redact.js";
import { plivoPlatform } from "../../src/platforms/plivo/index.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { vapiPlatform } from "../../src/platforms/vapi/index.js";
import { telnyxPlatform } from "../../src/platforms/telnyx/index.js";
import { vonagePlatform } from "../../src/platforms/vonage/index.js";
import { retellPlatform } from "../../src/platforms/retell/index.js";

const form = "application/x-www-form-urlencoded";

function recorded(body: string, contentType: string, fields: RedactionFields, path = "/hook"): { body: string; path: string } {
  const request: RecordedRequest = {
    receivedAt: new Date("2026-01-02T03:04:05Z"),
    method: "POST",
    path,
    url: undefined,
    headers: { "content-type": contentType },
    body: Buffer.from(body),
  };
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
    const body = new URLSearchParams({
      CallUUID: "0e7b5b06-1a7b-4c6e-9d0e-2f4f1b7c5d3a",
      From: "14155550123",
      To: "442071838750",
      CallerName: "+14155550123",
      Speech: "my account is 5551234",
      Digits: "2468",
    }).toString();
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
      message: {
        type: "transcript",
        role: "user",
        transcriptType: "final",
        transcript: "my card is 4111",
        originalTranscript: "my card is four one one one",
        call: { id: "c-1", customer: { number: "14155550123" }, phoneNumber: { twilioPhoneNumber: "+14155550199" } },
      },
    });
    const stored = JSON.parse(recorded(body, "application/json", vapiPlatform.redaction).body) as {
      message: {
        transcript: string;
        originalTranscript: string;
        call: { id: string; customer: { number: string }; phoneNumber: { twilioPhoneNumber: string } };
      };
    };
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
          const out = JSON.parse(
            redactBody(Buffer.from(JSON.stringify({ [spelled]: "secret words 42" })), "application/json", platform.redaction).toString(),
          ) as Record<string, string>;
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
        reply: { status: 401, contentType: "text/plain\u001b[31m", bytes: 5, truncated: false, actions: undefined, excerpt: "no\u009b2J" },
      },
      plain,
    );
    assert.doesNotMatch(line, controls, JSON.stringify(line));
    assert.match(line, /call\.started\\x1b\[2K\\r\\x1b\[32m200 ✓ signature/);
    assert.match(line, /c\\x1b\[1A/);
  });

  it("simulate prints a recorded event type escaped", () => {
    const line = formatEventLine(
      {
        sequence: 1,
        eventType: forged,
        passed: true,
        status: 200,
        latencyMs: 3,
        attempts: 1,
        failures: [],
        warnings: [],
        instructionTypes: [],
      } as unknown as Parameters<typeof formatEventLine>[0],
      plain,
      1000,
    );
    assert.doesNotMatch(line, controls, JSON.stringify(line));
  });

  it("vwh simulate <recording> and verify-signature --recording print forged ids and types escaped", async () => {
    const handler = await startServer((_request, response) => void response.writeHead(200, { "content-type": "application/json" }).end("{}"));
    try {
      await withTempDir(async (dir) => {
        const body = JSON.stringify({
          event_type: forged,
          event_id: "evt\u001b[2K\r\u001b[32m✓ evt_ok",
          call_id: "call\u001b[8m",
          sequence: 1,
          timestamp: "2025-01-01T10:00:00Z",
          payload: {},
        });
        const recording = {
          version: 1,
          name: "forged\u001b[2J",
          events: [
            {
              event_type: forged,
              raw: {
                method: "POST",
                path: "/webhooks/voice",
                headers: { "content-type": "application/json", "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA" },
                body,
                received_at: "2025-01-01T10:00:00Z",
              },
            },
          ],
        };
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

function bareSession(keep?: number): TunnelSession {
  return new TunnelSession({
    verifier: undefined,
    resigner: "no secret configured",
    signatureHeaders: [],
    toleranceSeconds: 300,
    requestUrl: (path) => `http://127.0.0.1${path}`,
    forward: async () => assert.fail("nothing is replayed here"),
    ...(keep !== undefined && { keep }),
  });
}

function observeBig(session: TunnelSession, count: number, bytes: number): void {
  const body = Buffer.alloc(bytes, "a");
  for (let i = 0; i < count; i++) {
    session.observe({
      receivedAt: new Date(),
      method: "POST",
      path: "/hook",
      headers: { "content-type": "text/plain" },
      body,
      status: 200,
      latencyMs: 1,
      proxyError: undefined,
      reply: { status: 200, headers: {}, body },
    });
  }
}

/** Opens /events and never reads from it. */
function stalledSubscriber(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => {
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on("error", reject);
  });
}

/** Reads /events until `count` exchange events (or a dropped notice) have arrived. */
function readStream(
  port: number,
  count: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; ids: number[]; hello: { keep?: number } | undefined }> {
  return new Promise((resolve, reject) => {
    const ids: number[] = [];
    let hello: { keep?: number } | undefined;
    let buffer = "";
    const outgoing = get({ host: "127.0.0.1", port, path: "/events", headers }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        outgoing.destroy();
        return resolve({ status: response.statusCode ?? 0, ids, hello });
      }
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === "hello") hello = JSON.parse(data!) as { keep?: number };
          if (event === "exchange") ids.push((JSON.parse(data!) as { id: number }).id);
          if (ids.length === count) {
            outgoing.destroy();
            resolve({ status: 200, ids, hello });
          }
        }
      });
    });
    outgoing.on("error", (error) => (ids.length === count ? undefined : reject(error)));
  });
}

/** An /events subscriber that reads; `next()` is the id of the next exchange event. */
function liveReader(port: number): { hello: Promise<void>; helloData: Promise<{ keep?: number }>; next(): Promise<number>; close(): void } {
  const ids: number[] = [];
  const waiting: ((id: number) => void)[] = [];
  let helloResolve: (value: { keep?: number }) => void = () => undefined;
  const helloData = new Promise<{ keep?: number }>((resolve) => (helloResolve = resolve));
  let buffer = "";
  const outgoing = get({ host: "127.0.0.1", port, path: "/events" }, (response) => {
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === "hello") helloResolve(JSON.parse(data!) as { keep?: number });
        if (event === "exchange") {
          const id = (JSON.parse(data!) as { id: number }).id;
          const waiter = waiting.shift();
          if (waiter) waiter(id);
          else ids.push(id);
        }
      }
    });
  });
  outgoing.on("error", () => undefined);
  return {
    hello: helloData.then(() => undefined),
    helloData,
    next: () => (ids.length ? Promise.resolve(ids.shift()!) : new Promise<number>((resolve) => waiting.push(resolve))),
    close: () => outgoing.destroy(),
  };
}

describe("the inspector's memory stays bounded (issue 26, defect 3)", () => {
  it("disconnects a subscriber that stops reading, with a notice, while one that reads gets every event", { timeout: 60_000 }, async () => {
    const session = bareSession();
    const notices: string[] = [];
    const inspector = await startInspector({
      session,
      port: 0,
      secretNeedles: [],
      signatureHeaders: [],
      maxQueued: 8,
      onNotice: (text) => void notices.push(text),
    });
    try {
      const stalled = await stalledSubscriber(inspector.port);
      const closed = new Promise<void>((resolve) => stalled.once("close", () => resolve()));
      const reader = liveReader(inspector.port);
      await reader.hello;
      while (inspector.streams < 2) await new Promise((resolve) => setImmediate(resolve));
      // 120 exchanges of 2 × 256 KiB, each sent once the reader has the one before: 60 MiB of views
      // for the stalled subscriber, far beyond what its socket can buffer.
      for (let n = 1; n <= 120; n++) {
        observeBig(session, 1, 256 * 1024);
        assert.equal(await reader.next(), n);
      }
      assert.equal(notices.length, 1, notices.join("\n"));
      assert.match(notices[0]!, /fell more than 8 events behind and was disconnected/);
      // The disconnect is a socket close: its count drops once the close has gone through.
      while (inspector.streams > 1) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(inspector.streams, 1, "only the reader is still subscribed");
      stalled.resume();
      await closed;
      assert.equal((await reader.helloData).keep, 500, "the page is told how many the server keeps");
      reader.close();
    } finally {
      await inspector.close();
    }
  });

  it("refuses /events and the script to other sites (Sec-Fetch-Site), and caps the open streams", async () => {
    const session = bareSession();
    const inspector = await startInspector({ session, port: 0, secretNeedles: [], signatureHeaders: [], maxStreams: 2 });
    try {
      observeBig(session, 1, 10);
      const host = `127.0.0.1:${inspector.port}`;
      for (const site of ["cross-site", "same-site"]) {
        assert.equal(
          (await readStream(inspector.port, 1, { host, "sec-fetch-site": site, "sec-fetch-dest": "script", "sec-fetch-mode": "no-cors" })).status,
          403,
          `/events from a ${site} <script>`,
        );
        assert.equal(
          (await readStream(inspector.port, 1, { host, "sec-fetch-site": site, "sec-fetch-dest": "image", "sec-fetch-mode": "no-cors" })).status,
          403,
          `/events from a ${site} <img>`,
        );
        const script = await new Promise<number>((resolve, reject) =>
          get(
            { host: "127.0.0.1", port: inspector.port, path: "/inspector.js", headers: { host, "sec-fetch-site": site, "sec-fetch-dest": "script" } },
            (response) => (response.resume(), resolve(response.statusCode ?? 0)),
          ).on("error", reject),
        );
        assert.equal(script, 403);
      }
      const page = await new Promise<number>((resolve, reject) =>
        get(
          {
            host: "127.0.0.1",
            port: inspector.port,
            path: "/",
            headers: { host, "sec-fetch-site": "cross-site", "sec-fetch-dest": "document", "sec-fetch-mode": "navigate" },
          },
          (response) => (response.resume(), resolve(response.statusCode ?? 0)),
        ).on("error", reject),
      );
      assert.equal(page, 200, "following a link to the page is fine");
      assert.deepEqual(
        (await readStream(inspector.port, 1, { host, "sec-fetch-site": "same-origin", "sec-fetch-dest": "empty", "sec-fetch-mode": "cors" })).ids,
        [1],
        "the page's own EventSource",
      );
      assert.deepEqual((await readStream(inspector.port, 1, { host })).ids, [1], "a client without Fetch-Metadata (curl)");

      const first = await stalledSubscriber(inspector.port);
      const second = await stalledSubscriber(inspector.port);
      try {
        // Both held open: a third is refused until one closes.
        let status = 200;
        for (let attempt = 0; attempt < 50 && status === 200; attempt++) status = (await readStream(inspector.port, 1, { host })).status;
        assert.equal(status, 503);
      } finally {
        first.destroy();
        second.destroy();
      }
    } finally {
      await inspector.close();
    }
  });
});

// Defect 4 (any reply streamed, an oversized request refused without reading it) is in the reliability
// harness, e2e/tunnel-faults.test.ts, with the other handler-side faults.

describe("secrets masked however encoded; files that hold traffic are 0600 (issue 26, defect 5)", () => {
  const secret = "whsec_Ab+cd/EF9ghIJ+klMN/opQR";
  const needles = secretNeedles([secret]);
  const spelled = (text: string) => [...text].map((character) => `%${character.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");
  const targets = [
    `/hook?token=${encodeURIComponent(secret)}&a=1`,
    `/hook?token=${encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())}&a=1`,
    `/hook?token=${spelled(secret)}&a=1`,
    `/hook?token=${secret.replace("_", "%5F")}&a=1`,
    `/hook/${encodeURIComponent(secret)}/x`,
  ];
  const leaks = (text: string) =>
    [secret, secret.slice(6), encodeURIComponent(secret), spelled(secret)].some((form) => text.toLowerCase().includes(form.toLowerCase())) ||
    decodeURIComponent(text).includes(secret.slice(6));

  it("masks a percent-encoded secret in a query string or path, leaving the rest as it was", () => {
    for (const target of targets) {
      const masked = maskSecretsInTarget(target, needles);
      assert.ok(!leaks(masked), `${target} → ${masked}`);
      assert.match(masked, /redacted/, masked);
    }
    assert.equal(maskSecretsInTarget("/hook?a=%2Fx&b=1+2", needles), "/hook?a=%2Fx&b=1+2");
  });

  it("in the recording, the inspector and a form body", () => {
    for (const target of targets) {
      const request = {
        receivedAt: new Date(),
        method: "POST",
        path: target,
        url: `https://x.ngrok.app${target}`,
        headers: { "content-type": form },
        body: Buffer.from(`token=${encodeURIComponent(secret)}`),
      };
      const event = toRecordedEvent(request, { redactPii: false, secretNeedles: needles });
      assert.ok(!leaks(event.raw.path ?? "") && !leaks(event.raw.url ?? ""), JSON.stringify(event.raw));
      const session = bareSession();
      const stored = session.observe({
        receivedAt: new Date(),
        method: "POST",
        path: target,
        headers: request.headers,
        body: request.body,
        status: 200,
        latencyMs: 1,
        proxyError: undefined,
        reply: undefined,
      });
      const view = toExchangeView(stored, { secretNeedles: needles, signatureHeaders: [] });
      assert.ok(!leaks(view.path), view.path);
      assert.ok(!leaks(view.request.body.data), view.request.body.data);
    }
  });

  it("writes recordings and --dlq files 0600, as their journal", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const recorder = await Recorder.open(file, { redactPii: false });
      await recorder.append({
        receivedAt: new Date(),
        method: "POST",
        path: "/hook",
        url: undefined,
        headers: { "content-type": "application/json" },
        body: Buffer.from("{}"),
      });
      const written = await recorder.finish("calls");
      assert.equal(written.file, file);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.match(await readFile(file, "utf8"), /"\/hook"/);
      const dlq = join(dir, "dead.jsonl");
      await appendDeadLetter(dlq, {
        flow: "f",
        event_index: 0,
        event_type: "call.started",
        attempts: 1,
        last_error: "x",
        dead_at: new Date().toISOString(),
        raw: { method: "POST", path: "/h", headers: {}, body: "{}", received_at: new Date().toISOString() },
      } as unknown as Parameters<typeof appendDeadLetter>[1]);
      assert.equal((await stat(dlq)).mode & 0o777, 0o600);
    });
  });
});
