/** The retell platform: grammar freshness, call_inbound and function replies, the driver, signatures in retell-sdk. */
import assert from "node:assert/strict";
import type { RequestListener } from "node:http";
import { after, before, describe, it } from "node:test";
import { sign as retellSign, verify as retellVerify } from "retell-sdk";
import { createDispatcher } from "../../src/transport/undici.js";
import { grammar } from "../../src/platforms/retell/grammar.js";
import { loadPlatform } from "../../src/platforms/registry.js";
import { runProbe } from "../../src/engine/probe.js";
import { getScheme } from "../../src/signing/index.js";
import { json, startListener, type TestServer } from "../helpers.js";
import {
  answerOrPass,
  type CannedReply,
  failureLines,
  fixtureFlow,
  grammarNowAndCommitted,
  inlineFlow,
  loadRepoModule,
  simulateAgainst,
  startRecording,
} from "../platform-helpers.js";

interface RetellHandlerModule {
  createRetellHandler(options: { apiKeys: string[]; log?: (line: string) => void }): RequestListener;
  WEBHOOK_PATH: string;
}

const apiKey = "key_0123456789abcdef0123456789ab";
const load = loadRepoModule;
const parse = (body: Buffer) => JSON.parse(body.toString("utf8")) as Record<string, any>;

/** Lets `answer` reply to a Retell request, or passes it to the real handler when it returns undefined. */
const answering = (answer: (request: Record<string, any>) => CannedReply | undefined, fallback: RequestListener): RequestListener =>
  answerOrPass(fallback, (body) => answer(parse(body)));

describe("retell platform", () => {
  let handlers: RetellHandlerModule;
  let server: TestServer & { bodies: Buffer[] };

  before(async () => {
    handlers = await load<RetellHandlerModule>("examples/retell-handler.js");
    server = await startRecording(handlers.createRetellHandler({ apiKeys: [apiKey] }), handlers.WEBHOOK_PATH);
  });
  after(() => server.close());

  it("grammar.json is what scripts/extract-retell-grammar.mjs extracts from the installed retell-sdk", async () => {
    const [now, committed] = await grammarNowAndCommitted("retell");
    assert.equal(now, committed, "stale: run node scripts/extract-retell-grammar.mjs");
  });

  it("the bundled script passes against the example handler; every call object fits the SDK's PhoneCallResponse", async () => {
    const flow = await fixtureFlow("retell-order.json");
    server.bodies.length = 0;
    const result = await simulateAgainst(server, [flow], { scheme: "retell", secret: apiKey });
    assert.deepEqual(failureLines(result), []);
    const bodies = server.bodies.map(parse);
    assert.deepEqual(
      bodies.map((body) => body["event"] ?? `function ${body["name"]}`),
      ["call_inbound", "call_started", "function lookup_order", "call_ended", "call_analyzed"],
    );
    for (const body of bodies.filter((item) => item["call"])) {
      for (const [field, spec] of Object.entries(grammar.phoneCall)) {
        if (spec.required) assert.ok(body["call"][field] !== undefined, `call.${field} is required by the SDK`);
        if (spec.values && body["call"][field] !== undefined) assert.ok(spec.values.includes(body["call"][field]), `call.${field}=${body["call"][field]}`);
      }
    }
    // The inbound overrides apply to the call, and the end says how it ended.
    assert.equal(bodies[1]!["call"].agent_id, "agent_5a0f4b1c9d2e3f40a1b2c3d4");
    assert.deepEqual(bodies[1]!["call"].retell_llm_dynamic_variables, { caller_number: "+15550100001" });
    assert.match(bodies[2]!["call"].transcript, /User: Hi, where is my order 4417\?/);
    assert.equal(bodies[3]!["call"].disconnection_reason, "user_hangup");
    assert.equal(bodies[3]!["call"].call_analysis, undefined);
    assert.equal(bodies[4]!["call"].call_analysis.user_sentiment, "Neutral");
  });

  it("names an unknown field in a call_inbound reply, and the call goes on with the number's agent", async () => {
    const bad = await startListener(
      answering(
        (request) =>
          request["event"] === "call_inbound"
            ? { status: 200, body: { call_inbound: { override_agent: "agent_x", dynamic_variables: { visits: 3 } }, extra: true } }
            : undefined,
        handlers.createRetellHandler({ apiKeys: [apiKey] }),
      ),
      handlers.WEBHOOK_PATH,
    );
    try {
      const flow = await inlineFlow({ version: 1, platform: "retell", name: "bad inbound", script: [{}, { hangup: true }] });
      const result = await simulateAgainst(bad, [flow], { scheme: "retell", secret: apiKey });
      assert.deepEqual(failureLines(result), [
        "call_inbound extra: unknown field: the reply has one field, call_inbound (Retell ignores the rest)",
        `call_inbound call_inbound.override_agent: unknown field (expected agent_override, metadata, override_agent_id, override_agent_version, dynamic_variables; retell-sdk ${grammar.sdk.version})`,
        "call_inbound call_inbound.dynamic_variables.visits: expected a string (Retell's dynamic variables are strings), got 3",
      ]);
      assert.deepEqual(
        result.flows[0]!.events.map((event) => event.eventType),
        ["call_inbound", "call_started", "call_ended", "call_analyzed"],
      );
    } finally {
      await bad.close();
    }
  });

  it("retries a failing call_inbound 3 times (the retell profile), then carries on", async () => {
    let attempts = 0;
    const failing = await startListener(
      answering(
        (request) => (request["event"] === "call_inbound" ? (attempts++, { status: 503, body: {} }) : undefined),
        handlers.createRetellHandler({ apiKeys: [apiKey] }),
      ),
      handlers.WEBHOOK_PATH,
    );
    try {
      const flow = await inlineFlow({ version: 1, platform: "retell", name: "retried", script: [{}, { hangup: true }] });
      const result = await simulateAgainst(failing, [flow], {
        scheme: "retell",
        secret: apiKey,
        options: { policy: { timeoutMs: 10_000, retries: 3, backoffMs: 0, timeScale: 0 } },
      });
      assert.equal(attempts, 4);
      assert.equal(result.flows[0]!.events[0]!.attempts, 4);
      assert.equal(result.flows[0]!.turns!.at(-1)!.ended, "caller_hangup");
    } finally {
      await failing.close();
    }
  });

  it("a custom function's reply is its result, cut at 15 000 characters as Retell does", async () => {
    const long = `{"note":"${"x".repeat(20_000)}"}`;
    const big = await startListener(
      answering((request) => (request["name"] === "dump" ? { status: 200, body: long } : undefined), handlers.createRetellHandler({ apiKeys: [apiKey] })),
      handlers.WEBHOOK_PATH,
    );
    try {
      const flow = await inlineFlow({
        version: 1,
        platform: "retell",
        name: "long",
        script: [{}, { tool: { name: "dump", arguments: {} }, expect: { result: { matches: '^\\{"note":"x+$' } } }],
      });
      const result = await simulateAgainst(big, [flow], { scheme: "retell", secret: apiKey });
      assert.deepEqual(failureLines(result), []);
      const event = result.flows[0]!.events.find((item) => item.eventType === "custom_function")!;
      assert.match(event.warnings[0]!.message, /^20011 characters: Retell cuts a function result at 15000/);
    } finally {
      await big.close();
    }
  });

  it("what vwh signs, retell-sdk verifies; what retell-sdk signs, vwh verifies", async () => {
    const body = Buffer.from('{"event":"call_started","call":{"call_id":"c1"}}');
    const signer = getScheme("retell").create([{ value: apiKey, source: "(test)" }], { purpose: "sign" });
    const now = Math.floor(Date.now() / 1000);
    const { headers } = signer.sign({ id: "e1", timestamp: now, body, method: "POST", url: "https://example.com/retell", contentType: "application/json" });
    assert.equal(await retellVerify(body.toString("utf8"), apiKey, headers["x-retell-signature"]!), true);
    const theirs = await retellSign(body.toString("utf8"), apiKey);
    assert.deepEqual(signer.verify({ headers: { "x-retell-signature": theirs }, body, method: "POST", url: "" }, { now, toleranceSeconds: 300 }), {
      valid: true,
    });
  });

  it("verify-signature --url catches Retell.verify(JSON.stringify(req.body)) and a verify that is not awaited", async () => {
    const scheme = getScheme("retell");
    const probe = async (listener: RequestListener) => {
      const target = await startListener(listener, handlers.WEBHOOK_PATH);
      const dispatcher = createDispatcher(2);
      try {
        const report = await runProbe({
          platform: await loadPlatform("retell"),
          target: new URL(target.url),
          scheme,
          settings: { purpose: "sign" },
          signer: scheme.create([{ value: apiKey, source: "(test)" }], { purpose: "sign" }),
          toleranceSeconds: 300,
          timeoutMs: 2000,
          dispatcher,
        });
        return Object.fromEntries(report.cases.map((entry) => [entry.name, entry.outcome]));
      } finally {
        await dispatcher.close();
        await target.close();
      }
    };
    const withBody =
      (check: (parsed: unknown, signature: string) => Promise<boolean> | boolean): RequestListener =>
      (request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          void Promise.resolve(check(JSON.parse(Buffer.concat(chunks).toString("utf8")), String(request.headers["x-retell-signature"] ?? ""))).then((ok) =>
            json(response, ok ? 200 : 401, {}),
          );
        });
      };
    // As in RetellAI/retell-custom-llm-node-demo, but awaited: the bytes are wrong.
    const reserialised = await probe(withBody((parsed, signature) => retellVerify(JSON.stringify(parsed), apiKey, signature)));
    assert.equal(reserialised["valid signature, JSON re-indented"], "wrongly-refused");
    assert.equal(reserialised["compact JSON's signature, body re-indented"], "wrongly-accepted");
    // As in the demo exactly: retell-sdk 5 returns a Promise, which is always truthy.
    const notAwaited = await probe(withBody((parsed, signature) => Boolean(retellVerify(JSON.stringify(parsed), apiKey, signature))));
    assert.equal(notAwaited["wrong secret"], "wrongly-accepted");
    const good = await probe(handlers.createRetellHandler({ apiKeys: [apiKey] }));
    assert.ok(
      Object.values(good).every((outcome) => outcome === "as-expected" || outcome === "skipped"),
      JSON.stringify(good),
    );
  });

  it("silence past end_call_after_silence_ms ends the call as inactivity", async () => {
    server.bodies.length = 0;
    const flow = await inlineFlow({
      version: 1,
      platform: "retell",
      name: "silent",
      settings: { retell_end_call_after_silence_ms: 30000 },
      script: [{}, { silence_ms: 30000, expect: { ends: "timeout" } }],
    });
    const result = await simulateAgainst(server, [flow], { scheme: "retell", secret: apiKey });
    assert.deepEqual(failureLines(result), []);
    assert.equal(parse(server.bodies.at(-2)!)["call"].disconnection_reason, "inactivity");
  });
});
