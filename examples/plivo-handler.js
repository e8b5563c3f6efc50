#!/usr/bin/env node
/**
 * A Plivo Voice handler: a keypad-and-speech menu answered with XML built by the official `plivo` SDK's
 * XML builder, every request checked with plivo's validateV3Signature. Copy it as a starting point.
 * What it does right, and you should keep:
 *
 *  - verifies X-Plivo-Signature-V3 (with its nonce) over the URL Plivo called and the form parameters,
 *    with plivo.validateV3Signature, before acting on anything; accepts several auth tokens (rotation);
 *  - is idempotent: a retry of the same request (same method, path and body) gets the stored reply
 *    again, without acting twice;
 *  - answers the answer, GetInput and GetDigits requests with XML, and acks the hangup request (which
 *    comes to the answer URL when the application has no separate hangup URL);
 *  - builds action URLs from a configured public URL (behind a tunnel) and checks signatures against it.
 *
 * Run:  PLIVO_AUTH_TOKEN=... node examples/plivo-handler.js   (PORT, HOST, PUBLIC_URL, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/scripts/plivo-*.json --platform plivo --url http://127.0.0.1:3000/plivo/answer
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import plivo from "plivo";

export const ANSWER_PATH = "/plivo/answer";
export const INPUT_PATH = "/plivo/input";
const MAX_BODY_BYTES = 64 * 1024;
// V3 signatures carry no time: a retry or replay within this window gets the stored reply.
const DEDUP_SECONDS = 15 * 60;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const OPERATOR = "15550100999";

// ---- signature verification ----

/** Form parameters as validateV3Signature takes them: repeated names as arrays. */
function formParams(searchParams) {
  const params = {};
  for (const name of new Set(searchParams.keys())) {
    const values = searchParams.getAll(name);
    params[name] = values.length > 1 ? values : values[0];
  }
  return params;
}

/** Returns undefined when the request is authentic, or the reason it is not. */
export function verifyRequest(authTokens, method, url, headers, form) {
  const signature = headers["x-plivo-signature-v3"];
  const nonce = headers["x-plivo-signature-v3-nonce"];
  if (typeof signature !== "string" || typeof nonce !== "string") return "missing signature headers";
  const params = method === "POST" ? formParams(form) : {};
  for (const token of authTokens) {
    try {
      if (plivo.validateV3Signature(method, url, nonce, token, signature, params)) return undefined;
    } catch {
      return "unverifiable request";
    }
  }
  return "no matching signature";
}

// ---- the agent: Plivo XML ----

/** Listen for keys and speech, with the prompt inside so the caller can cut it short. */
function menuXml(base) {
  const response = new plivo.Response();
  const input = response.addGetInput({
    action: `${base}${INPUT_PATH}`,
    method: "POST",
    inputType: "dtmf speech",
    numDigits: "1",
    executionTimeout: "10",
    language: "en-US",
    hints: "appointment,billing,operator",
    redirect: "true",
  });
  input.addSpeak("Thanks for calling Bright Smile Dental. Press 1 for appointments, 2 for billing, or 0 for an operator. You can also tell me what you need.");
  // Nothing heard: GetInput falls through to here.
  response.addSpeak("Sorry, I didn't catch that.");
  response.addRedirect(`${base}${ANSWER_PATH}`, { method: "POST" });
  return response.toXML();
}

function say(text, then) {
  const response = new plivo.Response();
  response.addSpeak(text);
  then?.(response);
  return response.toXML();
}

const listenForSpeech = (base) => (response) => {
  const input = response.addGetInput({ action: `${base}${INPUT_PATH}`, method: "POST", inputType: "speech", executionTimeout: "10", language: "en-US" });
  input.addSpeak("I'm listening.");
};
const dial = (response) => response.addDial({ timeout: "30" }).addNumber(OPERATOR);

function answerDigits(base, digits) {
  switch (digits) {
    case "1":
      return say("Appointments. Which day would you like to come in?", listenForSpeech(base));
    case "2":
      return say("For billing: your balance is zero. Press 0 to talk to our billing team.", (response) => {
        response.addGetDigits({ action: `${base}${INPUT_PATH}`, method: "POST", numDigits: "1", timeout: "5" });
      });
    case "0":
      return say("Transferring you to an operator.", dial);
    default:
      return menuXml(base);
  }
}

function answerSpeech(base, text) {
  const said = text.toLowerCase();
  if (/\b(human|agent|person|operator)\b/.test(said)) return say("Connecting you to a member of our team.", dial);
  if (/\b(appointment|book|reschedule)\b/.test(said)) return say("Sure. Which day would you like to come in?", listenForSpeech(base));
  if (/\b(monday|tuesday|wednesday|thursday|friday|saturday)\b/.test(said)) return say("Done, you're booked. Is there anything else?", listenForSpeech(base));
  if (/\b(no|bye|goodbye|that's all)\b/.test(said)) return say("Thanks for calling. Goodbye!", (response) => response.addHangup());
  return say("Sorry, could you say that again?", listenForSpeech(base));
}

/** The XML for a GetInput or GetDigits result. */
export function xmlForInput(base, params) {
  const digits = params.get("Digits") ?? "";
  if (digits) return answerDigits(base, digits);
  const speech = params.get("Speech") ?? "";
  if (speech) return answerSpeech(base, speech);
  return menuXml(base);
}

// ---- HTTP ----

function send(response, status, body, contentType = "application/xml") {
  if (body === undefined) return response.writeHead(status).end();
  const bytes = Buffer.from(body);
  response.writeHead(status, { "content-type": contentType, "content-length": bytes.length }).end(bytes);
}

function pathOf(request) {
  try {
    return new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return undefined; // a request target such as `http://[` is no URL at all
  }
}

/**
 * Builds the request listener. `authTokens`: the Plivo auth tokens to accept. `publicUrl`: the origin Plivo
 * calls (the URLs it signs and the action URLs given back); default: the request's Host. `log`: one line per
 * request. `now`: the clock in ms (tests).
 */
export function createPlivoHandler({ authTokens, publicUrl, log = () => {}, now = Date.now }) {
  if (!authTokens?.length) throw new Error("at least one Plivo auth token is required");
  // method+path+bytes → { status, body, at }: the idempotency store. V3 signatures never expire, so a replay
  // always passes the signature check: within DEDUP_SECONDS it gets the stored reply instead of acting again.
  const replies = new Map();
  const forgetOld = (nowMs) => {
    for (const [key, reply] of replies) {
      if (nowMs - reply.at <= DEDUP_SECONDS * 1000) break; // oldest first: the rest are younger
      replies.delete(key);
    }
  };

  const handle = (request, response, body) => {
    const nowMs = now();
    const method = request.method ?? "GET";
    const base = publicUrl ?? `http://${request.headers.host ?? "localhost"}`;
    const url = new URL(request.url ?? "/", base);
    if (url.pathname !== ANSWER_PATH && url.pathname !== INPUT_PATH) return send(response, 404, "not found", "text/plain");
    if (method !== "GET" && method !== "POST") return send(response, 405, "use GET or POST", "text/plain");
    // V3 signs form parameters, not bytes: any other body would be unauthenticated.
    if (method === "POST" && !/^application\/x-www-form-urlencoded\b/i.test(request.headers["content-type"] ?? ""))
      return send(response, 415, "expected a form", "text/plain");
    const form = method === "POST" ? new URLSearchParams(body.toString("utf8")) : url.searchParams;
    const rejected = verifyRequest(authTokens, method, url.href, request.headers, form);
    if (rejected) {
      log(`401 ${url.pathname}: ${rejected}`);
      return send(response, 401, "invalid signature", "text/plain");
    }
    const key = createHash("sha256").update(`${method} ${url.pathname}${url.search}\n`).update(body).digest("hex");
    const stored = replies.get(key);
    if (stored) {
      log(`${stored.status} ${url.pathname} (duplicate: stored reply)`);
      return send(response, stored.status, stored.body);
    }
    let reply;
    if (form.get("Event") === "Hangup" || form.has("HangupCause"))
      reply = { status: 200, body: undefined }; // the call ended: nothing to say
    else if (url.pathname === INPUT_PATH) reply = { status: 200, body: xmlForInput(base, form) };
    else reply = { status: 200, body: menuXml(base) };
    forgetOld(nowMs);
    replies.set(key, { ...reply, at: nowMs });
    log(`${reply.status} ${url.pathname}${form.get("Event") ? ` ${form.get("Event")}` : ""}`);
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
        send(response, 413, "body too large", "text/plain");
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => {
      if (response.headersSent) return;
      try {
        handle(request, response, Buffer.concat(chunks));
      } catch (error) {
        log(`500 ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) send(response, 500, "internal error", "text/plain");
      }
    });
  };
}

/**
 * The HTTP server around the handler, with timeouts: a body that trickles in is cut off after
 * `requestTimeoutMs` (Node's default is 300 s), headers after `headersTimeoutMs`.
 */
export function createPlivoServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  // Node checks the timeouts every connectionsCheckingInterval ms (default 30 s): check often enough.
  return createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createPlivoHandler(options),
  );
}

// Run directly: node examples/plivo-handler.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const authTokens = (process.env.PLIVO_AUTH_TOKEN ?? "").split(/\s+/).filter(Boolean);
  if (authTokens.length === 0) {
    console.error("plivo-handler: set PLIVO_AUTH_TOKEN to your Plivo auth token");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("plivo-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createPlivoServer({
    authTokens,
    publicUrl: process.env.PUBLIC_URL,
    log: (line) => console.log(line),
    requestTimeoutMs,
    headersTimeoutMs: requestTimeoutMs,
  });
  server.listen(port, host, () => console.log(`plivo-handler: answer URL http://${host}:${server.address().port}${ANSWER_PATH}`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
