#!/usr/bin/env node
/**
 * A Twilio voice IVR handler written the way Twilio recommends, with the official `twilio` package and
 * node:http only. Copy it as the starting point of your own. What it does right, and you should keep:
 *
 *  - checks X-Twilio-Signature with twilio.validateRequest against the PUBLIC URL Twilio calls (the
 *    tunnel's https://…ngrok.app, not http://localhost:3000): behind a tunnel or proxy the Host header is
 *    not what Twilio signed, which is the most common reason a Twilio handler answers 403;
 *  - builds every reply with twilio.twiml.VoiceResponse, so the TwiML is well-formed and escaped;
 *  - is idempotent: a retry of a request (same I-Twilio-Idempotency-Token) gets the stored reply again
 *    without running its side effects twice;
 *  - keeps per-call state where Twilio keeps it (a cookie: Twilio sends a call's cookies back on its
 *    next requests), never crashes on hostile input, and refuses oversized bodies.
 *
 * Run:  TWILIO_AUTH_TOKEN=... PUBLIC_URL=https://abc.ngrok.app node examples/twilio-handler.js   (PORT, HOST, REQUEST_TIMEOUT_MS optional)
 * Then: vwh simulate fixtures/scripts/twilio-*.json --url http://127.0.0.1:3000/twilio/voice \
 *         --public-url https://abc.ngrok.app/twilio/voice --secret "$TWILIO_AUTH_TOKEN"
 */
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import twilio from "twilio";

const { VoiceResponse } = twilio.twiml;

export const VOICE_PATH = "/twilio/voice";
const MAX_BODY_BYTES = 64 * 1024;
const REPLAY_ENTRIES = 10_000;
export const OPERATOR = "+15550100999";
const MAX_NO_INPUT = 2;
// A request (headers and body) must arrive within this; slow bodies are cut off, not waited on for minutes.
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;

// ---- the IVR: one function per URL, each returning TwiML ----

function menu(twiml) {
  const gather = twiml.gather({
    input: ["dtmf", "speech"],
    numDigits: 1,
    action: "/twilio/menu",
    timeout: 5,
    speechTimeout: "auto",
    hints: "appointments, billing, operator",
  });
  gather.say("Thanks for calling Bright Smile Dental. Press 1 for appointments, 2 for billing, or 0 for an operator. You can also say what you need.");
}

/** The first request of a call, and every return to the main menu. */
function voice(_params, state) {
  const twiml = new VoiceResponse();
  menu(twiml);
  // Gather timed out: Twilio goes on with the next verb.
  twiml.redirect({ method: "POST" }, "/twilio/no-input");
  return { twiml, state };
}

function noInput(_params, state) {
  const twiml = new VoiceResponse();
  const misses = state.misses + 1;
  if (misses >= MAX_NO_INPUT) {
    twiml.say("We did not hear anything. Please call again later. Goodbye.");
    twiml.hangup();
    return { twiml, state: { ...state, misses } };
  }
  twiml.say("Sorry, we did not get that.");
  menu(twiml);
  twiml.redirect({ method: "POST" }, "/twilio/no-input");
  return { twiml, state: { ...state, misses } };
}

function choice(params) {
  const digits = params.Digits ?? "";
  const said = (params.SpeechResult ?? "").toLowerCase();
  if (digits === "1" || /\b(appointment|book|schedule)/.test(said)) return "appointments";
  if (digits === "2" || /\b(bill|billing|payment|invoice)/.test(said)) return "billing";
  if (digits === "0" || /\b(operator|person|human|someone|agent)\b/.test(said)) return "operator";
  return undefined;
}

function menuChoice(params, state) {
  const twiml = new VoiceResponse();
  switch (choice(params)) {
    case "appointments":
      twiml.say("Appointments.");
      twiml.redirect({ method: "POST" }, "/twilio/appointments");
      break;
    case "billing":
      twiml.say("For billing questions, our team will call you back within one business day. Goodbye.");
      twiml.hangup();
      break;
    case "operator":
      twiml.say("Connecting you to a member of our team.");
      twiml.redirect({ method: "POST" }, "/twilio/operator");
      break;
    default:
      twiml.say("Sorry, that is not an option.");
      twiml.redirect({ method: "POST" }, VOICE_PATH);
  }
  return { twiml, state: { ...state, misses: 0 } };
}

function appointments(_params, state) {
  const twiml = new VoiceResponse();
  twiml.gather({ input: ["speech"], action: "/twilio/appointments/booked", speechTimeout: "auto" }).say("What day would you like to come in?");
  twiml.redirect({ method: "POST" }, VOICE_PATH);
  return { twiml, state };
}

const days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function booked(params, state, effects) {
  const twiml = new VoiceResponse();
  const said = (params.SpeechResult ?? "").toLowerCase();
  const day = days.find((name) => said.includes(name));
  if (!day) {
    twiml.say("Sorry, we are open Monday to Saturday.");
    twiml.redirect({ method: "POST" }, "/twilio/appointments");
    return { twiml, state };
  }
  // The side effect a retried request must not repeat.
  effects.book(params.CallSid, day);
  twiml.say(`Done. Your appointment is on ${day[0].toUpperCase()}${day.slice(1)}. Goodbye!`);
  twiml.hangup();
  return { twiml, state };
}

function operator(_params, state) {
  const twiml = new VoiceResponse();
  twiml.dial({ action: "/twilio/after-dial", timeout: 20 }).number(OPERATOR);
  return { twiml, state };
}

function afterDial(params, state) {
  const twiml = new VoiceResponse();
  if (params.DialCallStatus !== "completed" && params.DialCallStatus !== "answered") {
    twiml.say("Nobody is available right now. Please call again later.");
  } else twiml.say("Thank you for calling Bright Smile Dental. Goodbye.");
  twiml.hangup();
  return { twiml, state };
}

const routes = {
  [VOICE_PATH]: voice,
  "/twilio/no-input": noInput,
  "/twilio/menu": menuChoice,
  "/twilio/appointments": appointments,
  "/twilio/appointments/booked": booked,
  "/twilio/operator": operator,
  "/twilio/after-dial": afterDial,
};

// ---- HTTP plumbing ----

/** Form fields as twilio.validateRequest wants them: repeated names become arrays. */
function paramsOf(search) {
  const params = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (!(name in params)) params[name] = value;
    else params[name] = [].concat(params[name], value);
  }
  return params;
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const collect = (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return chunks.push(chunk);
      // Stop keeping it, answer 413 and close the connection once the reply is out.
      request.off("data", collect);
      request.resume();
      reject(Object.assign(new Error("body too large"), { status: 413 }));
    };
    request.on("data", collect);
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Per-call state lives in a cookie, which Twilio keeps per call like a browser. */
function stateFrom(cookieHeader) {
  const match = /(?:^|;\s*)ivr_misses=(\d{1,2})(?:;|$)/.exec(cookieHeader ?? "");
  return { misses: match ? Number(match[1]) : 0 };
}

function send(response, status, body, headers = {}) {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(body);
}

/**
 * Creates the request listener. `publicUrl` is the URL Twilio is configured with (only its origin is
 * used: every path is checked at that origin); without it the URL is rebuilt from the Host header,
 * which is right only when nothing sits between Twilio and this process.
 */
export function createTwilioHandler({ authToken, publicUrl, log = () => {} }) {
  if (!authToken) throw new Error("createTwilioHandler needs authToken (TWILIO_AUTH_TOKEN)");
  const publicOrigin = publicUrl ? new URL(publicUrl).origin : undefined;
  const replies = new Map();
  const bookings = new Map();
  const effects = { book: (callSid, day) => bookings.set(callSid, day) };

  const handle = async (request, response) => {
    let url;
    try {
      url = new URL(request.url ?? "/", "http://handler.invalid");
    } catch {
      return send(response, 400, "bad request target"); // `http://[` is no URL at all
    }
    const route = routes[url.pathname];
    if (url.pathname === "/twilio/status") {
      // Call progress callbacks: Twilio ignores the body. (Signature checked like any other request.)
    } else if (!route) return send(response, 404, "not found");
    if (request.method !== "POST" && request.method !== "GET") return send(response, 405, "method not allowed", { allow: "GET, POST" });
    const body = await readBody(request);
    const signature = request.headers["x-twilio-signature"];
    if (typeof signature !== "string" || signature === "") return send(response, 400, "missing X-Twilio-Signature");
    const origin = publicOrigin ?? `${request.headers["x-forwarded-proto"] ?? "http"}://${request.headers.host ?? "localhost"}`;
    const signedUrl = `${origin}${request.url}`;
    const params = request.method === "POST" ? paramsOf(body.toString("utf8")) : {};
    if (!twilio.validateRequest(authToken, signature, signedUrl, params)) {
      log(`403 ${request.method} ${url.pathname}: X-Twilio-Signature does not match ${signedUrl}`);
      return send(response, 403, "invalid signature");
    }
    if (url.pathname === "/twilio/status") return send(response, 204, "");
    const fields = request.method === "POST" ? params : paramsOf(url.search);
    const token = request.headers["i-twilio-idempotency-token"];
    const stored = typeof token === "string" ? replies.get(token) : undefined;
    if (stored) {
      log(`replay ${token}: the stored reply again`);
      return send(response, 200, stored.body, stored.headers);
    }
    const { twiml, state } = route(
      Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value])),
      stateFrom(request.headers.cookie),
      effects,
    );
    const reply = {
      body: twiml.toString(),
      headers: { "content-type": "text/xml; charset=utf-8", "set-cookie": `ivr_misses=${state.misses}; Path=/twilio; HttpOnly; SameSite=Lax` },
    };
    if (typeof token === "string") {
      if (replies.size >= REPLAY_ENTRIES) replies.delete(replies.keys().next().value);
      replies.set(token, reply);
    }
    log(`200 ${url.pathname} ${fields.CallSid ?? ""}`);
    send(response, 200, reply.body, reply.headers);
  };

  const listener = (request, response) => {
    request.on("error", () => {}); // a client that resets mid-body is its own problem, not a crash
    handle(request, response).catch((error) => {
      if (response.headersSent) return response.destroy();
      send(response, error.status ?? 500, error.status ? error.message : "internal error", { connection: "close" });
    });
  };
  listener.bookings = bookings;
  return listener;
}

/**
 * The handler in an HTTP server that cuts off slow clients: a request must arrive within
 * `requestTimeoutMs` (Node's default is 300 s), its headers within `headersTimeoutMs`.
 */
export function createTwilioServer({ requestTimeoutMs = REQUEST_TIMEOUT_MS, headersTimeoutMs = HEADERS_TIMEOUT_MS, ...options }) {
  const headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  return createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    createTwilioHandler(options),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const authToken = process.env.TWILIO_AUTH_TOKEN;
  if (!authToken) {
    console.error("set TWILIO_AUTH_TOKEN (your Twilio auth token, or the --secret you give vwh)");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
    console.error("twilio-handler: REQUEST_TIMEOUT_MS must be a whole number of milliseconds");
    process.exit(2);
  }
  const server = createTwilioServer({ authToken, publicUrl: process.env.PUBLIC_URL, log: (line) => console.log(line), requestTimeoutMs });
  server.listen(port, host, () =>
    console.log(
      `Twilio IVR on http://${host}:${port}${VOICE_PATH}${process.env.PUBLIC_URL ? ` (validating against ${new URL(process.env.PUBLIC_URL).origin})` : ""}`,
    ),
  );
}
