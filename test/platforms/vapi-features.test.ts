/**
 * Vapi features real assistants use (issue 24): message.assistant metadata, the assistant's serverMessages
 * (the SDK's default has no transcript), the legacy function-call message and its {result} reply, a tool
 * result's error shown, and a transient assistant checked against the SDK's CreateAssistantDto. Replies are
 * typed with @vapi-ai/server-sdk's own types.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Vapi } from "@vapi-ai/server-sdk";
import { loadPlatform } from "../../src/platforms/registry.js";
import { grammar } from "../../src/platforms/vapi/grammar.js";
import { parseVapiReply } from "../../src/platforms/vapi/reply.js";
import type { CallerInput, DriverMove } from "../../src/platforms/types.js";
import { startListener } from "../helpers.js";
import { failureLines, inlineFlow, simulateAgainst } from "../platform-helpers.js";

type Message = Record<string, unknown> & { type: string };

/** Drives a Vapi call in process: `answer` replies to a message (undefined: an empty 200). */
async function drive(answer: (message: Message) => unknown, caller: CallerInput[], settings: Record<string, unknown> = {}) {
  const platform = await loadPlatform("vapi");
  const driver = await platform.startCall({
    call: { callId: "call_vapi_features", from: "+15550100001", to: "+15550100002", direction: undefined },
    url: new URL("https://agent.example.test/vapi/server"),
    start: new Date(0),
    newId: (prefix) => `${prefix}_1`,
    settings,
    now: () => 0,
    wait: async () => {},
  });
  const sent: Message[] = [];
  const warnings: string[] = [];
  const failures: string[] = [];
  const steps = [...caller];
  driver.caller({ kind: "connect" }, undefined);
  for (let move: DriverMove = await driver.next(); ; move = await driver.next()) {
    if (move.kind === "send") {
      const message = (JSON.parse(move.webhook.request.body.toString("utf8")) as { message: Message }).message;
      sent.push(message);
      const body = Buffer.from(JSON.stringify(answer(message) ?? {}));
      const reply = { status: 200, headers: { "content-type": "application/json" }, body };
      const parsed = platform.parseReply(reply, {
        eventType: move.webhook.eventType,
        waits: move.webhook.waits,
        expectsActions: false,
        request: move.webhook.request,
      });
      warnings.push(...parsed.warnings.map((finding) => `${message.type} ${finding.path}: ${finding.message}`));
      failures.push(...parsed.failures.map((finding) => `${message.type} ${finding.path}: ${finding.message}`));
      driver.replied(move.webhook, { ok: true, reply, parsed });
    } else if (move.kind === "await-caller") driver.caller(steps.shift() ?? { kind: "hangup" }, undefined);
    else if (move.kind === "ended") return { sent, warnings, failures, ended: move.reason };
  }
}

const types = (sent: Message[]) => [...new Set(sent.map((message) => message.type))].sort();

describe("vapi features (issue 24)", () => {
  it("sends only the messages the assistant subscribes to: the SDK's default serverMessages (no transcript), or the configured ones", async () => {
    assert.ok(!grammar.serverMessages.default.includes("transcript"), "the SDK's documented default has no transcript");
    const byDefault = await drive(() => undefined, [{ kind: "say", text: "hello there", confidence: 0.9 }]);
    assert.deepEqual(types(byDefault.sent), ["conversation-update", "end-of-call-report", "speech-update", "status-update"]);
    const configured = await drive(() => undefined, [{ kind: "say", text: "hello there", confidence: 0.9 }], {
      vapi_server_messages: ["transcript", "end-of-call-report"],
    });
    assert.deepEqual(types(configured.sent), ["end-of-call-report", "transcript"]);
    // A transient assistant's own serverMessages run the rest of the call.
    const transient = await drive(
      (message) =>
        message.type === "assistant-request"
          ? ({
              assistant: { name: "Paula", firstMessage: "Hi, Paula here.", serverMessages: ['transcript[transcriptType="final"]', "status-update"] },
            } satisfies Vapi.ServerMessageResponseAssistantRequest)
          : undefined,
      [{ kind: "say", text: "hello", confidence: 0.9 }],
      { vapi_assistant_request: true },
    );
    assert.deepEqual(types(transient.sent), ["assistant-request", "status-update", "transcript"]);
  });

  it("refuses at load a serverMessages value Vapi does not send, and names the known settings", async () => {
    await assert.rejects(
      inlineFlow({ version: 1, platform: "vapi", name: "bad", settings: { vapi_server_messages: ["transcripts"] }, script: [{}] }),
      /settings\.vapi_server_messages\[0\]: expected one of .*"transcript"/,
    );
    await assert.rejects(
      inlineFlow({ version: 1, platform: "vapi", name: "typo", settings: { vapi_server_message: ["transcript"] }, script: [{}] }),
      /unknown setting for vapi \(known: .*\); did you mean "vapi_server_messages"\?/,
    );
  });

  it("message.assistant: the assistant's metadata rides on the messages whose SDK type has it", async () => {
    const run = await drive(() => undefined, [], { vapi_server_messages: ["status-update", "end-of-call-report"] });
    const status = run.sent.find((message) => message.type === "status-update")!;
    assert.deepEqual(status["assistant"], {
      name: "vwh simulated assistant",
      firstMessage: "Hello! Thanks for calling. How can I help you today?",
      serverMessages: ["status-update", "end-of-call-report"],
    });
    for (const message of run.sent)
      assert.equal(message["assistant"] !== undefined, grammar.messages[message.type]?.fields["assistant"] !== undefined, message.type);
  });

  it("the legacy function-call message: {functionCall: {name, parameters}} answered with {result}, checked and matched", async () => {
    const run = await drive(
      (message) => (message.type === "function-call" ? { result: "Tuesday at 15:30" } : undefined),
      [{ kind: "tool", name: "check_availability", arguments: { day: "tuesday" } }],
      { vapiToolShape: "function-call" },
    );
    const call = run.sent.find((message) => message.type === "function-call")!;
    assert.deepEqual(call["functionCall"], { name: "check_availability", parameters: { day: "tuesday" } });
    assert.deepEqual(run.failures, []);
    const update = run.sent.filter((message) => message.type === "conversation-update").at(-1)!;
    assert.ok(JSON.stringify(update["messages"]).includes("Tuesday at 15:30"), "the result reaches the conversation");
    const request = {
      method: "POST" as const,
      url: new URL("http://127.0.0.1/"),
      body: Buffer.from(JSON.stringify({ message: call })),
      contentType: "application/json",
      headers: {},
    };
    const check = (body: unknown) =>
      parseVapiReply(
        { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) },
        { eventType: "function-call", waits: true, expectsActions: false, request },
      );
    assert.deepEqual(check({ result: "ok" }).actions, [{ type: "tool_result", path: "result", name: "check_availability", result: "ok" }]);
    assert.deepEqual(
      check({ reslt: "ok" }).warnings.map((finding) => `${finding.path}: ${finding.message}`),
      [
        "reslt: not a field of the function-call reply {result} (@vapi-ai/server-sdk 2.0.1): Vapi ignores it",
        "result: no result: the assistant gets nothing back from check_availability",
      ],
    );
  });

  it("a failed tool's error is shown when expect.result does not match", async () => {
    const server = await startListener((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const message = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { message: Message }).message;
        const list = (message["toolCallList"] ?? []) as { id: string }[];
        const reply: Vapi.ServerMessageResponseToolCalls | Record<string, never> =
          message.type === "tool-calls"
            ? { results: list.map((call) => ({ name: "check_availability", toolCallId: call.id, error: "the calendar is down" })) }
            : {};
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
      });
    }, "/vapi/server");
    try {
      const flow = await inlineFlow({
        version: 1,
        platform: "vapi",
        name: "tool error",
        script: [{}, { tool: { name: "check_availability", arguments: {} }, expect: { result: { contains: "15:30" } } }],
      });
      const result = await simulateAgainst(server, [flow], { scheme: "vapi", secret: "vapi-test-secret-0123456789" });
      assert.ok(
        failureLines(result).some((line) => line.includes('got the tool\'s error "the calendar is down"')),
        failureLines(result).join("\n"),
      );
    } finally {
      await server.close();
    }
  });

  it("a transient assistant is checked against the SDK's CreateAssistantDto: an unknown model field warned, an unknown provider failed", async () => {
    const reply = (assistant: Record<string, unknown>) =>
      parseVapiReply(
        { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ assistant })) },
        {
          eventType: "assistant-request",
          waits: true,
          expectsActions: false,
          request: { method: "POST", url: new URL("http://127.0.0.1/"), body: Buffer.alloc(0), contentType: "application/json", headers: {} },
        },
      );
    const good: Vapi.CreateAssistantDto = {
      name: "Paula",
      firstMessage: "Hi",
      model: { provider: "openai", model: "gpt-4o", temperature: 0.7 },
      serverMessages: ["end-of-call-report"],
    };
    const fine = reply(good as unknown as Record<string, unknown>);
    assert.deepEqual([fine.failures, fine.warnings], [[], []]);
    // The legacy fields of Vapi's Flask example (model.systemPrompt, model.functions): warned, not failed.
    const legacy = reply({ name: "Paula", model: { provider: "openai", model: "gpt-3.5-turbo", systemPrompt: "You're Paula", functions: [] } });
    assert.deepEqual(legacy.failures, []);
    assert.deepEqual(
      legacy.warnings.map((finding) => finding.path),
      ["assistant.model.systemPrompt", "assistant.model.functions"],
    );
    assert.match(legacy.warnings[0]!.message, /not a field of OpenAiModel \(@vapi-ai\/server-sdk 2\.0\.1\)/);
    const bad = reply({ model: { provider: "opena1", model: "gpt-4o" }, serverMessages: ["transcripts"] });
    assert.deepEqual(
      bad.failures.map((finding) => finding.path),
      ["assistant.model.provider", "assistant.serverMessages[0]"],
    );
    const missing = reply({ model: { provider: "openai" } });
    assert.deepEqual(
      missing.failures.map((finding) => `${finding.path}: ${finding.message}`),
      ["assistant.model.model: required by OpenAiModel (@vapi-ai/server-sdk 2.0.1)"],
    );
  });
});
