#!/usr/bin/env node
/**
 * A Vapi server URL handler (node:http, no framework), typed with @vapi-ai/server-sdk's types. What it
 * does right, and you should keep:
 *
 *  - authenticates before parsing: X-Vapi-Secret or a bearer token compared in constant time, or Vapi's
 *    HMAC plan (x-signature = hex HMAC-SHA256 of "{timestamp}.{raw body}", x-timestamp within 5 min)
 *    computed over the RAW body bytes — never over JSON.stringify(parsed), which is other bytes;
 *  - answers each message type the way Vapi reads it: assistant-request with exactly one assistant
 *    choice, tool-calls with one result per toolCallId it was sent, transfer-destination-request with a
 *    destination, and a plain 200 for the informational messages;
 *  - is idempotent: a repeated tool call (same toolCallId) or message gets the stored reply again, so a
 *    booking is never made twice;
 *  - never crashes on hostile input: bad request targets, bad JSON, wrong shapes and huge bodies get a
 *    4xx, and slow requests are cut off (vwh's test suite throws an attack set at it).
 *
 * Run:  VAPI_SECRET=... node examples/vapi-handler.js   (VAPI_AUTH=secret|bearer|hmac, PORT, HOST, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/scripts/vapi-*.json --url http://127.0.0.1:3000/vapi/server
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

/** @typedef {import("@vapi-ai/server-sdk").Vapi.ServerMessageToolCalls} ToolCallsMessage */
/** @typedef {import("@vapi-ai/server-sdk").Vapi.ToolCallResult} ToolCallResult */
/** @typedef {import("@vapi-ai/server-sdk").Vapi.ServerMessageResponseAssistantRequest} AssistantRequestResponse */
/** @typedef {import("@vapi-ai/server-sdk").Vapi.ServerMessageResponseTransferDestinationRequest} TransferDestinationResponse */

export const WEBHOOK_PATH = "/vapi/server";
const MAX_BODY_BYTES = 1024 * 1024;
const TOLERANCE_SECONDS = 300;
// A message is remembered this long: Vapi retries within seconds, and an HMAC replay passes only within
// the tolerance. Ids expire by age, never by count, so a flood cannot push out one that still matters.
const DEDUP_SECONDS = TOLERANCE_SECONDS + 60;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const ASSISTANT_ID = "5c1a8d0e-7c3b-4d5e-9f6a-0b1c2d3e4f50";
const OPERATOR = "+15550100999";

// ---- authentication ----

const same = (given, expected) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Returns undefined when the request is authentic, or the reason it is not. */
export function authenticate(auth, secrets, headers, body, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (auth === "secret" || auth === "bearer") {
    const header = auth === "secret" ? headers["x-vapi-secret"] : headers["authorization"];
    if (typeof header !== "string" || header === "") return `missing ${auth === "secret" ? "X-Vapi-Secret" : "Authorization"}`;
    const token = auth === "bearer" ? header.replace(/^Bearer\s+/i, "") : header;
    if (auth === "bearer" && token === header) return "not a bearer token";
    // Compare against every secret, so the time taken says nothing about which one matched.
    let matched = false;
    for (const secret of secrets) matched = same(token, secret) || matched;
    return matched ? undefined : "wrong secret";
  }
  const signature = headers["x-signature"];
  const timestamp = headers["x-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string") return "missing x-signature or x-timestamp";
  if (!/^\d+$/.test(timestamp)) return "invalid x-timestamp";
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return "timestamp outside the tolerance";
  // One signature, or several comma-separated while a key is being rotated.
  const given = signature
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => /^[0-9a-f]{64}$/i.test(entry));
  if (given.length === 0) return "malformed x-signature";
  let matched = false;
  for (const secret of secrets) {
    // The raw bytes as received: Vapi signs those, not a re-serialisation of the parsed JSON.
    const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
    for (const candidate of given) matched = timingSafeEqual(expected, Buffer.from(candidate, "hex")) || matched;
  }
  return matched ? undefined : "no matching signature";
}

// ---- the server's answers ----

/** Tool arguments in whichever shape Vapi sent them (docs/platforms/vapi.md): a JSON string or an object. */
export function toolArguments(toolCall) {
  const raw = toolCall?.function?.arguments ?? toolCall?.arguments ?? toolCall?.parameters ?? {};
  if (typeof raw !== "string") return raw && typeof raw === "object" ? raw : {};
  try {
    const parsed = JSON.parse(raw);
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

let bookings = 0;

function runTool(name, args) {
  switch (name) {
    case "check_availability": {
      const day = String(args.day ?? "tomorrow");
      return { result: JSON.stringify({ day, slots: ["14:00", "15:30", "16:15"] }) };
    }
    case "book_appointment": {
      bookings += 1;
      return { result: JSON.stringify({ confirmation: `BSD-${String(1000 + bookings)}`, day: args.day ?? null, time: args.time ?? null }) };
    }
    default:
      return { error: `unknown tool ${name}` };
  }
}

/**
 * The reply to one message, or undefined for informational ones (any 2xx will do).
 * @param {ToolCallsMessage | Record<string, any>} message
 */
export function replyFor(message) {
  switch (message.type) {
    case "assistant-request":
      /** @type {AssistantRequestResponse} */
      return { assistantId: ASSISTANT_ID, assistantOverrides: { variableValues: { customerNumber: message.customer?.number ?? "" } } };
    case "tool-calls": {
      const calls = Array.isArray(message.toolCallList) ? message.toolCallList : [];
      /** @type {ToolCallResult[]} */
      const results = calls
        .filter((call) => typeof call?.id === "string")
        .map((call) => {
          const name = String(call.function?.name ?? call.name ?? "");
          return { toolCallId: call.id, name, ...runTool(name, toolArguments(call)) };
        });
      return { results };
    }
    case "transfer-destination-request":
      /** @type {TransferDestinationResponse} */
      return { destination: { type: "number", number: OPERATOR }, message: { type: "request-start", message: "Connecting you to a member of our team." } };
    case "knowledge-base-request":
      return { documents: [{ content: "Bright Smile Dental is open Monday to Friday, 8 AM to 6 PM.", similarity: 0.92 }] };
    default:
      return undefined;
  }
}

/** The dedup key: the tool call's id for tool-calls, else call id + type + timestamp (Vapi sends no message id). */
function dedupKey(message) {
  const toolCallId = Array.isArray(message.toolCallList) ? message.toolCallList[0]?.id : undefined;
  if (typeof toolCallId === "string") return `tool:${toolCallId}`;
  return `${message.call?.id ?? ""}:${message.type}:${message.timestamp ?? ""}`;
}

// ---- HTTP ----

function pathOf(request) {
  try {
    return new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return undefined; // a request target such as `http://[` is no URL at all
  }
}

function send(response, status, body) {
  const bytes = Buffer.from(JSON.stringify(body ?? {}));
  response.writeHead(status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
}

/**
 * Builds the request listener. `secrets`: the Vapi secrets (or bearer tokens, or HMAC keys) to accept;
 * `auth`: "secret" (X-Vapi-Secret, default), "bearer" or "hmac"; `log`: one line per request.
 */
export function createVapiHandler({ secrets, auth = "secret", log = () => {}, now = Date.now }) {
  if (!secrets?.length) throw new Error("at least one secret is required");
  if (!["secret", "bearer", "hmac"].includes(auth)) throw new Error(`auth must be secret, bearer or hmac, not ${auth}`);
  const replies = new Map(); // dedup key → { body, at }: the idempotency store, oldest first
  const forgetOld = (nowMs) => {
    for (const [key, stored] of replies) {
      if (nowMs - stored.at <= DEDUP_SECONDS * 1000) break;
      replies.delete(key);
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
        respond(request, response, Buffer.concat(chunks));
      } catch {
        // A shape nobody expected (a toString that is not a function, say): refuse it, stay up.
        if (!response.headersSent) send(response, 400, { error: "unreadable message" });
      }
    });
  };

  function respond(request, response, body) {
    const nowMs = now();
    const rejected = authenticate(auth, secrets, request.headers, body, Math.floor(nowMs / 1000));
    if (rejected) {
      log(`401 ${rejected}`);
      return send(response, 401, { error: "unauthorized" });
    }
    let parsed;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return send(response, 400, { error: "body is not JSON" });
    }
    const message = parsed?.message;
    // Authentic but not a message this server knows: acknowledge, as for any informational message.
    if (!message || typeof message !== "object" || typeof message.type !== "string") return send(response, 200, {});
    const key = dedupKey(message);
    const stored = replies.get(key);
    if (stored) {
      log(`200 ${message.type} (repeat: stored reply)`);
      return send(response, 200, stored.body);
    }
    const reply = replyFor(message) ?? {};
    forgetOld(nowMs);
    replies.set(key, { body: reply, at: nowMs });
    log(`200 ${message.type}`);
    send(response, 200, reply);
  }
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createVapiServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  return createServer(
    // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createVapiHandler(options),
  );
}

// Run directly: node examples/vapi-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secrets = (process.env.VAPI_SECRET ?? "").split(/\s+/).filter(Boolean);
  if (secrets.length === 0) {
    console.error("vapi-handler: set VAPI_SECRET to the server URL secret");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("vapi-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createVapiServer({
    secrets,
    auth: process.env.VAPI_AUTH ?? "secret",
    log: (line) => console.log(line),
    requestTimeoutMs,
    headersTimeoutMs: requestTimeoutMs,
  });
  server.listen(port, host, () => console.log(`vapi-handler listening on http://${host}:${server.address().port}${WEBHOOK_PATH}`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
