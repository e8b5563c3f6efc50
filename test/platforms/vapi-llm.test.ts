/**
 * Vapi's custom LLM (issue 28, part 3): vwh plays Vapi's side — POST <url>/chat/completions with the
 * conversation so far, stream: true, and the metadata per metadataSendMode — against the reference server
 * (examples/vapi-llm-handler.js) and servers that answer wrong, in process on a fake clock.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { callFlowSchema } from "../../src/files/call-flow.js";
import { runSimulation } from "../../src/engine/run.js";
import { maxTurnTextChars } from "../../src/media/text-session.js";
import { vapiLlmPlatform } from "../../src/platforms/vapi-llm/index.js";
import type { SimulationOptions } from "../../src/engine/options.js";
import { getScheme } from "../../src/signing/index.js";
import { defaultHmacSettings } from "../../src/signing/hmac.js";
import { engineOptions } from "../engine-helpers.js";
import { newSecret } from "../helpers.js";
import { fakeClock } from "../media-agents.js";
// @ts-expect-error: a plain JavaScript example
import { createVapiLlmHandler } from "../../../examples/vapi-llm-handler.js";

interface Listening {
  base: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

const servers: Listening[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

/** `handler` behind a recorder of request bodies, on 127.0.0.1. */
async function listen(
  handler: (request: IncomingMessage, response: ServerResponse, body: Record<string, unknown>) => void,
  reference = false,
): Promise<Listening> {
  const bodies: Record<string, unknown>[] = [];
  const referenceHandler = reference ? (createVapiLlmHandler() as RequestListener) : undefined;
  const server = createServer((request, response) => {
    if (referenceHandler) {
      // Let the reference handler read the body; keep a copy.
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>));
      return referenceHandler(request, response);
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      bodies.push(body);
      handler(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const listening = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    bodies,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  servers.push(listening);
  return listening;
}

async function run(
  base: string,
  script: unknown[],
  settings: Record<string, unknown> = {},
  platformSettings: Record<string, unknown> = {},
  overrides: Partial<SimulationOptions> = {},
) {
  const clock = fakeClock();
  const options = engineOptions(base, newSecret(), { now: clock.now, wait: clock.wait, mediaLockstep: true, platformSettings, ...overrides });
  try {
    const flow = {
      file: "inline.json",
      platform: vapiLlmPlatform,
      flow: callFlowSchema.parse({
        version: 1,
        platform: "vapi-llm",
        name: "llm",
        call: { call_id: "call_vapi_llm1", from: "+15550100001", to: "+15550100300" },
        settings,
        script,
      }),
    };
    const result = await runSimulation([flow], options);
    return { result, turns: result.flows[0]!.turns! };
  } finally {
    await options.dispatcher.close();
  }
}

const messages = (turn: { failures: { path?: string | undefined; message: string }[] }) =>
  turn.failures.map((finding) => `${finding.path ?? ""}: ${finding.message}`);
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const sse = (response: ServerResponse) => response.writeHead(200, { "content-type": "text/event-stream" });

describe("Vapi custom LLM against the reference server", () => {
  it("POSTs <url>/chat/completions with the conversation so far and stream: true, speaks the stream, transfers on transferCall", async () => {
    const server = await listen(() => {}, true);
    const settings = { system_prompt: "You take bookings.", first_message: "Hi, this is Ada's.", metadata: { restaurant: "ada" }, temperature: 0.2 };
    const { turns, result } = await run(
      server.base,
      [
        { expect: { says: "Hi, this is Ada's." } },
        { say: "I'd like to book a table", expect: { says: "Sure. Table seven is free at eight, and I have booked it for you.", first_audio_ms: 60_000 } },
        { say: "Can I talk to a person?", expect: { transfers_to: "+15550100999", ends: "transferred" } },
      ],
      settings,
    );
    assert.deepEqual(turns.map(messages), [[], [], []]);
    assert.ok(result.flows[0]!.passed);
    const [first, second] = server.bodies as { messages: { role: string; content: string }[]; [key: string]: unknown }[];
    assert.deepEqual(Object.keys(first!).sort(), ["call", "customer", "max_tokens", "messages", "metadata", "model", "phoneNumber", "stream", "temperature"]);
    assert.deepEqual([first!["stream"], first!["temperature"], first!["max_tokens"], first!["metadata"]], [true, 0.2, 250, { restaurant: "ada" }]);
    assert.deepEqual((first!["customer"] as { number: string }).number, "+15550100001");
    assert.deepEqual(
      first!.messages.map((message) => message.role),
      ["system", "assistant", "user"],
    );
    // The second request carries the first answer (without <flush />) and the new utterance.
    assert.deepEqual(second!.messages.slice(-2), [
      { role: "assistant", content: "Sure. Table seven is free at eight, and I have booked it for you." },
      { role: "user", content: "Can I talk to a person?" },
    ]);
    assert.equal(turns[2]!.media!.text!.toolCalls[0]!.name, "transferCall");
  });

  it("sends the custom-llm credential as Authorization: Bearer on every request when a secret is given, and none without", async () => {
    const seen: (string | undefined)[] = [];
    const server = await listen((request, response) => {
      seen.push(request.headers.authorization);
      if (request.headers.authorization !== undefined && request.headers.authorization !== "Bearer sk_llm_key_123") return void response.writeHead(401).end();
      sse(response);
      response.end(`${chunk({ role: "assistant", content: "Hello." }, "stop")}data: [DONE]\n\n`);
    });
    const bearer = getScheme("bearer").create([{ value: "sk_llm_key_123", source: "(test)" }], { purpose: "sign", hmac: defaultHmacSettings });
    assert.equal(getScheme(vapiLlmPlatform.scheme).name, "bearer");
    const script = [{}, { say: "hi", expect: { says: "Hello." } }, { say: "again", expect: { says: "Hello." } }];
    const signed = await run(server.base, script, {}, {}, { signer: bearer, signatureHeaders: ["authorization"] });
    assert.ok(signed.result.flows[0]!.passed, JSON.stringify(signed.turns.map(messages)));
    assert.deepEqual(seen, ["Bearer sk_llm_key_123", "Bearer sk_llm_key_123"]);
    seen.length = 0;
    const unsigned = await run(server.base, script, {}, {}, { signer: undefined });
    assert.ok(unsigned.result.flows[0]!.passed);
    assert.deepEqual(seen, [undefined, undefined]);
  });

  it("sends metadata per --metadata-send-mode: off (the conversation only) and destructured (metadata's fields at the top)", async () => {
    const server = await listen(() => {}, true);
    await run(server.base, [{}, { say: "hello" }], { metadata: { restaurant: "ada" } }, { metadataSendMode: "off" });
    await run(server.base, [{}, { say: "hello" }], { metadata: { restaurant: "ada" } }, { metadataSendMode: "destructured" });
    const [off, destructured] = server.bodies;
    assert.deepEqual(Object.keys(off!).sort(), ["max_tokens", "messages", "model", "stream", "temperature"]);
    assert.equal(destructured!["restaurant"], "ada");
    assert.equal(destructured!["metadata"], undefined);
    assert.ok(destructured!["call"]);
  });
});

describe("Vapi custom LLM: servers that answer wrong", () => {
  it("JSON for stream: true, an error status (with the extra-fields hint), and the wrong content type are clear findings that fail the call", async () => {
    const json = await listen((_request, response) =>
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ message: { role: "assistant", content: "Hello" } }] })),
    );
    const jsonRun = await run(json.base, [{}, { say: "hi" }, { say: "again" }]);
    assert.match(messages(jsonRun.turns[1]!)[0]!, /answered stream: true with JSON \(application\/json\): Vapi reads server-sent events/);
    assert.equal(jsonRun.turns[1]!.ended, "failed");
    const failing = await listen((_request, response) =>
      response.writeHead(400, { "content-type": "application/json" }).end('{"error":{"message":"Unrecognized request argument supplied: call"}}'),
    );
    const failed = await run(failing.base, [{}, { say: "hi" }]);
    assert.match(
      messages(failed.turns[1]!)[0]!,
      /expected 200 with an event stream, got 400: .*Unrecognized request argument supplied: call.* fails on the extra fields \(call, phoneNumber, customer, metadata\)/,
    );
    const plain = await listen((_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("Hello"));
    assert.match(messages((await run(plain.base, [{}, { say: "hi" }])).turns[1]!)[0]!, /expected content-type text\/event-stream, got "text\/plain"/);
  });

  it("malformed chunks and tool calls are findings; a turn without [DONE] or finish_reason too", async () => {
    const server = await listen((_request, response) => {
      sse(response);
      response.write(chunk({ content: "Hello" }));
      response.write("data: {not json}\n\n");
      response.write(`data: ${JSON.stringify({ object: "chat.completion", choices: [] })}\n\n`);
      response.write(chunk({ tool_calls: [{ index: 0, type: "function", function: { name: "lookup", arguments: '{"id":' } }] }));
      response.end();
    });
    const { turns } = await run(server.base, [{}, { say: "hi" }]);
    assert.deepEqual(messages(turns[1]!), [
      'chunk[1]: expected a JSON chunk or [DONE], got "{not json}"',
      'chunk[2]: object: expected "chat.completion.chunk"',
      "chat/completions: the stream ended with neither a finish_reason nor data: [DONE]",
      "tool_calls[0].id: expected the tool call's id (Vapi answers the call by it)",
      'tool_calls[0].function.arguments: expected JSON arguments, got "{\\"id\\":"',
    ]);
    assert.equal(turns[1]!.says, "Hello");
  });

  it("no token within timeoutSeconds, a stream cut mid-way, and a stream without end end the turn with a finding, memory bounded", async () => {
    const silent = await listen((_request, response) => sse(response));
    const timedOut = await run(silent.base, [{}, { say: "hi" }], { timeout_seconds: 1 });
    assert.deepEqual(messages(timedOut.turns[1]!), ["chat/completions: no token within 1 s (timeoutSeconds): Vapi gives up on the turn"]);
    assert.equal(timedOut.turns[1]!.ended, "failed");
    const cut = await listen((request, response) => {
      sse(response);
      response.write(chunk({ content: "Let me" }));
      setImmediate(() => request.socket.destroy());
    });
    const broken = await run(cut.base, [{}, { say: "hi" }]);
    assert.match(messages(broken.turns[1]!)[0]!, /^chat\/completions: the stream broke off: /);
    const endless = await listen((_request, response) => {
      sse(response);
      const more = () => {
        if (response.destroyed) return;
        if (response.write(chunk({ content: "word ".repeat(500) }))) setImmediate(more);
        else response.once("drain", more);
      };
      more();
    });
    const cutOff = await run(endless.base, [{}, { say: "hi" }]);
    assert.deepEqual(messages(cutOff.turns[1]!), [`chat/completions: the stream did not end after ${maxTurnTextChars / 1024} KiB of content: cut off`]);
    assert.ok(cutOff.turns[1]!.media!.text!.text.length <= maxTurnTextChars);
  });
});
