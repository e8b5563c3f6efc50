/** The vapi platform: grammar freshness, reply checks, the caller-script driver, auth, and the example handler. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createDispatcher } from "../../src/transport/undici.js";
import { grammar, messageSpec } from "../../src/platforms/vapi/grammar.js";
import { loadPlatform } from "../../src/platforms/registry.js";
import { parseVapiReply } from "../../src/platforms/vapi/reply.js";
import { runProbe } from "../../src/engine/probe.js";
import { getScheme } from "../../src/signing/index.js";
import { defaultHmacSettings } from "../../src/signing/hmac.js";
import { fixture, json, repoRoot, runInProcess, startListener, type TestServer } from "../helpers.js";
import { answerOrPass, failureLines, grammarNowAndCommitted, inlineFlow, loadRepoModule, simulateAgainst, startRecording } from "../platform-helpers.js";

interface VapiHandlerModule {
  createVapiHandler(options: { secrets: string[]; auth?: "secret" | "bearer" | "hmac"; log?: (line: string) => void }): RequestListener;
  WEBHOOK_PATH: string;
}

const secret = "vapi-test-secret-0123456789";
const load = loadRepoModule;
const fileJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

/** Lets `answer` reply to a Vapi message (200 with its JSON), or passes it to the real handler when it returns undefined. */
function intercept(inner: RequestListener, answer: (message: Record<string, unknown>) => unknown): RequestListener {
  return answerOrPass(inner, (body) => {
    const reply = answer((JSON.parse(body.toString("utf8")) as { message: Record<string, unknown> }).message);
    return reply === undefined ? undefined : { status: 200, body: reply };
  });
}

describe("vapi platform", () => {
  let handlers: VapiHandlerModule;
  let server: TestServer & { bodies: Buffer[] };

  before(async () => {
    handlers = await load<VapiHandlerModule>("examples/vapi-handler.js");
    server = await startRecording(handlers.createVapiHandler({ secrets: [secret] }), handlers.WEBHOOK_PATH);
  });
  after(() => server.close());

  it("grammar.json is what scripts/extract-vapi-grammar.mjs extracts from the installed SDK", async () => {
    const [now, committed] = await grammarNowAndCommitted("vapi");
    assert.equal(now, committed, "stale: run node scripts/extract-vapi-grammar.mjs");
    const installed = (fileJson(join(repoRoot, "node_modules", "@vapi-ai", "server-sdk", "package.json")) as { version: string }).version;
    assert.equal(grammar.sdk.version, installed);
  });

  it("the bundled scripts pass against the example handler in every tool-call shape, and every message fits the SDK's types", async () => {
    const bundled = await Promise.all(
      ["vapi-booking.json", "vapi-assistant-transfer.json"].map((name) => inlineFlow(fileJson(fixture(join("scripts", name))), name)),
    );
    // The other shapes on a short call: connect, one tool call, hang up.
    const short = await inlineFlow({
      version: 1,
      platform: "vapi",
      name: "short",
      script: [{}, { tool: { name: "check_availability", arguments: { day: "tuesday", period: "afternoon" } }, expect: { result: { contains: "15:30" } } }],
    });
    for (const shape of ["sdk", "sdk-object", "custom-tools", "events"]) {
      const flows = shape === "sdk" ? bundled : [short];
      server.bodies.length = 0;
      const result = await simulateAgainst(server, flows, { scheme: "vapi", secret, options: { platformSettings: { vapiToolShape: shape } } });
      assert.deepEqual(failureLines(result), [], shape);
      assert.ok(result.flows.every((flow) => flow.passed));
      const messages = server.bodies.map((body) => (JSON.parse(body.toString("utf8")) as { message: Record<string, unknown> }).message);
      const toolCall = messages.find((message) => message["type"] === "tool-calls")!;
      const item = (toolCall["toolCallList"] as Record<string, unknown>[])[0]!;
      if (shape === "sdk") assert.equal(typeof (item["function"] as { arguments: unknown }).arguments, "string");
      if (shape === "events") assert.deepEqual(item["parameters"], { day: "tuesday", period: "afternoon" });
      for (const message of messages) {
        const spec = messageSpec(String(message["type"]));
        assert.ok(spec, `unknown type ${String(message["type"])}`);
        for (const [field, fieldSpec] of Object.entries(spec.fields)) {
          if (fieldSpec.required) assert.ok(message[field] !== undefined, `${String(message["type"])}.${field} is required by the SDK`);
          if (fieldSpec.values && message[field] !== undefined)
            assert.ok(fieldSpec.values.includes(String(message[field])), `${String(message["type"])}.${field}=${String(message[field])}`);
        }
      }
      const report = messages.at(-1)!;
      assert.equal(report["type"], "end-of-call-report");
    }
  });

  it("the end-of-call-report carries the transcript and the endedReason of how the call ended", async () => {
    const script = (steps: unknown[]) => inlineFlow({ version: 1, platform: "vapi", name: "ending", script: steps });
    const cases: [unknown[], string, string][] = [
      [
        [{}, { say: "I need to move my cleaning" }, { hangup: true, expect: { ends: "caller_hangup" } }],
        "customer-ended-call",
        "User: I need to move my cleaning",
      ],
      [[{}, { silence_ms: 31000, expect: { ends: "timeout" } }], "silence-timed-out", "AI: Hello!"],
      [[{}, { tool: { name: "endCall", arguments: {} }, expect: { ends: "handler_hangup" } }], "assistant-ended-call", "AI: Hello!"],
    ];
    for (const [steps, endedReason, transcript] of cases) {
      server.bodies.length = 0;
      const result = await simulateAgainst(server, [await script(steps)], { scheme: "vapi", secret });
      assert.deepEqual(failureLines(result), []);
      const report = (JSON.parse(server.bodies.at(-1)!.toString("utf8")) as { message: Record<string, any> }).message;
      assert.equal(report["type"], "end-of-call-report");
      assert.equal(report["endedReason"], endedReason);
      assert.equal(report["call"].endedReason, endedReason);
      assert.match(report["artifact"].transcript, new RegExp(transcript));
    }
  });

  it("a tool result without name, as Vapi's docs and example server send it, passes without a warning (issue 24)", () => {
    const request = Buffer.from(
      JSON.stringify({ message: { type: "tool-calls", toolCallList: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: {} } }] } }),
    );
    const parsed = parseVapiReply(
      {
        status: 200,
        headers: { "content-type": "application/json" },
        body: Buffer.from(JSON.stringify({ results: [{ toolCallId: "call_1", result: "ok" }] })),
      },
      {
        eventType: "tool-calls",
        waits: true,
        expectsActions: false,
        request: { method: "POST", url: new URL("http://127.0.0.1/"), body: request, contentType: "application/json", headers: {} },
      },
    );
    assert.deepEqual([...parsed.failures, ...parsed.warnings], []);
  });

  it("result expectations match partially like actions ({ equals } for exact), name the full differing path, and show a tool's error", async () => {
    const reservation = { reservation: { status: "pending", time: "15:30", id: "r_1" }, note: "x".repeat(200) };
    let answer: Record<string, unknown> = { result: JSON.stringify(reservation) };
    const tool = await startListener(
      intercept(handlers.createVapiHandler({ secrets: [secret] }), (message) => {
        if (message["type"] !== "tool-calls") return undefined;
        return { results: [{ toolCallId: (message["toolCallList"] as { id: string }[])[0]!.id, name: "check_availability", ...answer }] };
      }),
      handlers.WEBHOOK_PATH,
    );
    const run = async (result: unknown) => {
      const flow = await inlineFlow({
        version: 1,
        platform: "vapi",
        name: "tool",
        script: [{}, { tool: { name: "check_availability", arguments: { day: "monday" } }, expect: { result } }],
      });
      return failureLines(await simulateAgainst(tool, [flow], { scheme: "vapi", secret })).filter((line) => line.includes("result"));
    };
    try {
      assert.deepEqual(await run({ reservation: { time: "15:30" } }), [], "the fields named match; the rest are free");
      assert.deepEqual(await run({ reservation: { time: { matches: "^15:" }, id: "r_1" } }), []);
      const [differs] = await run({ reservation: { status: "confirmed" } });
      assert.match(differs ?? "", /result\.reservation\.status: expected "confirmed", got "pending"$/);
      const [exact] = await run({ equals: { reservation: { time: "15:30" } } });
      assert.match(exact ?? "", /result: expected exactly \{"reservation":\{"time":"15:30"\}\}, got /);
      answer = { error: "calendar unavailable" };
      const [error] = await run({ reservation: { status: "confirmed" } });
      assert.match(error ?? "", /result: expected a tool result, got the tool's error "calendar unavailable"/);
    } finally {
      await tool.close();
    }
  });

  it("names a tool result with the wrong toolCallId, a missing one and an extra one", async () => {
    const flow = await inlineFlow({
      version: 1,
      platform: "vapi",
      name: "tool",
      script: [{}, { tool: { name: "check_availability", arguments: { day: "monday" } } }],
    });
    const replies: ((id: string) => unknown)[] = [
      () => ({ results: [{ toolCallId: "call_wrong", name: "check_availability", result: "ok" }] }),
      () => ({ results: [] }),
      (id) => ({
        results: [
          { toolCallId: id, name: "check_availability", result: "ok" },
          { toolCallId: "call_extra", name: "check_availability", result: "ok" },
        ],
      }),
    ];
    const expected = [
      /tool-calls results\[0\]\.toolCallId: expected "call_[^"]+" \(the id Vapi sent for check_availability\), got "call_wrong"/,
      /tool-calls results: no result for toolCallId "call_[^"]+" \(check_availability\)/,
      /tool-calls results\[1\]\.toolCallId: "call_extra" was never sent \(sent: "call_[^"]+"\)/,
    ];
    for (const [index, reply] of replies.entries()) {
      const bad = await startListener(
        intercept(handlers.createVapiHandler({ secrets: [secret] }), (message) => {
          if (message["type"] !== "tool-calls") return undefined;
          return reply((message["toolCallList"] as { id: string }[])[0]!.id);
        }),
        handlers.WEBHOOK_PATH,
      );
      try {
        const result = await simulateAgainst(bad, [flow], { scheme: "vapi", secret });
        assert.equal(result.flows[0]!.passed, false);
        assert.ok(
          failureLines(result).some((line) => expected[index]!.test(line)),
          failureLines(result).join("\n"),
        );
      } finally {
        await bad.close();
      }
    }
  });

  it("fails an assistant-request answered after Vapi's fixed 7.5 s (platform time), and the call fails as Vapi's would", async () => {
    let clock = 1_700_000_000_000;
    const slow = await startRecording(
      intercept(handlers.createVapiHandler({ secrets: [secret] }), (message) => {
        if (message["type"] !== "assistant-request") return undefined;
        clock += 7600; // the handler took 7.6 s of the run's clock
        return { assistantId: "asst_late" };
      }),
      handlers.WEBHOOK_PATH,
    );
    try {
      const flow = await inlineFlow({
        version: 1,
        platform: "vapi",
        name: "late",
        settings: { vapi_assistant_request: true },
        script: [{}, { say: "hello?" }],
      });
      const result = await simulateAgainst(slow, [flow], { scheme: "vapi", secret, options: { now: () => clock, wait: async () => {} } });
      const lines = failureLines(result);
      assert.ok(
        lines.includes("assistant-request : latency 7600 ms over the platform's fixed 7500 ms for assistant-request: it gave up on the reply"),
        lines.join("\n"),
      );
      const report = JSON.parse(slow.bodies.at(-1)!.toString("utf8")) as { message: { type: string; endedReason: string } };
      assert.deepEqual([report.message.type, report.message.endedReason], ["end-of-call-report", "assistant-request-failed"]);
      // Just under the deadline passes.
      const onTime = await startListener(
        intercept(handlers.createVapiHandler({ secrets: [secret] }), (message) => {
          if (message["type"] !== "assistant-request") return undefined;
          clock += 7400;
          return { assistantId: "asst_on_time" };
        }),
        handlers.WEBHOOK_PATH,
      );
      try {
        const passed = await simulateAgainst(onTime, [flow], { scheme: "vapi", secret, options: { now: () => clock, wait: async () => {} } });
        assert.deepEqual(failureLines(passed), []);
      } finally {
        await onTime.close();
      }
    } finally {
      await slow.close();
    }
  });

  it("checks assistant-request and transfer-destination-request replies field by field", async () => {
    const request = { method: "POST" as const, url: new URL("http://h/"), body: Buffer.from("{}"), contentType: "application/json", headers: {} };
    const parse = (eventType: string, body: unknown) =>
      parseVapiReply(
        { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) },
        { eventType, waits: true, expectsActions: false, request },
      );
    const messages = (eventType: string, body: unknown) => parse(eventType, body).failures.map((finding) => `${finding.path}: ${finding.message}`);
    assert.deepEqual(messages("assistant-request", { assistantId: "a", assistantOverrides: { variableValues: {} } }), []);
    assert.deepEqual(messages("assistant-request", { assistantId: "a", squadId: "s" }), [
      "squadId: expected exactly one of assistantId, assistant, assistantOverrides, squadId, squad, workflowId, workflow, destination, error, got assistantId and squadId",
    ]);
    assert.match(messages("assistant-request", {})[0]!, /got none: the call fails \(assistant-request-returned-no-assistant\)/);
    assert.deepEqual(messages("assistant-request", { destination: { type: "number", number: "555-0100" } }), [
      'destination.number: expected an E.164 number like +15550100999 (Vapi checks it unless numberE164CheckEnabled is false), got "555-0100"',
    ]);
    assert.deepEqual(messages("transfer-destination-request", { destination: { type: "fax", number: "+15550100999" } }), [
      'destination.type: expected "assistant", "number", "sip", got "fax"',
    ]);
    assert.deepEqual(messages("transfer-destination-request", {}), [
      "destination: required: a destination {type: number | sip | assistant, …} (or error): without one the transfer fails",
    ]);
    assert.deepEqual(parse("transfer-destination-request", { destination: { type: "sip", sipUri: "sip:desk@example.com" } }).actions, [
      { type: "transfer", path: "destination", to: "sip:desk@example.com", kind: "sip" },
    ]);
    assert.deepEqual(
      parse("assistant-request", { assistantId: "a", colour: "red" }).warnings.map((finding) => finding.path),
      ["colour"],
    );
    assert.deepEqual(parse("assistant-request", { assistant: { name: "Ava", firstMessage: "Hi, Ava here." } }).actions, [
      { type: "assistant", path: "assistant", name: "Ava", text: "Hi, Ava here." },
    ]);
    assert.deepEqual(parse("assistant-request", { error: "Sorry, we are closed." }).actions, [
      { type: "reject", path: "error", text: "Sorry, we are closed.", reason: "Sorry, we are closed." },
    ]);
    // Informational messages: any 2xx, the body is not read.
    assert.deepEqual(
      parseVapiReply({ status: 204, headers: {}, body: Buffer.alloc(0) }, { eventType: "status-update", waits: false, expectsActions: false, request })
        .failures,
      [],
    );
  });

  it("verify-signature --url: a verifier that hashes JSON.stringify(req.body) and a handler without dedup are caught", async () => {
    const hmac = getScheme("hmac");
    const settings = { purpose: "sign" as const, hmac: defaultHmacSettings };
    const probe = async (listener: RequestListener) => {
      const target = await startListener(listener, handlers.WEBHOOK_PATH);
      const dispatcher = createDispatcher(2);
      try {
        const report = await runProbe({
          platform: await loadPlatform("vapi"),
          target: new URL(target.url),
          scheme: hmac,
          settings,
          signer: hmac.create([{ value: secret, source: "(test)" }], settings),
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
    const good = await probe(handlers.createVapiHandler({ secrets: [secret], auth: "hmac" }));
    assert.ok(
      Object.values(good).every((outcome) => outcome === "as-expected" || outcome === "skipped"),
      JSON.stringify(good),
    );
    assert.equal(good["valid signature, JSON re-indented"], "as-expected");

    // The commonest bug in Vapi's and Retell's own samples: verify JSON.stringify(req.body), not the raw bytes.
    const { createHmac } = await import("node:crypto");
    const reserialising: RequestListener = (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const timestamp = String(request.headers["x-timestamp"]);
        const expected = createHmac("sha256", secret)
          .update(`${timestamp}.${JSON.stringify(parsed)}`)
          .digest("hex");
        json(response, expected === request.headers["x-signature"] ? 200 : 401, {});
      });
    };
    const caught = await probe(reserialising);
    assert.equal(caught["valid signature, JSON re-indented"], "wrongly-refused");
    assert.equal(caught["compact JSON's signature, body re-indented"], "wrongly-accepted");

    let processed = 0;
    const noDedup: RequestListener = (request, response) => {
      request.resume();
      request.on("end", () => json(response, 200, { processed: ++processed }));
    };
    assert.equal((await probe(noDedup))["same id replayed inside the tolerance"], "wrongly-accepted");
  });

  it("X-Vapi-Secret and bearer tokens: what vwh sends, the example handler accepts; a wrong one it refuses", async () => {
    const { authenticate } = await load<{ authenticate(auth: string, secrets: string[], headers: Record<string, string>, body: Buffer): string | undefined }>(
      "examples/vapi-handler.js",
    );
    for (const [scheme, auth] of [
      ["vapi", "secret"],
      ["bearer", "bearer"],
      ["hmac", "hmac"],
    ] as const) {
      const settings = { purpose: "sign" as const, hmac: defaultHmacSettings };
      const signer = getScheme(scheme).create([{ value: secret, source: "(test)" }], settings);
      const body = Buffer.from('{"message":{"type":"hang"}}');
      const { headers } = signer.sign({
        id: "m1",
        timestamp: Math.floor(Date.now() / 1000),
        body,
        method: "POST",
        url: "https://example.com/vapi",
        contentType: "application/json",
      });
      assert.equal(authenticate(auth, [secret], headers, body), undefined, scheme);
      assert.deepEqual(
        signer.verify({ headers, body, method: "POST", url: "https://example.com/vapi" }, { now: Math.floor(Date.now() / 1000), toleranceSeconds: 300 }),
        { valid: true },
      );
      const wrong = getScheme(scheme)
        .create([{ value: "another-secret", source: "(test)" }], settings)
        .sign({ id: "m1", timestamp: Math.floor(Date.now() / 1000), body, method: "POST", url: "https://example.com/vapi", contentType: "application/json" });
      assert.notEqual(authenticate(auth, [secret], wrong.headers, body), undefined, scheme);
    }
  });

  it("vwh simulate --platform vapi --vapi-tool-shape reports the shape and sends it (through the real parser, in process)", async () => {
    server.bodies.length = 0;
    const result = await runInProcess(
      ["simulate", fixture("scripts/vapi-booking.json"), "--platform", "vapi", "--url", server.url, "--vapi-tool-shape", "custom-tools", "--json"],
      { env: { VWH_SECRET: secret } },
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout) as { notes: string[]; scheme: string; profile: string };
    assert.deepEqual([report.scheme, report.profile], ["vapi", "vapi"]);
    assert.match(report.notes[0]!, /^vapi tool calls: custom-tools/);
    const toolCall = server.bodies
      .map((body) => JSON.parse(body.toString("utf8")) as { message: { type: string; toolCallList?: Record<string, unknown>[] } })
      .find((body) => body.message.type === "tool-calls")!;
    assert.deepEqual(Object.keys(toolCall.message.toolCallList![0]!), ["id", "name", "arguments"]);
  });

  it("scripted flows (events): payload enums from the SDK are checked when the file is read, and replies as in scripts", async () => {
    await assert.rejects(
      inlineFlow({ version: 1, platform: "vapi", name: "bad", events: [{ event_type: "status-update", payload: { status: "answered" } }] }),
      /events\[0\]\.payload\.status/,
    );
    await assert.rejects(inlineFlow({ version: 1, platform: "vapi", name: "bad", events: [{ event_type: "call.started" }] }), /expected a Vapi message type/);
    await assert.rejects(
      inlineFlow({ version: 1, platform: "vapi", name: "bad", settings: { vapi_tool_shape: "xml" }, script: [{}] }),
      /settings\.vapi_tool_shape/,
    );
    const flow = await inlineFlow({
      version: 1,
      platform: "vapi",
      name: "events",
      events: [
        { event_type: "status-update", payload: { status: "in-progress" } },
        {
          event_type: "tool-calls",
          payload: { toolCallList: [{ id: "call_A", type: "function", function: { name: "check_availability", arguments: "{}" } }], toolWithToolCallList: [] },
          expect: { actions: [{ type: "tool_result", toolCallId: "call_A" }] },
        },
        { event_type: "end-of-call-report", payload: { endedReason: "customer-ended-call", analysis: {} } },
      ],
    });
    const result = await simulateAgainst(server, [flow], { scheme: "vapi", secret });
    assert.deepEqual(failureLines(result), []);
  });
});
