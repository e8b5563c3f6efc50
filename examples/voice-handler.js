#!/usr/bin/env node
/**
 * A reference voice-agent webhook handler: node:http only, no framework, no dependencies (the media
 * agent it streams calls to, examples/media-agent.js, uses ws).
 * Copy it as the starting point of your own handler. What it does right, and you should keep:
 *
 *  - verifies Standard Webhooks signatures over the raw body bytes, before parsing anything,
 *    in constant time, accepting any of several secrets (rotation) and rejecting stale timestamps;
 *  - is idempotent: a retry or duplicate of an event (same event_id) gets the stored reply
 *    again, without running the side effects twice;
 *  - answers every event the platform waits on with instructions, and acks the others with 204;
 *  - survives hostile requests: a malformed request line, a body of the wrong shape, a slow body or
 *    a replayed event never crash it or tie it up (vwh's test suite throws an attack set at it).
 *
 * Run:  VWH_SECRET=whsec_... node examples/voice-handler.js   (PORT, HOST, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/*.json --url http://127.0.0.1:3000/webhooks/voice
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

export const WEBHOOK_PATH = "/webhooks/voice";
const MAX_BODY_BYTES = 1024 * 1024;
const TOLERANCE_SECONDS = 300;
// An event id is remembered at least as long as a replay of it could pass the timestamp check.
const DEDUP_SECONDS = TOLERANCE_SECONDS + 60;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const MENU_LINE = "+15550100300";
// Calls to this number go to the media-stream agent (examples/media-agent.js) on the same server.
const AGENT_LINE = "+15550100400";
const OPERATOR = "+15550100999";

// ---- signature verification (Standard Webhooks v1) ----

function decodeSecret(secret) {
  if (!secret.startsWith("whsec_")) throw new Error("a secret must start with whsec_");
  return Buffer.from(secret.slice("whsec_".length), "base64");
}

/** Returns undefined when the request is authentic, or the reason it is not. */
export function verifySignature(keys, headers, body, nowSeconds = Math.floor(Date.now() / 1000)) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return "missing signature headers";
  if (!/^\d+$/.test(timestamp)) return "invalid timestamp";
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return "timestamp outside the tolerance";
  // Compare the base64 text exactly, as the standardwebhooks library does: decoding first would also
  // accept non-canonical spellings (characters after the padding) of the right bytes.
  const given = signatures
    .split(" ")
    .map((entry) => entry.split(","))
    .filter(([version]) => version === "v1")
    .map(([, signature]) => Buffer.from(signature ?? ""));
  for (const key of keys) {
    const expected = Buffer.from(createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64"));
    if (given.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return undefined;
  }
  return "no matching signature";
}

// ---- the agent: what to say after each event ----

const speak = (text, extra = {}) => ({ type: "speak", text, ...extra });
const listen = (extra = {}) => ({ type: "listen", input: ["speech"], timeout_ms: 5000, ...extra });
const menu = () => [
  speak("Thanks for calling Bright Smile Dental. Press 1 for appointments, 2 for billing, or 0 for an operator."),
  listen({ input: ["dtmf"], max_digits: 1 }),
];

function answerSpeech(text) {
  const said = text.toLowerCase();
  if (/\b(human|agent|person|operator)\b/.test(said)) {
    return [speak("Connecting you to a member of our team."), { type: "transfer", to: OPERATOR, timeout_s: 30 }];
  }
  if (said.includes("reschedule")) return [speak("Sure, I can help you reschedule. What day and time works for you?"), listen()];
  const slot = said.match(/\b(monday|tuesday|wednesday|thursday|friday|saturday)\b(?:.*?\bat\s+(\d{1,2})\s*(am|pm)?)?/);
  if (slot) {
    const day = slot[1][0].toUpperCase() + slot[1].slice(1);
    const time = slot[2] ? ` at ${slot[2]} ${(slot[3] ?? "pm").toUpperCase()}` : "";
    return [speak(`Done. Your appointment is now on ${day}${time}. Is there anything else?`), listen()];
  }
  if (/\b(hours|open)\b/.test(said)) {
    return [speak("We're open Monday to Friday, 8 AM to 6 PM, and Saturday mornings.", { barge_in: true }), listen()];
  }
  if (/\b(no|that's all|thats all|bye|goodbye)\b/.test(said)) {
    return [speak("Thanks for calling. Goodbye!"), { type: "hangup", reason: "completed" }];
  }
  return [speak("Sorry, I didn't catch that. Could you say it again?"), listen()];
}

function answerDigits(digits) {
  switch (digits) {
    case "1":
      return [speak("Appointments. Which day would you like to come in?"), listen()];
    case "2":
      return [speak("For billing: your balance is zero. Press 0 to talk to our billing team."), listen({ input: ["dtmf"], max_digits: 1 })];
    case "0":
      return [speak("Transferring you to an operator."), { type: "transfer", to: OPERATOR, timeout_s: 30 }];
    default:
      return menu();
  }
}

// A signed body is authentic, not well-formed: take text only where text is expected.
const text = (value) => (typeof value === "string" ? value : "");

/**
 * The instructions for an event, or undefined for events the platform does not wait on.
 * `streamUrl`: where this server's media agent listens (ws/wss on the host the request came to).
 */
export function instructionsFor(event, { streamUrl } = {}) {
  const payload = typeof event.payload === "object" && event.payload !== null ? event.payload : {};
  switch (event.event_type) {
    case "call.started":
      if (payload.to === MENU_LINE) return menu();
      if (payload.to === AGENT_LINE && streamUrl) return [{ type: "stream", url: streamUrl }];
      return [speak("Hi, this is Ava from Bright Smile Dental. How can I help you today?", { barge_in: true }), listen()];
    case "speech.transcribed":
      return payload.is_final === false ? [listen()] : answerSpeech(text(payload.text));
    case "intent.matched":
      return payload.intent === "reschedule" ? answerSpeech("reschedule") : [speak("How else can I help?"), listen()];
    case "dtmf.received":
      return answerDigits(text(payload.digits));
    case "playback.finished":
      return [listen()];
    default:
      return undefined; // call.ended, speech.detected, media.stream.connected, …: just ack
  }
}

// ---- HTTP ----

function send(response, status, body) {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
}

function pathOf(request) {
  try {
    return new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return undefined; // a request target such as `http://[` is no URL at all
  }
}

/**
 * Builds the request listener. `secrets`: the whsec_ secrets to accept (several during rotation).
 * `log`: called with one line per request (pass () => {} to silence). `now`: the clock in ms (tests).
 */
export function createVoiceHandler({ secrets, log = () => {}, now = Date.now }) {
  if (!secrets?.length) throw new Error("at least one signing secret is required");
  const keys = secrets.map(decodeSecret);
  // event_id → { status, body, at }: the idempotency store. Ids expire by age, never by count, so a
  // flood of events cannot push out an id whose replay would still pass the timestamp check.
  const replies = new Map();
  const forgetOld = (nowMs) => {
    for (const [id, reply] of replies) {
      if (nowMs - reply.at <= DEDUP_SECONDS * 1000) break; // oldest first: the rest are younger
      replies.delete(id);
    }
  };

  return (request, response) => {
    request.on("error", () => {}); // a client that resets mid-body is its own problem, not a crash
    const path = pathOf(request);
    if (path === undefined) return send(response, 400, { error: "bad request target" });
    if (path !== WEBHOOK_PATH) return send(response, 404, { error: "not found" });
    if (request.method !== "POST") return send(response, 405, { error: "use POST" });
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        send(response, 413, { error: "body too large" });
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => {
      if (response.headersSent) return;
      try {
        handleEvent(Buffer.concat(chunks));
      } catch (error) {
        // A bug in the agent must cost one reply (the platform retries), not the whole process.
        log(`500 ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) send(response, 500, { error: "internal error" });
      }
    });

    function handleEvent(body) {
      const nowMs = now();
      const rejected = verifySignature(keys, request.headers, body, Math.floor(nowMs / 1000));
      if (rejected) {
        log(`401 ${rejected}`);
        return send(response, 401, { error: "invalid signature" });
      }
      let event;
      try {
        event = JSON.parse(body.toString("utf8"));
      } catch {
        return send(response, 400, { error: "body is not JSON" });
      }
      if (typeof event?.event_id !== "string" || typeof event?.event_type !== "string") {
        return send(response, 400, { error: "not an event envelope" });
      }
      const stored = replies.get(event.event_id);
      if (stored) {
        log(`${stored.status} ${event.event_type} ${event.event_id} (duplicate: stored reply)`);
        return send(response, stored.status, stored.body);
      }
      const secure = request.headers["x-forwarded-proto"] === "https";
      const host = request.headers.host;
      const instructions = instructionsFor(event, host ? { streamUrl: `${secure ? "wss" : "ws"}://${host}/media` } : {});
      const reply = instructions ? { status: 200, body: { instructions }, at: nowMs } : { status: 204, body: undefined, at: nowMs };
      forgetOld(nowMs);
      replies.set(event.event_id, reply);
      log(`${reply.status} ${event.event_type} ${event.event_id}`);
      send(response, reply.status, reply.body);
    }
  };
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createVoiceServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  return createServer(
    // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createVoiceHandler(options),
  );
}

// Run directly: node examples/voice-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secrets = (process.env.VWH_SECRET ?? "").split(/\s+/).filter(Boolean);
  if (secrets.length === 0) {
    console.error("voice-handler: set VWH_SECRET to the whsec_ signing secret");
    process.exit(2);
  }
  const malformed = secrets.find((secret) => !secret.startsWith("whsec_"));
  if (malformed !== undefined) {
    // One line, not decodeSecret's stack trace: the secret itself is never printed.
    console.error("voice-handler: VWH_SECRET must hold whsec_ signing secrets (space-separated); one does not start with whsec_");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("voice-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createVoiceServer({ secrets, log: (line) => console.log(line), requestTimeoutMs, headersTimeoutMs: requestTimeoutMs });
  const { attachMediaAgent } = await import("./media-agent.js");
  attachMediaAgent(server, { log: (line) => console.log(line) });
  server.listen(port, host, () => {
    const address = server.address();
    console.log(`voice-handler listening on http://${host}:${address.port}${WEBHOOK_PATH}`);
  });
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
