/**
 * The tunnel's proxy, recorder and redaction in process (issue 11, defects 1–6 and 8, replies), against
 * real servers on 127.0.0.1 port 0. The command contract (exit codes, signals) is in e2e/tunnel.test.ts.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { request } from "undici";
import { compareReplies } from "../../src/checks/compare-replies.js";
import { InputError, UsageError } from "../../src/core/errors.js";
import { callFlowSchema, loadFlow, recordingSchema } from "../../src/files/call-flow.js";
import { expandFlow } from "../../src/engine/expand-flow.js";
import { prepareDelivery, replayUrl } from "../../src/engine/address.js";
import { getScheme } from "../../src/signing/index.js";
import { startProxy, type ProxiedExchange } from "../../src/tunnel/proxy.js";
import { readJournal, Recorder, recoverJournal, toRecordedEvent, toRecordedResponse, type RecordedRequest } from "../../src/tunnel/recorder.js";
import { summarizeLongReply } from "../../src/tunnel/session.js";
import { maskNumber, redactBody, redactPath, secretNeedles } from "../../src/tunnel/redact.js";
import { summarizeReply } from "../../src/tunnel/reply-summary.js";
import { newSecret, startServer, withTempDir, type TestServer } from "../helpers.js";
import { vwhPlatform } from "../../src/platforms/vwh/index.js";

/** Sends raw bytes and returns the whole answer (the connection is closed by the request). */
function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.write(text);
  });
}

async function withProxy<T>(
  upstream: TestServer,
  work: (proxy: Awaited<ReturnType<typeof startProxy>>, exchanges: ProxiedExchange[]) => Promise<T>,
  maxBodyBytes = 10 * 1024 * 1024,
): Promise<T> {
  const exchanges: ProxiedExchange[] = [];
  const proxy = await startProxy({
    upstream: new URL(`http://localhost:${upstream.port}`),
    maxBodyBytes,
    upstreamTimeoutMs: 5000,
    onExchange: (exchange) => void exchanges.push(exchange),
  });
  try {
    return await work(proxy, exchanges);
  } finally {
    await proxy.close();
  }
}

const request1: RecordedRequest = {
  receivedAt: new Date("2026-01-02T03:04:05Z"),
  method: "POST",
  path: "/hook",
  url: undefined,
  headers: { "content-type": "application/json" },
  body: Buffer.from("{}"),
};

describe("the proxy forwards to the handler and nowhere else (defect 1)", () => {
  it("refuses absolute-form and CONNECT targets with 400, and sends //host paths to the handler", async () => {
    const handler = await startServer((_request, response) => void response.writeHead(200, { "content-type": "text/plain" }).end("handler"));
    const elsewhere = await startServer((_request, response) => void response.writeHead(200).end("ANOTHER SERVICE"));
    try {
      await withProxy(handler, async (proxy, exchanges) => {
        const absolute = await rawHttp(
          proxy.port,
          `GET http://127.0.0.1:${elsewhere.port}/admin HTTP/1.1\r\nHost: 127.0.0.1:${elsewhere.port}\r\nConnection: close\r\n\r\n`,
        );
        assert.match(absolute, /^HTTP\/1\.1 400 /);
        assert.match(absolute, /bad_request_target/);
        const connectForm = await rawHttp(proxy.port, `CONNECT 127.0.0.1:${elsewhere.port} HTTP/1.1\r\nHost: 127.0.0.1:${elsewhere.port}\r\n\r\n`);
        assert.match(connectForm, /^HTTP\/1\.1 400 /);
        const asterisk = await rawHttp(proxy.port, `OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.match(asterisk, /^HTTP\/1\.1 400 /);
        const doubleSlash = await rawHttp(
          proxy.port,
          `GET //127.0.0.1:${elsewhere.port}/admin?x=1 HTTP/1.1\r\nHost: example.ngrok.app\r\nConnection: close\r\n\r\n`,
        );
        assert.match(doubleSlash, /^HTTP\/1\.1 200 [^]*\r\nhandler\r\n/);
        assert.equal(handler.requests.at(-1)!.url, `//127.0.0.1:${elsewhere.port}/admin?x=1`);
        assert.equal(elsewhere.requests.length, 0, "nothing reached the other service");
        assert.deepEqual(
          exchanges.map((exchange) => [exchange.status, exchange.forwarded]),
          [
            [400, false],
            [400, false],
            [400, false],
            [200, true],
          ],
        );
        assert.match(exchanges[0]!.proxyError!, /refused request target/);
      });
    } finally {
      await handler.close();
      await elsewhere.close();
    }
  });
});

describe("bodies and Expect: 100-continue (defect 2)", () => {
  it("forwards a 2 MB body sent with Expect: 100-continue byte for byte both ways, and refuses an oversized one before its body", async () => {
    const handler = await startServer((received, response) => void response.writeHead(200, { "content-type": "application/octet-stream" }).end(received.body));
    const body = randomBytes(2 * 1024 * 1024);
    try {
      await withProxy(handler, async (proxy, exchanges) => {
        const send = (bytes: Buffer) =>
          new Promise<{ status: number; body: Buffer; continued: boolean }>((resolve, reject) => {
            let continued = false;
            const outgoing = httpRequest({
              host: "127.0.0.1",
              port: proxy.port,
              method: "POST",
              path: "/upload",
              headers: { expect: "100-continue", "content-length": bytes.length, "content-type": "application/octet-stream" },
            });
            outgoing.on("continue", () => {
              continued = true;
              outgoing.end(bytes);
            });
            outgoing.on("response", (response) => {
              const chunks: Buffer[] = [];
              response.on("data", (chunk: Buffer) => chunks.push(chunk));
              response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), continued }));
            });
            outgoing.on("error", reject);
            outgoing.flushHeaders();
          });
        const answer = await send(body);
        assert.equal(answer.status, 200);
        assert.ok(answer.continued);
        assert.ok(answer.body.equals(body), "the reply came back byte for byte");
        assert.ok(handler.requests[0]!.body.equals(body), "the handler got the exact bytes");
        assert.equal(handler.requests[0]!.headers.expect, undefined, "the proxy answered the expectation itself");
        assert.ok(exchanges[0]!.reply!.body.equals(body), "the exchange carries the reply");
      });
      await withProxy(
        handler,
        async (proxy) => {
          const status = await new Promise<number>((resolve, reject) => {
            const outgoing = httpRequest({
              host: "127.0.0.1",
              port: proxy.port,
              method: "POST",
              path: "/upload",
              headers: { expect: "100-continue", "content-length": 4096 },
            });
            outgoing.on("continue", () => reject(new Error("the proxy asked for a body it must refuse")));
            outgoing.on("response", (response) => resolve(response.statusCode ?? 0));
            outgoing.on("error", reject);
            outgoing.flushHeaders();
          });
          assert.equal(status, 413);
        },
        1024,
      );
    } finally {
      await handler.close();
    }
  });
});

describe("replies", () => {
  it("hands each reply on with the request, and summarises it as actions or an excerpt", async () => {
    const handler = await startServer((received, response) => {
      if (received.url === "/json")
        return void response.writeHead(200, { "content-type": "application/json" }).end('{"instructions":[{"type":"speak","text":"hi"},{"type":"listen"}]}');
      response.writeHead(200, { "content-type": "text/xml" }).end("<Response>\n  <Say>Hello there</Say>\n</Response>");
    });
    try {
      await withProxy(handler, async (proxy, exchanges) => {
        for (const path of ["/json", "/xml"]) await (await request(`${proxy.url}${path}`, { method: "POST", body: "{}" })).body.dump();
        const [json, xml] = exchanges.map((exchange) => summarizeReply(exchange.reply!));
        assert.deepEqual(json, { status: 200, contentType: "application/json", bytes: 65, truncated: false, actions: ["speak", "listen"], excerpt: undefined });
        assert.deepEqual(xml!.excerpt, "<Response> <Say>Hello there</Say> </Response>");
        assert.equal(xml!.actions, undefined);
      });
    } finally {
      await handler.close();
    }
  });
});

describe("a long reply in the log and the recording", () => {
  it("is summarised from its start: the whole size, text kept as text across the cut, binary named as such", () => {
    const text = Buffer.from(`<Response><Say>${"é".repeat(40_000)}</Say></Response>`);
    const textSummary = summarizeLongReply({ status: 200, headers: { "content-type": "text/xml" }, body: text });
    assert.equal(textSummary.bytes, text.length);
    assert.equal(textSummary.truncated, false);
    assert.match(textSummary.excerpt!, /^<Response><Say>éé/, "not taken for binary where the 64 KiB cut falls inside a character");
    const binary = randomBytes(200_000);
    const cut = summarizeLongReply({ status: 200, headers: {}, body: binary.subarray(0, 100_000), truncated: { bytes: 200_000 } });
    assert.deepEqual(
      { bytes: cut.bytes, truncated: cut.truncated, excerpt: cut.excerpt },
      { bytes: 200_000, truncated: true, excerpt: "<200000 bytes of binary>" },
    );
    const small = { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from('{"instructions":[{"type":"speak"}]}') };
    assert.deepEqual(summarizeLongReply(small), summarizeReply(small), "a short reply as before");
  });

  it("journals a reply's body in pieces that load back as the whole (base64 across piece edges, text as text)", async () => {
    const bodies = [
      Buffer.alloc(0),
      randomBytes(3 * 256 * 1024 - 1),
      randomBytes(3 * 256 * 1024),
      randomBytes(2 * 3 * 256 * 1024 + 5),
      Buffer.from('{"instructions":[{"type":"speak","text":"Grüße \\"quoted\\" \\u0000"}]}'),
    ];
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const recorder = await Recorder.open(file, { redactPii: false });
      const replies = bodies.map((body, index) => ({
        status: 200 + index,
        headers: { "content-type": "application/octet-stream", "content-length": String(body.length), "x-n": `\u00e9${index}` },
        body,
        ...(index === 3 && { truncated: { bytes: 50_000_000 } }),
      }));
      for (const reply of replies) {
        const n = await recorder.append(request1);
        await recorder.appendResponse(n, reply, 1.5);
      }
      await recorder.finish("pieces");
      const loaded = await loadFlow(file);
      assert.deepEqual(
        loaded.flow.events!.map((event) => event.raw!.response),
        replies.map((reply) => toRecordedResponse(reply, 1.5, { redactPii: false })),
      );
      assert.ok(Buffer.from(loaded.flow.events![3]!.raw!.response!.body, "base64").equals(bodies[3]!));
    });
  });
});

describe("what the recorder writes always loads (defect 3)", () => {
  it("an absolute-form target, odd headers and binary bodies all pass vwh's own schemas (property)", () => {
    const requests = fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "OPTIONS", "PATCH"),
      path: fc.oneof(
        fc.webPath().map((path) => `/${path}`),
        fc.webUrl(),
        fc.string({ minLength: 1 }),
      ),
      headers: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.string()),
      body: fc.uint8Array({ maxLength: 64 }),
      redactPii: fc.boolean(),
      envelope: fc.boolean(),
    });
    fc.assert(
      fc.property(requests, ({ method, path, headers, body, redactPii, envelope }) => {
        const bytes = envelope ? Buffer.from(JSON.stringify({ event_type: "call.started", call_id: "c", from: "447700900123" })) : Buffer.from(body);
        const event = toRecordedEvent(
          { receivedAt: new Date(), method, path, url: undefined, headers, body: bytes },
          { redactPii, secretNeedles: ["whsec_abcdef"] },
        );
        const recording = { version: 1, name: "r", events: [event] };
        assert.ok(recordingSchema.safeParse(recording).success);
        assert.ok(callFlowSchema.safeParse(recording).success);
      }),
      { numRuns: 100 },
    );
  });

  it("writes no file for a session without requests, and a recording with an odd target that simulate loads", async () => {
    await withTempDir(async (dir) => {
      const empty = await Recorder.open(join(dir, "empty.json"), { redactPii: false });
      assert.deepEqual(await empty.finish("none"), { file: undefined, requests: 0, displaced: false });
      const file = join(dir, "odd.json");
      const recorder = await Recorder.open(file, { redactPii: false });
      const n = await recorder.append({ ...request1, method: "GET", path: "http://evil.example/x?y=1", body: Buffer.alloc(0) });
      await recorder.appendResponse(n, { status: 400, headers: { "content-type": "application/json" }, body: Buffer.from("{}") }, 1.5);
      assert.equal((await recorder.finish("odd")).file, file);
      const loaded = await loadFlow(file);
      assert.equal(loaded.flow.events![0]!.raw!.path, "http://evil.example/x?y=1");
      assert.deepEqual(loaded.flow.events![0]!.raw!.response, {
        status: 400,
        headers: { "content-type": "application/json" },
        body: "{}",
        body_encoding: "utf8",
        latency_ms: 1.5,
      });
    });
  });
});

describe("replaying a recording keeps its path and query (defect 4)", () => {
  it("applies the recorded target to --url's origin unless --url has a path of its own", () => {
    assert.equal(replayUrl(new URL("http://127.0.0.1:3000"), "/answer?to=%2B1555&uuid=abc").href, "http://127.0.0.1:3000/answer?to=%2B1555&uuid=abc");
    assert.equal(replayUrl(new URL("http://127.0.0.1:3000/hooks"), "/answer?to=1").href, "http://127.0.0.1:3000/hooks");
    assert.equal(replayUrl(new URL("http://127.0.0.1:3000/?v=2"), "/answer").href, "http://127.0.0.1:3000/?v=2");
    assert.equal(replayUrl(new URL("http://127.0.0.1:3000"), "//evil.example/x").host, "127.0.0.1:3000", "a recording never picks the host");
    assert.equal(replayUrl(new URL("http://127.0.0.1:3000"), "http://evil.example/x").href, "http://127.0.0.1:3000/");
    const [planned] = expandFlow(
      {
        platform: vwhPlatform,
        flow: {
          version: 1,
          name: "r",
          events: [
            {
              raw: {
                method: "GET",
                path: "/answer?to=447700900123&uuid=u1",
                headers: {},
                body: "",
                body_encoding: "utf8",
                received_at: "2026-01-01T00:00:00Z",
              },
            },
          ],
        },
      },
      { start: new Date(), url: new URL("http://127.0.0.1:3000") },
    );
    const secret = newSecret();
    const signer = getScheme("standard").create([{ value: secret, source: "" }], { purpose: "sign" });
    const outgoing = prepareDelivery(planned!, { signer, signatureHeaders: [], target: new URL("http://127.0.0.1:3000") }, 1, Date.now());
    assert.equal(`${outgoing.url.pathname}${outgoing.url.search}`, "/answer?to=447700900123&uuid=u1");
  });
});

describe("--redact-pii over query, form and JSON fields (defect 5)", () => {
  it("masks numbers with and without +, in the query string, form and nested JSON, and transcripts", () => {
    assert.equal(maskNumber("447700900123"), "100000000023");
    assert.equal(maskNumber("+44 7700 900123"), "+10 0000 000023");
    assert.equal(redactPath("/answer?to=447700900123&from=%2B15550100001&uuid=abc-123"), "/answer?to=100000000023&from=%2B10000000001&uuid=abc-123");
    assert.equal(redactPath("/answer?uuid=abc"), "/answer?uuid=abc", "untouched when there is nothing to mask");
    assert.equal(
      redactBody(Buffer.from("Caller=447700900123&SpeechResult=my+pin+is+1234&CallSid=CA1"), "application/x-www-form-urlencoded").toString(),
      "Caller=100000000023&SpeechResult=%5Bredacted%5D&CallSid=CA1",
    );
    const json = JSON.parse(
      redactBody(
        Buffer.from(
          '{"message":{"call":{"customer":{"number":"447700900123"}},"from_number":"15550100001","transcript":"secret words","digits":"4111","note":"call +15550100009"}}',
        ),
        "application/json",
      ).toString(),
    ) as { message: Record<string, unknown> };
    assert.deepEqual(json.message, {
      call: { customer: { number: "100000000023" } },
      from_number: "10000000001",
      transcript: "[redacted]",
      digits: "[redacted]",
      note: "call +10000000009",
    });
    const custom = redactBody(Buffer.from('{"msisdn_x":"447700900123","from":"447700900123"}'), "application/json", { phone: [/^msisdn_/i], text: [] });
    assert.equal(custom.toString(), '{"msisdn_x":"100000000023","from":"447700900123"}', "each platform passes its own fields");
    const recorded = toRecordedEvent({ ...request1, method: "GET", path: "/answer?to=447700900123", body: Buffer.alloc(0) }, { redactPii: true });
    assert.equal(recorded.raw.path, "/answer?to=100000000023");
  });
});

describe("one tunnel per recording, nothing overwritten (defect 6)", () => {
  it("refuses a second recorder on the same file (exit 2), and writes beside a file that appeared meanwhile", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const first = await Recorder.open(file, { redactPii: false });
      const refused = await Recorder.open(file, { redactPii: false }).catch((error: unknown) => error);
      assert.ok(refused instanceof UsageError);
      assert.match(refused.message, /another vwh tunnel \(pid \d+\) is recording to it/);
      assert.equal(refused.exitCode, 2);
      await first.append(request1);
      await writeFile(file, "the user's own file");
      const written = await first.finish("r");
      assert.deepEqual(written, { file: join(dir, "calls.1.json"), requests: 1, displaced: true });
      assert.equal(await readFile(file, "utf8"), "the user's own file");
      assert.equal((await loadFlow(written.file!)).flow.events!.length, 1);
      const missing = await Recorder.open(join(dir, "no", "such", "calls.json"), { redactPii: false }).catch((error: unknown) => error);
      assert.ok(missing instanceof InputError);
      assert.match(missing.message, /the folder .* does not exist/);
    });
  });

  it("a journal left by a dead tunnel is named for --recover, which turns it into the recording", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      // A journal a killed tunnel left (nobody holds its lock), its last line torn.
      await writeFile(
        `${file}.journal`,
        `${JSON.stringify({ vwh_journal: 1, pid: 2 ** 22 + 17, started_at: "2026-01-01T00:00:00Z", recording: file })}\n${JSON.stringify({ n: 1, event: toRecordedEvent(request1, { redactPii: false }) })}\n{"n":2,"ev`,
      );
      const refused = await Recorder.open(file, { redactPii: false }).catch((error: unknown) => error);
      assert.ok(refused instanceof UsageError);
      assert.match(refused.message, /left from a tunnel that stopped/);
      assert.match(refused.hint!, /vwh tunnel --recover .*calls\.json\.journal/);
      assert.equal((await readJournal(`${file}.journal`)).events.length, 1);
      const recovered = await recoverJournal(`${file}.journal`);
      assert.deepEqual(recovered, { file, requests: 1, displaced: false });
      assert.equal((await loadFlow(file)).flow.events!.length, 1);
    });
  });
});

describe("secrets never reach a recording (defect 8)", () => {
  it("masks any header carrying a configured secret, and drops credentials", () => {
    const secret = newSecret();
    const event = toRecordedEvent(
      {
        ...request1,
        path: `/hook?token=${secret}`,
        headers: {
          "x-vapi-secret": "another-value",
          "x-custom-auth": secret,
          "x-key-only": secret.slice(6),
          authorization: "Bearer abc",
          cookie: "s=1",
          "webhook-signature": "v1,abc",
        },
      },
      { redactPii: false, secretNeedles: secretNeedles([secret]) },
    );
    assert.deepEqual(event.raw.headers, {
      "x-vapi-secret": "[redacted]",
      "x-custom-auth": "[redacted]",
      "x-key-only": "[redacted]",
      "webhook-signature": "v1,abc",
    });
    assert.equal(event.raw.path, "/hook?token=[redacted]");
    assert.ok(!JSON.stringify(event).includes(secret.slice(6)));
  });
});

describe("--compare-replies", () => {
  it("reports status, content type and body differences, JSON path by path", () => {
    const recorded = {
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"instructions":[{"type":"speak","text":"Hi"}]}',
      body_encoding: "utf8" as const,
    };
    assert.deepEqual(
      compareReplies(recorded, {
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: Buffer.from('{ "instructions": [{"type":"speak","text":"Hi"}] }'),
      }),
      [],
    );
    const changed = compareReplies(recorded, { status: 500, headers: { "content-type": "text/plain" }, body: Buffer.from("boom") });
    assert.deepEqual(
      changed.map((finding) => finding.path),
      ["status", "content-type", "body"],
    );
    assert.match(changed[0]!.message, /status 200 → 500/);
    const text = compareReplies(recorded, {
      status: 200,
      headers: { "content-type": "application/json" },
      body: Buffer.from('{"instructions":[{"type":"speak","text":"Hello"}]}'),
    });
    assert.deepEqual(
      text.map((finding) => finding.message),
      ['reply differs from the recording: instructions[0].text: "Hi" → "Hello"'],
    );
  });
});
