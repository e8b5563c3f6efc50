/**
 * A reference Vapi custom-LLM server: the assistant's model is `{ provider: "custom-llm", url:
 * "https://your-host/v1" }`, and Vapi's OpenAI client POSTs `<url>/chat/completions` with the conversation
 * so far and `stream: true`. Test it with
 *
 *   node examples/vapi-llm-handler.js &
 *   vwh simulate --platform vapi-llm --url http://localhost:3000/v1 fixtures/scripts/vapi-llm-booking.json
 *
 * What it does right, and you should keep:
 *  - answers with server-sent events (text/event-stream): chat.completion.chunk deltas, then data: [DONE];
 *  - keeps only what its model takes (model, messages, temperature, max_tokens, tools): Vapi adds call,
 *    phoneNumber, customer and metadata (metadataSendMode variable), which OpenAI-compatible APIs refuse;
 *  - uses Vapi's default tools to end (endCall) or transfer (transferCall) the call;
 *  - sends `<flush />` after a first short sentence so Vapi speaks it at once.
 * The "LLM" is a few canned rules; replace `answer` with your model's stream.
 *
 * Request shape: @vapi-ai/server-sdk's CustomLlmModel (metadataSendMode) and OpenAI's chat completion
 * request; chunks as OpenAI's ChatCompletionChunk.
 */
import { createServer } from "node:http";

export const BASE_PATH = "/v1";
const MAX_BODY = 1024 * 1024;

/** Chunks of the answer to the last user message, and the tool call to end with, if any. */
function answer(messages) {
  // Hostile input is possible (anyone can POST here): only a string content is read.
  const last = [...messages].reverse().find((message) => message && typeof message === "object" && message.role === "user");
  const said = typeof last?.content === "string" ? last.content.toLowerCase() : "";
  if (/\b(person|operator|human)\b/.test(said))
    return { chunks: ["One moment. <flush />", "I'm transferring you now."], tool: { name: "transferCall", arguments: { destination: "+15550100999" } } };
  if (/\b(bye|goodbye|that's all)\b/.test(said)) return { chunks: ["Thanks for calling. Goodbye!"], tool: { name: "endCall", arguments: {} } };
  if (/\bbook|table|reserv/.test(said)) return { chunks: ["Sure. <flush />", "Table seven is free at eight, ", "and I have booked it for you."] };
  return { chunks: ["Sorry, ", "I can help with bookings. ", "What would you like?"] };
}

function readJson(request) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    request.on("end", () => {
      try {
        resolve(size <= MAX_BODY ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

export function createVapiLlmHandler({ log = () => {} } = {}) {
  return async (request, response) => {
    // Only origin-form targets (`/v1/…`): an absolute or malformed one (`http://[`) is a bad request.
    if (!request.url?.startsWith("/")) return response.writeHead(400).end();
    if (request.method !== "POST" || request.url !== `${BASE_PATH}/chat/completions`) return response.writeHead(404).end();
    const body = await readJson(request);
    if (!body || !Array.isArray(body.messages))
      return response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "expected a chat completion request" } }));
    // What a real server would pass to its model: Vapi's call, phoneNumber, customer and metadata stay here.
    const { model, messages, temperature, max_tokens } = body;
    if (body.call?.id) log(`call ${body.call.id}: ${messages.length} messages (${model}, temperature ${temperature}, max_tokens ${max_tokens})`);
    const reply = answer(messages);
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const id = `chatcmpl-${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const send = (delta, finish = null) =>
      response.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: "assistant", content: "" });
    for (const chunk of reply.chunks) {
      await new Promise((resolve) => setImmediate(resolve)); // a model streams its chunks over time
      send({ content: chunk });
    }
    if (reply.tool)
      send({
        tool_calls: [
          { index: 0, id: `call_${created}`, type: "function", function: { name: reply.tool.name, arguments: JSON.stringify(reply.tool.arguments) } },
        ],
      });
    send({}, reply.tool ? "tool_calls" : "stop");
    response.end("data: [DONE]\n\n");
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  // A slow client (a trickling body, unfinished headers) is cut off after this long.
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? 10_000);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("vapi-llm-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
  const server = createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) },
    createVapiLlmHandler({ log: console.log }),
  );
  server.listen(port, host, () => console.log(`Vapi custom LLM on http://${host}:${server.address().port}${BASE_PATH}/chat/completions`));
}
