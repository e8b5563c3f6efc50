#!/usr/bin/env node
/**
 * A Telnyx Call Control handler (docs/platforms/telnyx.md) with the official `telnyx` SDK: a keypad menu for
 * Bright Smile Dental. Telnyx ignores the reply to a webhook; the handler drives the call with REST
 * commands. What it does right, and you should keep:
 *
 *  - verifies every webhook's Ed25519 signature with the SDK (`client.webhooks.unwrap`) over the raw
 *    body, before acting on it; a forged, tampered or stale webhook gets 401;
 *  - is idempotent: Telnyx delivers some webhooks twice and out of order, so it acts once per event id,
 *    and sends each command with a `command_id` derived from the event, which Telnyx dedups as well;
 *  - carries the menu's state in `client_state` (base64), which Telnyx echoes on the webhooks a command
 *    causes, so it keeps no per-call memory and survives a restart;
 *  - never crashes: bad input gets a 4xx, a refused command is logged, the webhook still gets 200.
 *
 * Run:  TELNYX_BASE_URL=… TELNYX_PUBLIC_KEY=… node examples/telnyx-handler.js   (PORT, HOST, REQUEST_TIMEOUT_MS, TELNYX_API_KEY optional)
 * Against vwh:  vwh simulate fixtures/scripts/telnyx-*.json --url http://127.0.0.1:3000/webhooks/telnyx
 * prints TELNYX_BASE_URL and TELNYX_PUBLIC_KEY; start this with both (fix the port with --telnyx-api-port,
 * and the key with VWH_SECRET=<base64 Ed25519 private key> so they stay the same between runs):
 *   TELNYX_BASE_URL=http://127.0.0.1:4010/v2 TELNYX_PUBLIC_KEY=... TELNYX_API_KEY=any node examples/telnyx-handler.js
 */
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import Telnyx from "telnyx";

export const WEBHOOK_PATH = "/webhooks/telnyx";
const MAX_BODY_BYTES = 1024 * 1024;
const DEDUP_ENTRIES = 10_000;
const OPERATOR = "+15550100999";
const VOICE = "AWS.Polly.Joanna-Neural";
const MENU = "Thanks for calling Bright Smile Dental. Press 1 for appointments, 2 for billing, or 0 for an operator.";

const encodeState = (state) => Buffer.from(JSON.stringify(state)).toString("base64");
function decodeState(value) {
  if (typeof value !== "string") return {};
  try {
    const state = JSON.parse(Buffer.from(value, "base64").toString("utf8"));
    return state && typeof state === "object" ? state : {};
  } catch {
    return {};
  }
}

/** What to command after each event: [command, body] pairs (the menu as a pure function, easy to test). */
export function commandsFor(eventType, payload) {
  const state = decodeState(payload.client_state);
  const menu = (text, step) => [
    "gather_using_speak",
    { payload: text, voice: VOICE, valid_digits: "0123456789", maximum_digits: 1, timeout_millis: 8000, client_state: encodeState({ step }) },
  ];
  const say = (text, next) => ["speak", { payload: text, voice: VOICE, client_state: encodeState({ next }) }];
  switch (eventType) {
    case "call.initiated":
      return payload.direction === "incoming" ? [["answer", { client_state: encodeState({ step: "answered" }) }]] : [];
    case "call.answered":
      return [menu(MENU, "menu")];
    case "call.gather.ended": {
      if (payload.status === "call_hangup") return [];
      const digits = payload.status === "valid" ? payload.digits : "";
      if (digits === "1") return [say("Our appointment line is open Monday to Friday. We'll text you a booking link. Goodbye!", "hangup")];
      if (digits === "2") return [menu("For billing questions, press 0 to talk to our billing team.", "billing")];
      if (digits === "0") return [say("Connecting you to a member of our team.", "transfer")];
      return [menu(`Sorry, I didn't get that. ${MENU}`, state.step ?? "menu")];
    }
    case "call.speak.ended":
      if (state.next === "transfer") return [["transfer", { to: OPERATOR, client_state: encodeState({ step: "transferred" }) }]];
      if (state.next === "hangup") return [["hangup", {}]];
      return [];
    default:
      return [];
  }
}

const sdkMethods = { answer: "answer", gather_using_speak: "gatherUsingSpeak", speak: "speak", transfer: "transfer", hangup: "hangup" };

/**
 * The handler as a node:http listener. `baseURL` and `publicKey` default to TELNYX_BASE_URL and
 * TELNYX_PUBLIC_KEY (the SDK reads them), `apiKey` to TELNYX_API_KEY.
 */
export function createTelnyxHandler({ apiKey = process.env.TELNYX_API_KEY ?? "KEY_local", baseURL, publicKey, log = (line) => console.error(line) } = {}) {
  const client = new Telnyx({ apiKey, ...(baseURL && { baseURL }), ...(publicKey && { publicKey }), maxRetries: 1, timeout: 10_000 });
  const seen = new Set();

  async function handle(request, response) {
    // A request target that is no URL (`GET http://[`) is the client's mistake: 400, not a crash.
    if (!URL.canParse(request.url ?? "/", "http://localhost")) return reply(response, 400, { error: "bad request target" });
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== WEBHOOK_PATH) return reply(response, 404, { error: "not found" });
    if (request.method !== "POST") return reply(response, 405, { error: "use POST" });
    const body = await readBody(request);
    if (body === undefined) return reply(response, 413, { error: "body too large" });
    let event;
    try {
      event = await client.webhooks.unwrap(body.toString("utf8"), { headers: lowerCaseHeaders(request.headers) });
    } catch (error) {
      log(`telnyx-handler: refused a webhook: ${error.message}`);
      return reply(response, 401, { error: "invalid signature" });
    }
    const data = event?.data;
    if (!data || typeof data.event_type !== "string" || typeof data.id !== "string" || !data.payload || typeof data.payload !== "object") {
      return reply(response, 400, { error: "expected {data:{event_type,id,payload}}" });
    }
    // Duplicates (same data.id) get the same answer and are not acted on twice.
    if (seen.has(data.id)) return reply(response, 200, { ok: true });
    remember(seen, data.id);
    const callControlId = data.payload.call_control_id;
    for (const [command, params] of typeof callControlId === "string" ? commandsFor(data.event_type, data.payload) : []) {
      try {
        await client.calls.actions[sdkMethods[command]](callControlId, { ...params, command_id: `${data.id}:${command}` });
      } catch (error) {
        // The call may have ended meanwhile (the caller hung up): log it; the webhook itself was fine.
        log(`telnyx-handler: ${command} refused: ${error.status ?? ""} ${error.message}`);
      }
    }
    return reply(response, 200, { ok: true });
  }

  return (request, response) => {
    handle(request, response).catch((error) => {
      log(`telnyx-handler: ${error.stack ?? error}`);
      if (!response.headersSent) reply(response, 500, { error: "internal error" });
    });
  };
}

function remember(seen, id) {
  seen.add(id);
  if (seen.size > DEDUP_ENTRIES) seen.delete(seen.values().next().value);
}

function lowerCaseHeaders(headers) {
  const result = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === "string") result[name.toLowerCase()] = value;
  return result;
}

async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function reply(response, status, body) {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createTelnyxServer({ requestTimeoutMs = 10_000, headersTimeoutMs = 5_000, ...options } = {}) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
  return createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createTelnyxHandler(options),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const server = createTelnyxServer({ ...(process.env.REQUEST_TIMEOUT_MS && { requestTimeoutMs: Number(process.env.REQUEST_TIMEOUT_MS) }) });
  server.listen(port, host, () => console.log(`telnyx handler on http://${host}:${port}${WEBHOOK_PATH}`));
}
