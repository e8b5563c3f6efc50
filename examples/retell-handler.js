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
 *  - never crashes on hostile input.
 *
 * Run:  RETELL_API_KEY=key_... node examples/retell-handler.js   (PORT, HOST optional)
 * Then: vwh simulate fixtures/scripts/retell-*.json --platform retell --url http://127.0.0.1:3000/retell/webhook
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { verify } from "retell-sdk";

export const WEBHOOK_PATH = "/retell/webhook";
const MAX_BODY_BYTES = 1024 * 1024;
const DEDUP_ENTRIES = 10_000;
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

function send(response, status, body) {
  if (body === undefined) return response.writeHead(status).end();
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
}

/** Builds the request listener. `apiKeys`: the Retell API keys with the webhook badge (several while rotating). */
export function createRetellHandler({ apiKeys, log = () => {} }) {
  if (!apiKeys?.length) throw new Error("at least one Retell API key is required");
  const replies = new Map();

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
    const reply = replyFor(parsed);
    replies.set(key, reply);
    if (replies.size > DEDUP_ENTRIES) replies.delete(replies.keys().next().value);
    log(`${reply.status} ${parsed.event ?? parsed.name}`);
    send(response, reply.status, reply.body);
  };

  return (request, response) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== WEBHOOK_PATH) return send(response, 404, { error: "not found" });
    if (request.method !== "POST") return send(response, 405, { error: "use POST" });
    const chunks = [];
    let size = 0;
    request.on("error", () => {});
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

// Run directly: node examples/retell-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apiKeys = (process.env.RETELL_API_KEY ?? "").split(/\s+/).filter(Boolean);
  if (apiKeys.length === 0) {
    console.error("retell-handler: set RETELL_API_KEY to the API key with the webhook badge");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const server = createServer(createRetellHandler({ apiKeys, log: (line) => console.log(line) }));
  server.listen(port, host, () => console.log(`retell-handler listening on http://${host}:${server.address().port}${WEBHOOK_PATH}`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
