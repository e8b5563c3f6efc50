#!/usr/bin/env node
/**
 * A FreJun Teler flow_url handler (node:http), replying with @frejun/teler's CallFlow helpers. What it
 * does right, and you should keep:
 *
 *  - checks an HMAC over the RAW body before parsing (x-signature = hex HMAC-SHA256 of
 *    "{x-timestamp}.{body}", 5-minute window) — Teler documents no signature of its own, so put one in
 *    front of it (a signing proxy) or keep the URL secret; vwh signs with --scheme hmac to test this;
 *  - answers the flow request with a stream to its own wss:// media endpoint (CallFlow.stream), and
 *    fixes `record` afterwards: CallFlow.stream turns record:false into true (`options.record || true`);
 *  - is idempotent: a repeated flow request for a call gets the same reply; status callbacks are
 *    recorded once per call and event;
 *  - serves the media socket it streams to (attachTelerMediaAgent): greets when the stream starts,
 *    answers 300 ms after the caller stops talking, and clears its audio when the caller talks over it;
 *  - never crashes on hostile input, and cuts off slow requests (vwh's test suite throws an attack set at it).
 *
 * Run:  TELER_SECRET=... node examples/teler-handler.js   (PUBLIC_HOST for the wss:// URL, PORT, HOST, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/scripts/teler-*.json --platform teler --url http://127.0.0.1:3000/teler/flow
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { CallFlow } from "@frejun/teler";
import { WebSocketServer } from "ws";

export const FLOW_PATH = "/teler/flow";
export const STATUS_PATH = "/teler/status";
export const MEDIA_PATH = "/teler/media";
const MAX_BODY_BYTES = 256 * 1024;
const TOLERANCE_SECONDS = 300;
// A request is remembered a little longer than a replay of it could pass the timestamp check.
const DEDUP_SECONDS = TOLERANCE_SECONDS + 60;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const RECORD = false;

/** Returns undefined when the request is authentic, or the reason it is not. */
export function verifySignature(secrets, headers, body, nowSeconds = Math.floor(Date.now() / 1000)) {
  const signature = headers["x-signature"];
  const timestamp = headers["x-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string") return "missing x-signature or x-timestamp";
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return "timestamp outside the tolerance";
  const given = signature
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => /^[0-9a-f]{64}$/i.test(entry));
  if (given.length === 0) return "malformed x-signature";
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
    for (const candidate of given) matched = timingSafeEqual(expected, Buffer.from(candidate, "hex")) || matched;
  }
  return matched ? undefined : "no matching signature";
}

/** The flow for a call: stream it to this server's media WebSocket. */
export function flowFor(publicHost) {
  return { ...CallFlow.stream(`wss://${publicHost}${MEDIA_PATH}`, { sampleRate: "8k", chunkSize: 500 }), record: RECORD };
}

function pathOf(request) {
  try {
    return new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return undefined; // a request target such as `http://[` is no URL at all
  }
}

function send(response, status, body) {
  if (body === undefined) return response.writeHead(status).end();
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
}

/** Builds the request listener. `secrets`: HMAC keys to accept; `publicHost`: host of the wss:// URL (default: the Host header). */
export function createTelerHandler({ secrets, publicHost, log = () => {}, now = Date.now }) {
  if (!secrets?.length) throw new Error("at least one secret is required");
  const replies = new Map(); // call id (+ event) → { body, at }: the idempotency store, oldest first
  const remember = (key, body, nowMs) => {
    for (const [old, stored] of replies) {
      if (nowMs - stored.at <= DEDUP_SECONDS * 1000) break;
      replies.delete(old);
    }
    replies.set(key, { body, at: nowMs });
  };

  return (request, response) => {
    request.on("error", () => {}); // a client that resets mid-body is its own problem, not a crash
    const path = pathOf(request);
    if (path === undefined) return send(response, 400, { error: "bad request target" });
    if (path !== FLOW_PATH && path !== STATUS_PATH) return send(response, 404, { error: "not found" });
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
        respond(request, response, path, Buffer.concat(chunks));
      } catch {
        // A shape nobody expected: refuse it, stay up.
        if (!response.headersSent) send(response, 400, { error: "unreadable request" });
      }
    });
  };

  function respond(request, response, path, body) {
    const nowMs = now();
    const rejected = verifySignature(secrets, request.headers, body, Math.floor(nowMs / 1000));
    if (rejected) {
      log(`401 ${rejected}`);
      return send(response, 401, { error: "invalid signature" });
    }
    let parsed;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return send(response, 400, { error: "body is not JSON" });
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return send(response, 400, { error: "expected a JSON object" });
    const callId = typeof parsed.call_id === "string" ? parsed.call_id : "";
    if (path === STATUS_PATH) {
      const key = `${callId}:${String(parsed.event ?? "")}`;
      if (!replies.has(key)) {
        remember(key, undefined, nowMs);
        log(`204 status ${String(parsed.event ?? "?")} ${callId}`);
      }
      return send(response, 204, undefined);
    }
    if (!callId) {
      // Authentic but not a flow request this server knows: acknowledge without a flow.
      return send(response, 200, {});
    }
    const key = `flow:${callId}`;
    if (!replies.has(key)) remember(key, flowFor(publicHost ?? request.headers.host ?? "localhost"), nowMs);
    log(`200 flow ${callId}`);
    send(response, 200, replies.get(key).body);
  }
}

// ---- the media agent: Teler's socket (start, then base64 16-bit PCM "audio" both ways; "clear") ----

const SPEECH_LEVEL = 500;
const END_OF_SPEECH_MS = 300;

/** `ms` of a two-tone pattern as 16-bit little-endian PCM at `rate` (a real agent sends text-to-speech audio). */
function tone(ms, rate) {
  const samples = Math.round((ms * rate) / 1000);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    pcm.writeInt16LE(Math.round(4000 * Math.sin((2 * Math.PI * 220 * i) / rate) + 2000 * Math.sin((2 * Math.PI * 880 * i) / rate)), i * 2);
  return pcm;
}

function handleTelerStream(socket, log) {
  let rate = 8000;
  let started = false;
  let chunkId = 0;
  let speakingUntil = 0; // when our last reply stops playing, in socket time
  let heardMs = 0; // how long the caller has been talking
  let silentMs = 0;
  const say = (ms) => {
    socket.send(JSON.stringify({ type: "audio", audio_b64: tone(ms, rate).toString("base64"), chunk_id: ++chunkId }));
    speakingUntil = Date.now() + ms;
  };
  socket.on("message", (data, binary) => {
    if (binary) return;
    let message;
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    if (message?.type === "start" && !started) {
      started = true;
      const sampleRate = message.data?.sample_rate;
      if (sampleRate === 8000 || sampleRate === 16000) rate = sampleRate;
      log(`stream started for call ${String(message.call_id)}`);
      return say(400);
    }
    const audio = message?.data?.audio_b64;
    if (!started || message?.type !== "audio" || typeof audio !== "string") return;
    const pcm = Buffer.from(audio, "base64");
    const frameMs = (pcm.length / 2 / rate) * 1000;
    let loud = false;
    for (let offset = 0; offset + 1 < pcm.length; offset += 2) if (Math.abs(pcm.readInt16LE(offset)) > SPEECH_LEVEL) loud = true;
    if (loud) {
      // Barge-in: the caller talks over our reply, so stop it at once.
      if (heardMs === 0 && Date.now() < speakingUntil) {
        socket.send(JSON.stringify({ type: "clear" }));
        speakingUntil = 0;
      }
      heardMs += frameMs;
      silentMs = 0;
    } else if (heardMs > 0 && (silentMs += frameMs) >= END_OF_SPEECH_MS) {
      heardMs = 0;
      say(800);
    }
  });
  socket.on("error", (error) => log(`stream error: ${error.message}`));
}

/** Serves the media agent on MEDIA_PATH of the handler's node:http server (WebSocket upgrade). */
export function attachTelerMediaAgent(server, { log = () => {} } = {}) {
  const sockets = new WebSocketServer({ server, path: MEDIA_PATH, maxPayload: 256 * 1024 });
  sockets.on("connection", (socket) => handleTelerStream(socket, log));
  return sockets;
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createTelerServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  const server = createServer(
    // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createTelerHandler(options),
  );
  attachTelerMediaAgent(server, { log: options.log });
  return server;
}

// Run directly: node examples/teler-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secrets = (process.env.TELER_SECRET ?? "").split(/\s+/).filter(Boolean);
  if (secrets.length === 0) {
    console.error("teler-handler: set TELER_SECRET to the HMAC key");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("teler-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createTelerServer({
    secrets,
    publicHost: process.env.PUBLIC_HOST,
    log: (line) => console.log(line),
    requestTimeoutMs,
    headersTimeoutMs: requestTimeoutMs,
  });
  server.listen(port, host, () => console.log(`teler-handler listening on http://${host}:${server.address().port}${FLOW_PATH}`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
