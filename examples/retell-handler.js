#!/usr/bin/env node
/**
 * A Retell AI webhook handler (node:http, no framework) using retell-sdk's own verify. What it does
 * right, and you should keep:
 *
 *  - verifies x-retell-signature with `await verify(rawBody, apiKey, signature)` — over the RAW body as
 *    received, never JSON.stringify(req.body) (other bytes), and AWAITED: since retell-sdk 5 verify
 *    returns a Promise, and `if (!verify(...))` lets every request through;
 *  - answers call_inbound with only the fields Retell reads ({call_inbound:{override_agent_id?,
 *    dynamic_variables?, metadata?, agent_override?}}), well within the 10 s Retell waits;
 *  - answers custom functions with a short JSON result (Retell cuts results at 15 000 characters);
 *  - is idempotent: Retell retries (call_inbound up to 3 times, functions twice), so each request's
 *    reply is stored by its key (call_inbound.call_id, call id + event, or the function body) and sent
 *    again instead of doing the work twice;
 *  - never crashes on hostile input, and cuts off slow requests (vwh's test suite throws an attack set at it).
 *
 * Run:  RETELL_API_KEY=key_... node examples/retell-handler.js   (PORT, HOST, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/scripts/retell-*.json --platform retell --url http://127.0.0.1:3000/retell/webhook
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { verify } from "retell-sdk";

export const WEBHOOK_PATH = "/retell/webhook";
const MAX_BODY_BYTES = 1024 * 1024;
// Retell signs with a 5-minute window: a request is remembered a little longer than a replay of it could pass.
const DEDUP_SECONDS = 5 * 60 + 60;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const SUPPORT_AGENT = "agent_5a0f4b1c9d2e3f40a1b2c3d4";

/** Whether the request is authentic: retell-sdk's verify over the raw body, for any of the keys. */
export async function isAuthentic(apiKeys, body, signature) {
  if (typeof signature !== "string" || signature === "") return false;
  const raw = body.toString("utf8");
  for (const key of apiKeys) if (await verify(raw, key, signature)) return true;
  return false;
}

const orders = { 4417: { status: "shipped", eta: "Thursday" }, 5120: { status: "processing", eta: "next week" } };

function runFunction(name, args) {
  switch (name) {
    case "lookup_order": {
      const order = orders[String(args?.order_id ?? "")];
      return order ? { order_id: String(args.order_id), ...order } : { error: `no order ${String(args?.order_id ?? "")}` };
    }
    default:
      return { error: `unknown function ${name}` };
  }
}

/** The reply to one request: { status, body } (body undefined for a bare 204). */
export function replyFor(request) {
  if (request.event === "call_inbound") {
    const inbound = request.call_inbound ?? {};
    // Callers to the support line get the support agent; everyone gets their number as a variable.
    return {
      status: 200,
      body: {
        call_inbound: {
          ...(inbound.to_number === "+15550100200" && { override_agent_id: SUPPORT_AGENT }),
          dynamic_variables: { caller_number: String(inbound.from_number ?? "") },
          metadata: { source: "retell-handler" },
        },
      },
    };
  }
  if (typeof request.name === "string" && request.args !== undefined) return { status: 200, body: runFunction(request.name, request.args) };
  return { status: 204, body: undefined }; // call_started, call_ended, call_analyzed …: store, then ack
}

function dedupKey(request, body) {
  if (request.event === "call_inbound") return `inbound:${request.call_inbound?.call_id ?? createHash("sha256").update(body).digest("hex")}`;
  if (typeof request.event === "string") return `${request.call?.call_id ?? ""}:${request.event}`;
  return `function:${createHash("sha256").update(body).digest("hex")}`;
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

/** Builds the request listener. `apiKeys`: the Retell API keys with the webhook badge (several while rotating). */
export function createRetellHandler({ apiKeys, log = () => {}, now = Date.now }) {
  if (!apiKeys?.length) throw new Error("at least one Retell API key is required");
  const replies = new Map(); // dedup key → { status, body, at }, oldest first
  const forgetOld = (nowMs) => {
    for (const [key, stored] of replies) {
      if (nowMs - stored.at <= DEDUP_SECONDS * 1000) break;
      replies.delete(key);
    }
  };

  const handle = async (request, response, body) => {
    if (!(await isAuthentic(apiKeys, body, request.headers["x-retell-signature"]))) {
      log("401 invalid x-retell-signature");
      return send(response, 401, { error: "invalid signature" });
    }
    let parsed;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return send(response, 400, { error: "body is not JSON" });
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return send(response, 400, { error: "expected a JSON object" });
    const key = dedupKey(parsed, body);
    const stored = replies.get(key);
    if (stored) {
      log(`${stored.status} ${parsed.event ?? parsed.name} (repeat: stored reply)`);
      return send(response, stored.status, stored.body);
    }
    const reply = { ...replyFor(parsed), at: now() };
    forgetOld(reply.at);
    replies.set(key, reply);
    log(`${reply.status} ${parsed.event ?? parsed.name}`);
    send(response, reply.status, reply.body);
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
      handle(request, response, Buffer.concat(chunks)).catch(() => {
        if (!response.headersSent) send(response, 400, { error: "unreadable request" });
      });
    });
  };
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createRetellServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  return createServer(
    // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createRetellHandler(options),
  );
}

// Run directly: node examples/retell-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apiKeys = (process.env.RETELL_API_KEY ?? "").split(/\s+/).filter(Boolean);
  if (apiKeys.length === 0) {
    console.error("retell-handler: set RETELL_API_KEY to the API key with the webhook badge");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("retell-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createRetellServer({ apiKeys, log: (line) => console.log(line), requestTimeoutMs, headersTimeoutMs: requestTimeoutMs });
  server.listen(port, host, () => console.log(`retell-handler listening on http://${host}:${server.address().port}${WEBHOOK_PATH}`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
