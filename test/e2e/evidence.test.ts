/**
 * Every failed exchange shows what vwh sent and what came back (issue 25, item 3): in text under the failure,
 * in --json always, and for passing events too with --verbose. Run in process through the real parser.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { signatureHint } from "../../src/engine/auth-hint.js";
import { flowWith, newSecret, runInProcess, startServer, withFlowFile, type TestServer } from "../helpers.js";

const secret = newSecret();
const env = { VWH_SECRET: secret };
const crash = "TypeError: Cannot read properties of undefined (reading 'call_id')";

interface JsonEvent {
  passed: boolean;
  exchange: null | {
    request: { method: string; url: string; signed_url: string; content_type: string | null; body: string; form?: Record<string, string> };
    reply: null | { status: number; content_type: string | null; bytes: number; body: string };
  };
}

describe("evidence: the request sent and the reply received", () => {
  let server: TestServer;
  before(async () => {
    // call.started crashes the handler; every other event is answered with a JSON reply.
    server = await startServer((request, response) => {
      if (request.body.toString("utf8").includes('"call.started"'))
        return void response.writeHead(500, { "content-type": "text/plain" }).end(`${crash}\n    at handler (/app/voice.js:12:7)`);
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ instructions: [{ type: "hangup" }] }));
    });
  });
  after(() => server.close());

  const flow = flowWith([{ event_type: "call.started", payload: { from: "+15550100001" } }, { event_type: "call.ended" }]);

  it("text: under a failure, the request (method, URL, body) and the handler's reply (status, type, body)", async () => {
    await withFlowFile(flow, async (file) => {
      const result = await runInProcess(["simulate", file, "--url", server.url], { env });
      assert.equal(result.code, 1);
      const failed = result.stdout.slice(result.stdout.indexOf("✗"), result.stdout.indexOf("✓"));
      assert.match(failed, /expected status 2xx, got 500|500/);
      assert.match(failed, new RegExp(`sent {3}POST ${server.url.replace(/[.?]/g, "\\$&")} {2}application/json`));
      assert.match(failed, /"event_type": "call\.started"/, "the JSON body, pretty-printed");
      assert.match(failed, /reply {2}500 text\/plain \(\d+ bytes\)/);
      assert.ok(failed.includes(crash), failed);
      assert.ok(!result.stdout.includes(secret));
      const passedLine = result.stdout.slice(result.stdout.indexOf("✓"));
      assert.doesNotMatch(
        passedLine.split("\n")[0]! + (passedLine.split("\n")[1] ?? ""),
        /sent {3}POST/,
        "a passing event shows no exchange without --verbose",
      );
      // JUnit's failure text carries the same evidence, for CI pages.
      const junit = join(dirname(file), "junit.xml");
      await runInProcess(["simulate", file, "--url", server.url, "--junit", junit], { env });
      const xml = await readFile(junit, "utf8");
      assert.match(
        xml,
        /<failure [^>]*>[^<]*reply {2}500 text\/plain[^<]*TypeError: Cannot read properties of undefined \(reading &#39;call_id&#39;\)|<failure [^>]*>[^<]*reply {2}500 text\/plain[^<]*TypeError: Cannot read properties of undefined \(reading 'call_id'\)/,
      );
    });
  });

  it("--json: the exchange of every failed event; --verbose adds the passing ones", async () => {
    await withFlowFile(flow, async (file) => {
      const plain = JSON.parse((await runInProcess(["simulate", file, "--url", server.url, "--json"], { env })).stdout) as { flows: { events: JsonEvent[] }[] };
      const [failed, passed] = plain.flows[0]!.events;
      assert.equal(failed!.passed, false);
      assert.equal(failed!.exchange?.request.method, "POST");
      assert.equal(failed!.exchange?.request.url, server.url);
      assert.equal(failed!.exchange?.request.signed_url, server.url);
      assert.equal(failed!.exchange?.request.content_type, "application/json");
      assert.match(failed!.exchange!.request.body, /"from": "\+15550100001"/);
      assert.equal(failed!.exchange?.reply?.status, 500);
      assert.equal(failed!.exchange?.reply?.content_type, "text/plain");
      assert.ok(failed!.exchange?.reply?.body.startsWith(crash));
      assert.equal(passed!.exchange, null);

      const verbose = JSON.parse((await runInProcess(["simulate", file, "--url", server.url, "--json", "--verbose"], { env })).stdout) as {
        flows: { events: JsonEvent[] }[];
      };
      const reply = verbose.flows[0]!.events[1]!.exchange?.reply;
      assert.equal(reply?.status, 200);
      assert.equal(reply?.body, JSON.stringify({ instructions: [{ type: "hangup" }] }, null, 2), "JSON replies pretty-printed");
    });
  });

  it("the first 2 KiB of a long reply, with its full size; form parameters one a line; the URL signed over", async () => {
    const long = await startServer((_request, response) => void response.writeHead(503, { "content-type": "text/html" }).end(`<p>${"x".repeat(10_000)}</p>`));
    try {
      await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const result = await runInProcess(["simulate", file, "--url", long.url, "--public-url", "https://voice.example.test/hook", "--json"], { env });
        const event = (JSON.parse(result.stdout) as { flows: { events: JsonEvent[] }[] }).flows[0]!.events[0]!;
        assert.equal(event.exchange?.request.signed_url, "https://voice.example.test/hook");
        assert.equal(event.exchange?.request.url, long.url);
        assert.equal(event.exchange?.reply?.bytes, 10_007);
        assert.ok(event.exchange!.reply!.body.length < 2200, `${event.exchange!.reply!.body.length} characters shown`);
        assert.match(event.exchange!.reply!.body, /… \(10007 bytes in all\)$/);
        const text = await runInProcess(["simulate", file, "--url", long.url, "--public-url", "https://voice.example.test/hook"], { env });
        assert.match(text.stdout, /sent {3}POST \S+ \(signed over https:\/\/voice\.example\.test\/hook\)/);
      });
    } finally {
      await long.close();
    }
  });
});

describe("hints for refused signatures: once per run, computed from what vwh knows", () => {
  it("a scheme that does not sign the URL: every webhook refused means the secret, said once", async () => {
    const verifying = await startServer((request, response) => {
      try {
        new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
        response.writeHead(204).end();
      } catch {
        response.writeHead(401, { "content-type": "application/json" }).end('{"error":"bad signature"}');
      }
    });
    try {
      await withFlowFile(flowWith([{ event_type: "call.started" }, { event_type: "call.ended" }, { event_type: "call.ended" }]), async (file) => {
        const text = await runInProcess(["simulate", file, "--url", verifying.url], { env: { VWH_SECRET: newSecret() } });
        assert.equal(text.code, 1);
        assert.equal(text.stdout.match(/hint:/g)?.length, 1, text.stdout);
        assert.match(
          text.stdout,
          /hint: 3 of 3 webhooks refused with 401: wrong secret — standard signatures do not cover the URL, so only the secret can differ: the handler's is not the one in VWH_SECRET/,
        );
        const json = JSON.parse(
          (await runInProcess(["simulate", file, "--url", verifying.url, "--json", "--secret-env", "AGENT_SECRET"], { env: { AGENT_SECRET: newSecret() } }))
            .stdout,
        ) as { hint: string | null };
        assert.match(json.hint ?? "", /the handler's is not the one in \$AGENT_SECRET$/);
        const passing = JSON.parse((await runInProcess(["simulate", file, "--url", verifying.url, "--json"], { env })).stdout) as { hint: string | null };
        assert.equal(passing.hint, null);
      });
    } finally {
      await verifying.close();
    }
  });

  it("some webhooks accepted with the same secret: not the secret; a Telnyx 401 names TELNYX_PUBLIC_KEY", async () => {
    const event = (status: number, signedUrl: string) => ({
      index: 0,
      sequence: 1,
      eventType: "status",
      eventId: "e",
      status,
      latencyMs: 1,
      attempts: 1,
      passed: status < 300,
      failures: [],
      warnings: [],
      instructionTypes: [],
      deadLettered: false,
      step: undefined,
      duplicate: undefined,
      exchange: { request: { method: "POST", url: signedUrl, signedUrl, contentType: undefined, body: "", form: undefined }, reply: undefined },
    });
    const run = (platform: string, events: ReturnType<typeof event>[]) => ({
      flows: [{ file: "f", name: "f", platform, callId: "c", events, turns: undefined, passed: false }],
      unreachable: undefined,
      bailed: false,
      interrupted: false,
      seed: 1,
      durationMs: 1,
    });
    const signing = {
      scheme: () => ({ name: "twilio", signsUrl: true }),
      target: new URL("http://127.0.0.1:3000/voice"),
      publicUrl: undefined,
      secretSource: "VWH_SECRET",
    };
    const mixed = await signatureHint(run("twilio", [event(200, "http://127.0.0.1:3000/voice"), event(403, "http://127.0.0.1:3000/status")]), signing);
    assert.equal(
      mixed,
      "1 of 2 webhooks refused with 403, 1 signed with the same secret accepted: not the secret — the refused ones were signed for http://127.0.0.1:3000/status: the handler validates another URL there",
    );
    const telnyx = await signatureHint(run("telnyx", [event(401, "http://127.0.0.1:3000/voice"), event(401, "http://127.0.0.1:3000/voice")]), signing);
    assert.match(telnyx ?? "", /^2 Telnyx webhooks refused: the handler verifies Ed25519 signatures with TELNYX_PUBLIC_KEY/);
  });
});
