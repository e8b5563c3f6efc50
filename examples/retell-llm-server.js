/**
 * A reference Retell custom-LLM server (docs.retellai.com/api-references/llm-websocket): Retell connects
 * to `ws(s)://your-host/llm-websocket/<call_id>` and this server decides what the agent says. Test it with
 *
 *   node examples/retell-llm-server.js &
 *   vwh simulate --platform retell --url ws://localhost:8080/llm-websocket fixtures/scripts/retell-llm.json
 *
 * What it does right, and you should keep:
 *  - sends config (auto_reconnect, call_details) and the begin message (response_id 0) as soon as the
 *    socket opens, and echoes every ping_pong;
 *  - answers response_required and reminder_required with that request's response_id, and stops streaming
 *    an answer as soon as a newer request arrives (the caller barged in);
 *  - ignores update_only (no answer is wanted), and never crashes on a bad frame.
 * The "LLM" is a few canned rules; replace `answer` with your model call, streaming its chunks.
 *
 * Message shapes (Retell's custom-LLM demos, RetellAI/retell-custom-llm-node-demo src/types.ts):
 * @typedef {{ role: "agent" | "user", content: string }} Utterance
 * @typedef {{ interaction_type: "update_only" | "response_required" | "reminder_required" | "ping_pong" | "call_details",
 *   response_id?: number, transcript?: Utterance[], call?: Record<string, unknown>, timestamp?: number }} RetellRequest
 */
import { WebSocketServer } from "ws";

export const LLM_PATH = "/llm-websocket";
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** What the agent says to the transcript so far: chunks of text, and what to do at the end. */
function answer(request) {
  if (request.interaction_type === "reminder_required") return { chunks: ["Still there?"] };
  const said =
    (request.transcript ?? [])
      .filter((utterance) => utterance.role === "user")
      .at(-1)
      ?.content.toLowerCase() ?? "";
  if (/\b(person|operator|human)\b/.test(said)) return { chunks: ["Transferring you."], transfer: "+15550100999" };
  if (/\b(bye|goodbye|that's all)\b/.test(said)) return { chunks: ["Thanks for calling. Goodbye!"], endCall: true };
  if (/\bbook|table|reserv/.test(said))
    return { chunks: ["Booked: ", "table seven ", "at eight."], tool: { name: "book_table", arguments: { party: 2, time: "20:00" } } };
  return { chunks: ["Sorry, ", "I only do bookings. ", "What would you like?"] };
}

function handleCall(socket, callId, log) {
  let latest = 0; // the latest request's response_id: an older answer stops streaming
  const send = (message) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(message));

  send({ response_type: "config", config: { auto_reconnect: true, call_details: true } });
  send({ response_type: "response", response_id: 0, content: "Ada's bistro, hello!", content_complete: true });

  async function respond(request) {
    const id = request.response_id;
    const reply = answer(request);
    if (reply.tool) {
      const toolCallId = `tool_${id}`;
      send({ response_type: "tool_call_invocation", tool_call_id: toolCallId, name: reply.tool.name, arguments: JSON.stringify(reply.tool.arguments) });
      send({ response_type: "tool_call_result", tool_call_id: toolCallId, content: JSON.stringify({ booked: true, table: 7 }) });
    }
    for (const [index, chunk] of reply.chunks.entries()) {
      await tick(); // a model streams its chunks over time
      if (id !== latest) return; // superseded: the caller said something new
      const last = index === reply.chunks.length - 1;
      send({
        response_type: "response",
        response_id: id,
        content: chunk,
        content_complete: last,
        ...(last && reply.endCall && { end_call: true }),
        ...(last && reply.transfer && { transfer_number: reply.transfer }),
      });
    }
  }

  socket.on("message", (data, binary) => {
    if (binary) return;
    let request;
    try {
      request = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    switch (request?.interaction_type) {
      case "ping_pong":
        return send({ response_type: "ping_pong", timestamp: request.timestamp });
      case "call_details":
        return log(`call ${callId} from ${request.call?.from_number ?? "?"}`);
      case "response_required":
      case "reminder_required":
        if (!Number.isInteger(request.response_id)) return;
        latest = request.response_id;
        respond(request).catch((error) => log(`answer failed: ${error.message}`));
        return;
      default:
        return; // update_only: the transcript moved on, no answer wanted
    }
  });
  socket.on("error", (error) => log(`socket error: ${error.message}`));
}

/** Serves the custom LLM on `<path>/<call_id>` of an existing node:http server (WebSocket upgrade). */
export function attachRetellLlm(server, { path = LLM_PATH, log = () => {} } = {}) {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  server.on("upgrade", (request, socket, head) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const match = url.pathname.startsWith(`${path}/`) ? decodeURIComponent(url.pathname.slice(path.length + 1)) : undefined;
    if (!match || match.includes("/")) return socket.destroy();
    sockets.handleUpgrade(request, socket, head, (ws) => {
      sockets.emit("connection", ws, request);
      handleCall(ws, match, log);
    });
  });
  return sockets;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { createServer } = await import("node:http");
  const port = Number(process.env.PORT ?? 8080);
  const server = createServer((_request, response) => response.writeHead(404).end());
  attachRetellLlm(server, { log: console.log });
  server.listen(port, () => console.log(`Retell custom LLM on ws://localhost:${port}${LLM_PATH}/<call_id>`));
}
