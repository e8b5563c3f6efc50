#!/usr/bin/env node
/**
 * A Vonage Voice API handler: a keypad-and-speech menu answered with NCCOs built by the official
 * @vonage/voice builders, every callback checked with @vonage/jwt. Copy it as a starting point.
 * What it does right, and you should keep:
 *
 *  - verifies the signed callback (Authorization: Bearer JWT, HS256 with your signature secret) with
 *    @vonage/jwt's verifySignature, and then what that function does not check: that payload_hash is the
 *    SHA-256 of the body (of the query for a GET) — otherwise a captured token could carry any body —
 *    and that iat is recent (replays);
 *  - is idempotent: a retry of the same webhook (same method, path and bytes) gets the stored reply
 *    again, without acting twice;
 *  - answers the answer and input webhooks with an NCCO (JSON array), and acks status events with 204;
 *  - builds absolute eventUrls from a configured base URL (your public URL behind a tunnel).
 *
 * Run:  VONAGE_SIGNATURE_SECRET=... node examples/vonage-handler.js   (PORT, HOST, PUBLIC_URL, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/scripts/vonage-*.json --url http://127.0.0.1:3000/webhooks/answer
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { verifySignature } from "@vonage/jwt";
import { Connect, Input, NCCOBuilder, Talk } from "@vonage/voice";

export const ANSWER_PATH = "/webhooks/answer";
export const EVENT_PATH = "/webhooks/event";
export const INPUT_PATH = "/webhooks/input";
const MAX_BODY_BYTES = 64 * 1024;
const TOLERANCE_SECONDS = 300;
// A request is remembered at least as long as a replay of it could pass the iat check.
const DEDUP_SECONDS = TOLERANCE_SECONDS + 60;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const OPERATOR = "15550100999";

// ---- signature verification ----

function claimsOf(token) {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    return claims && typeof claims === "object" ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** What payload_hash covers: the raw body, or for a GET the query as a JSON object. */
function payloadHash(method, url, body) {
  const hashed = method === "GET" ? JSON.stringify(Object.fromEntries(url.searchParams)) : body;
  return createHash("sha256").update(hashed).digest("hex");
}

/** Returns undefined when the request is authentic, or the reason it is not. */
export function verifyRequest(secrets, method, url, headers, body, nowSeconds = Math.floor(Date.now() / 1000)) {
  const token = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
  if (!token) return "missing bearer token";
  if (!secrets.some((secret) => verifySignature(token, secret))) return "invalid token signature";
  const claims = claimsOf(token);
  if (typeof claims?.iat !== "number" || Math.abs(nowSeconds - claims.iat) > TOLERANCE_SECONDS) return "token iat outside the tolerance";
  if (claims.payload_hash !== payloadHash(method, url, body)) return "payload_hash does not match the request";
  return undefined;
}

// ---- the agent: NCCOs ----

const ncco = (...actions) => {
  const builder = new NCCOBuilder();
  for (const action of actions) builder.addAction(action);
  return builder.build();
};

/** Listen for keys and speech; the result goes to the input webhook. */
const listen = (base, { dtmf = true, speech = true } = {}) =>
  new Input(
    dtmf ? { maxDigits: 1, timeOut: 5 } : undefined,
    speech ? { language: "en-US", endOnSilence: 1, context: ["appointment", "billing", "operator"] } : undefined,
    `${base}${INPUT_PATH}`,
  );

export function menu(base) {
  return ncco(
    new Talk(
      "Thanks for calling Bright Smile Dental. Press 1 for appointments, 2 for billing, or 0 for an operator. You can also tell me what you need.",
      true,
    ),
    listen(base),
  );
}

function transfer(text) {
  return ncco(new Talk(text), new Connect({ type: "phone", number: OPERATOR }));
}

function answerDigits(base, digits) {
  switch (digits) {
    case "1":
      return ncco(new Talk("Appointments. Which day would you like to come in?"), listen(base, { dtmf: false }));
    case "2":
      return ncco(new Talk("For billing: your balance is zero. Press 0 to talk to our billing team."), listen(base, { speech: false }));
    case "0":
      return transfer("Transferring you to an operator.");
    default:
      return menu(base);
  }
}

function answerSpeech(base, text) {
  const said = text.toLowerCase();
  if (/\b(human|agent|person|operator)\b/.test(said)) return transfer("Connecting you to a member of our team.");
  if (/\b(appointment|book|reschedule)\b/.test(said)) return ncco(new Talk("Sure. Which day would you like to come in?"), listen(base, { dtmf: false }));
  if (/\b(monday|tuesday|wednesday|thursday|friday|saturday)\b/.test(said)) return ncco(new Talk(`Done, you're booked. Is there anything else?`), listen(base));
  if (/\b(no|bye|goodbye|that's all)\b/.test(said)) return ncco(new Talk("Thanks for calling. Goodbye!")); // the end of the NCCO hangs up
  return ncco(new Talk("Sorry, I didn't catch that. Could you say it again?"), listen(base));
}

/** The NCCO for an input result: keys first, then the best speech result; nothing heard reprompts. */
export function nccoForInput(base, result) {
  const digits = typeof result?.dtmf?.digits === "string" ? result.dtmf.digits : typeof result?.dtmf === "string" ? result.dtmf : "";
  if (digits) return answerDigits(base, digits);
  const results = Array.isArray(result?.speech?.results) ? result.speech.results : [];
  const text = typeof results[0]?.text === "string" ? results[0].text : "";
  if (text) return answerSpeech(base, text);
  return ncco(new Talk("Sorry, I didn't hear anything."), listen(base));
}

// ---- HTTP ----

function send(response, status, body) {
  if (body === undefined) return response.writeHead(status).end();
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
 * Builds the request listener. `signatureSecrets`: the Vonage signature secrets to accept (several during
 * rotation). `publicUrl`: the origin Vonage reaches you at, for eventUrls (default: the request's Host).
 * `log`: one line per request. `now`: the clock in ms (tests).
 */
export function createVonageHandler({ signatureSecrets, publicUrl, log = () => {}, now = Date.now }) {
  if (!signatureSecrets?.length) throw new Error("at least one Vonage signature secret is required");
  // method+path+bytes → { status, body, at }: the idempotency store. Entries expire by age, never by count, so a
  // flood cannot push out a request whose replay would still pass the iat check.
  const replies = new Map();
  const forgetOld = (nowMs) => {
    for (const [key, reply] of replies) {
      if (nowMs - reply.at <= DEDUP_SECONDS * 1000) break; // oldest first: the rest are younger
      replies.delete(key);
    }
  };

  const handle = (request, response, body) => {
    const nowMs = now();
    const url = new URL(request.url ?? "/", "http://localhost");
    const method = request.method ?? "GET";
    if (![ANSWER_PATH, EVENT_PATH, INPUT_PATH].includes(url.pathname)) return send(response, 404, { error: "not found" });
    if (method !== "GET" && method !== "POST") return send(response, 405, { error: "use GET or POST" });
    const rejected = verifyRequest(signatureSecrets, method, url, request.headers, body, Math.floor(nowMs / 1000));
    if (rejected) {
      log(`401 ${url.pathname}: ${rejected}`);
      return send(response, 401, { error: "invalid signature" });
    }
    let fields = Object.fromEntries(url.searchParams);
    if (method === "POST") {
      try {
        fields = JSON.parse(body.toString("utf8"));
      } catch {
        return send(response, 400, { error: "body is not JSON" });
      }
      if (!fields || typeof fields !== "object" || Array.isArray(fields)) return send(response, 400, { error: "expected a JSON object" });
    }
    const key = createHash("sha256").update(`${method} ${url.pathname}${url.search}\n`).update(body).digest("hex");
    const stored = replies.get(key);
    if (stored) {
      log(`${stored.status} ${url.pathname} (duplicate: stored reply)`);
      return send(response, stored.status, stored.body);
    }
    const base = publicUrl ?? `http://${request.headers.host ?? "localhost"}`;
    let reply;
    if (url.pathname === ANSWER_PATH) reply = { status: 200, body: menu(base) };
    else if (url.pathname === INPUT_PATH) reply = { status: 200, body: nccoForInput(base, fields) };
    else reply = { status: 204, body: undefined }; // status events: started, ringing, answered, completed …
    forgetOld(nowMs);
    replies.set(key, { ...reply, at: nowMs });
    log(`${reply.status} ${url.pathname}${typeof fields.status === "string" ? ` ${fields.status}` : ""}`);
    send(response, reply.status, reply.body);
  };

  return (request, response) => {
    request.on("error", () => {}); // a client that resets mid-body is its own problem, not a crash
    if (pathOf(request) === undefined) return send(response, 400, "bad request target", "text/plain");
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
        handle(request, response, Buffer.concat(chunks));
      } catch (error) {
        log(`500 ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) send(response, 500, { error: "internal error" });
      }
    });
  };
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createVonageServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
  return createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createVonageHandler(options),
  );
}

// Run directly: node examples/vonage-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const signatureSecrets = (process.env.VONAGE_SIGNATURE_SECRET ?? "").split(/\s+/).filter(Boolean);
  if (signatureSecrets.length === 0) {
    console.error("vonage-handler: set VONAGE_SIGNATURE_SECRET to your account's signature secret");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("vonage-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createVonageServer({
    signatureSecrets,
    publicUrl: process.env.PUBLIC_URL,
    log: (line) => console.log(line),
    requestTimeoutMs,
    headersTimeoutMs: requestTimeoutMs,
  });
  server.listen(port, host, () => console.log(`vonage-handler: answer URL http://${host}:${server.address().port}${ANSWER_PATH}, event URL …${EVENT_PATH}`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
