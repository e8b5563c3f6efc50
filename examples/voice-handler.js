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
 *  - answers every event the platform waits on with instructions, and acks the others with 204.
 *
 * Run:  VWH_SECRET=whsec_... node examples/voice-handler.js   (PORT, HOST optional)
 * Then: vwh simulate fixtures/*.json --url http://127.0.0.1:3000/webhooks/voice
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

export const WEBHOOK_PATH = "/webhooks/voice";
const MAX_BODY_BYTES = 1024 * 1024;
const TOLERANCE_SECONDS = 300;
const DEDUP_ENTRIES = 10_000;
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
  const given = signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => Buffer.from(entry.slice(3), "base64"));
  for (const key of keys) {
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
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

/**
 * The instructions for an event, or undefined for events the platform does not wait on.
 * `streamUrl`: where this server's media agent listens (ws/wss on the host the request came to).
 */
export function instructionsFor(event, { streamUrl } = {}) {
  const payload = event.payload ?? {};
  switch (event.event_type) {
    case "call.started":
      if (payload.to === MENU_LINE) return menu();
      if (payload.to === AGENT_LINE && streamUrl) return [{ type: "stream", url: streamUrl }];
      return [speak("Hi, this is Ava from Bright Smile Dental. How can I help you today?", { barge_in: true }), listen()];
    case "speech.transcribed":
      return payload.is_final === false ? [listen()] : answerSpeech(String(payload.text ?? ""));
    case "intent.matched":
      return payload.intent === "reschedule" ? answerSpeech("reschedule") : [speak("How else can I help?"), listen()];
    case "dtmf.received":
      return answerDigits(String(payload.digits ?? ""));
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

/**
 * Builds the request listener. `secrets`: the whsec_ secrets to accept (several during rotation).
 * `log`: called with one line per request (pass () => {} to silence).
 */
export function createVoiceHandler({ secrets, log = () => {} }) {
  if (!secrets?.length) throw new Error("at least one signing secret is required");
  const keys = secrets.map(decodeSecret);
  const replies = new Map(); // event_id → { status, body }: the idempotency store

  return (request, response) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== WEBHOOK_PATH) return send(response, 404, { error: "not found" });
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
      const body = Buffer.concat(chunks);
      const rejected = verifySignature(keys, request.headers, body);
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
      const reply = instructions ? { status: 200, body: { instructions } } : { status: 204, body: undefined };
      replies.set(event.event_id, reply);
      if (replies.size > DEDUP_ENTRIES) replies.delete(replies.keys().next().value);
      log(`${reply.status} ${event.event_type} ${event.event_id}`);
      send(response, reply.status, reply.body);
    });
  };
}

// Run directly: node examples/voice-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secrets = (process.env.VWH_SECRET ?? "").split(/\s+/).filter(Boolean);
  if (secrets.length === 0) {
    console.error("voice-handler: set VWH_SECRET to the whsec_ signing secret");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const server = createServer(createVoiceHandler({ secrets, log: (line) => console.log(line) }));
  const { attachMediaAgent } = await import("./media-agent.js");
  attachMediaAgent(server, { log: (line) => console.log(line) });
  server.listen(port, host, () => {
    const address = server.address();
    console.log(`voice-handler listening on http://${host}:${address.port}${WEBHOOK_PATH}`);
  });
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
