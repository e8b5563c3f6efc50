#!/usr/bin/env node
/**
 * A reference Twilio ConversationRelay agent (twilio.com/docs/voice/conversationrelay): the voice webhook
 * answers `<Connect><ConversationRelay>`, and the WebSocket it names carries the conversation as text.
 * What it does right, and you should keep:
 *
 *  - checks X-Twilio-Signature on the webhook (over the form parameters) and on the WebSocket upgrade
 *    (over the wss URL, no parameters) against the PUBLIC URLs Twilio uses;
 *  - lets Twilio speak the welcomeGreeting, turns on dtmfDetection before it relies on key presses;
 *  - streams its answer as text tokens the moment they exist and closes each answer with `last: true`;
 *  - stops streaming an answer the caller interrupted, and hands the call back with `end` + handoffData.
 * The "LLM" is a few canned rules; replace `answer` with your model's stream.
 *
 * Run:  TWILIO_AUTH_TOKEN=... PUBLIC_URL=https://abc.ngrok.app node examples/relay-agent.js
 * Then: vwh simulate fixtures/scripts/relay-booking.json --platform twilio --url http://127.0.0.1:3000/relay/voice \
 *         --public-url https://abc.ngrok.app/relay/voice --secret "$TWILIO_AUTH_TOKEN"
 */
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import twilio from "twilio";
import { WebSocketServer } from "ws";

export const RELAY_VOICE_PATH = "/relay/voice";
export const RELAY_SOCKET_PATH = "/relay/socket";
export const RELAY_AFTER_PATH = "/relay/after";
export const OPERATOR = "+15550100999";
const MAX_BODY_BYTES = 64 * 1024;
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The answer to what the caller said, in tokens as a model would stream them. */
function answer(said) {
  const text = said.toLowerCase();
  if (/\bbook|table|reserv/.test(text)) return ["Booked: ", "table seven ", "at eight."];
  if (/\bmenu\b/.test(text)) return ["Tonight ", "we have ", "soup, ", "fish ", "and a lemon tart."];
  return ["Sorry, ", "I can help ", "with bookings ", "and the menu."];
}

function handleSession(socket, log) {
  let current = 0; // the answer being streamed; an interrupt or a new prompt supersedes it
  const send = (message) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(message));

  async function stream(prompt) {
    const id = ++current;
    for (const token of answer(prompt)) {
      await tick(); // a model streams its tokens over time
      if (id !== current) return; // interrupted: stop talking
      send({ type: "text", token, last: false });
    }
    send({ type: "text", token: "", last: true });
  }

  socket.on("message", (data, binary) => {
    if (binary) return;
    let message;
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    switch (message?.type) {
      case "setup":
        return log(`session ${message.sessionId} for ${message.from} → ${message.to}`);
      case "prompt":
        if (typeof message.voicePrompt === "string") stream(message.voicePrompt).catch((error) => log(`answer failed: ${error.message}`));
        return;
      case "interrupt":
        current++; // the caller talked over the answer: stop it
        return;
      case "dtmf":
        if (message.digit === "0") send({ type: "end", handoffData: JSON.stringify({ reason: "operator", from: "relay-agent" }) });
        return;
      default:
        return; // error messages from Twilio, and anything newer: ignored
    }
  });
  socket.on("error", (error) => log(`socket error: ${error.message}`));
}

function readForm(request) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size <= MAX_BODY_BYTES ? Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) : undefined));
  });
}

/**
 * The voice webhook (and <Connect action>) as a node:http listener, and `attach(server)` for the
 * ConversationRelay socket on the same server.
 */
export function createRelayAgent({ authToken, publicUrl, log = () => {} }) {
  const publicVoice = new URL(RELAY_VOICE_PATH, publicUrl);
  const publicAfter = new URL(RELAY_AFTER_PATH, publicUrl);
  const socketUrl = new URL(RELAY_SOCKET_PATH, publicUrl);
  socketUrl.protocol = socketUrl.protocol === "http:" ? "ws:" : "wss:";

  const listener = async (request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    if (request.method !== "POST" || (path !== RELAY_VOICE_PATH && path !== RELAY_AFTER_PATH)) return response.writeHead(404).end();
    const params = await readForm(request);
    if (!params) return response.writeHead(413).end();
    const signed = path === RELAY_VOICE_PATH ? publicVoice : publicAfter;
    if (!twilio.validateRequest(authToken, String(request.headers["x-twilio-signature"] ?? ""), signed.href, params)) return response.writeHead(403).end();
    const twiml = new twilio.twiml.VoiceResponse();
    if (path === RELAY_VOICE_PATH) {
      const relay = twiml
        .connect({ action: RELAY_AFTER_PATH })
        .conversationRelay({ url: socketUrl.href, welcomeGreeting: "Ada's bistro, hello!", dtmfDetection: true });
      relay.parameter({ name: "restaurant", value: "ada" });
    } else {
      // The session ended: HandoffData says why (our own end message), else the caller is done.
      let handoff = {};
      try {
        handoff = JSON.parse(params.HandoffData ?? "{}");
      } catch {}
      if (handoff.reason === "operator") twiml.dial(OPERATOR);
      else twiml.hangup();
    }
    response.writeHead(200, { "content-type": "text/xml" }).end(twiml.toString());
  };

  const attach = (server) => {
    const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    server.on("upgrade", (request, socket, head) => {
      const signature = String(request.headers["x-twilio-signature"] ?? "");
      if (new URL(request.url ?? "/", "http://x").pathname !== RELAY_SOCKET_PATH || !twilio.validateRequest(authToken, signature, socketUrl.href, {}))
        return socket.destroy();
      sockets.handleUpgrade(request, socket, head, (ws) => handleSession(ws, log));
    });
    return sockets;
  };
  return { listener, attach };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const authToken = process.env.TWILIO_AUTH_TOKEN;
  const port = Number(process.env.PORT ?? 3000);
  if (!authToken) {
    console.error("set TWILIO_AUTH_TOKEN (and PUBLIC_URL, the URL Twilio is configured with)");
    process.exit(2);
  }
  const { listener, attach } = createRelayAgent({ authToken, publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${port}`, log: console.log });
  const server = createServer(listener);
  attach(server);
  server.listen(port, () => console.log(`ConversationRelay agent on http://localhost:${port}${RELAY_VOICE_PATH}`));
}
