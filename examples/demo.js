#!/usr/bin/env node
/**
 * `npm run demo`: for each platform below, starts its example handler on a free port, simulates the
 * platform's bundled flows and caller scripts against it with the built vwh, and exits with the first
 * failing exit code (0 when every platform passed). A few platforms run at once; their output is printed
 * one platform after the other, in this order. One row per platform: its handler, its flows, and what
 * vwh needs to play it.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { attachMediaAgent } from "./media-agent.js";
import { createPlivoHandler, ANSWER_PATH as PLIVO_PATH } from "./plivo-handler.js";
import { createRetellHandler, WEBHOOK_PATH as RETELL_PATH } from "./retell-handler.js";
import { createRelayAgent, RELAY_VOICE_PATH } from "./relay-agent.js";
import { attachRetellLlm, LLM_PATH as RETELL_LLM_PATH } from "./retell-llm-server.js";
import { BASE_PATH as VAPI_LLM_PATH, createVapiLlmHandler } from "./vapi-llm-handler.js";
import { attachTelerMediaAgent, createTelerHandler, FLOW_PATH as TELER_PATH } from "./teler-handler.js";
import { createTelnyxHandler, WEBHOOK_PATH as TELNYX_PATH } from "./telnyx-handler.js";
import { createTwilioHandler, VOICE_PATH as TWILIO_PATH } from "./twilio-handler.js";
import { createVapiHandler, WEBHOOK_PATH as VAPI_PATH } from "./vapi-handler.js";
import { createVoiceHandler, WEBHOOK_PATH } from "./voice-handler.js";
import { createVonageHandler, ANSWER_PATH as VONAGE_PATH } from "./vonage-handler.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const files = (folder, pattern) =>
  readdirSync(new URL(`../${folder}/`, import.meta.url))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${folder}/${name}`);

/** A free port on 127.0.0.1, for a server vwh opens itself (Telnyx's Call Control API). */
function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// The public URL a tunnel would give: what Twilio is configured with and signs. Requests still go to the local port.
const twilioPublicUrl = `https://demo.example.test${TWILIO_PATH}`;

const platforms = [
  {
    // Scripted flows, then caller scripts (README: Platforms and caller scripts), where vwh reacts to the handler's replies.
    title: "reference handler (examples/voice-handler.js)",
    path: WEBHOOK_PATH,
    flows: [...files("fixtures", /\.json$/), ...files("fixtures/scripts", /^vwh-.*\.json$/)],
    async setup() {
      const secret = `whsec_${randomBytes(24).toString("base64")}`;
      // Calls to the agent line stream to the media agent on the same server (fixtures/scripts/vwh-media-agent.json).
      return { listener: createVoiceHandler({ secrets: [secret] }), attach: attachMediaAgent, env: { VWH_SECRET: secret }, args: [] };
    },
  },
  {
    title: "Twilio IVR (examples/twilio-handler.js, official twilio package)",
    path: TWILIO_PATH,
    flows: files("fixtures/scripts", /^twilio-.*\.json$/),
    async setup() {
      const authToken = randomBytes(16).toString("hex");
      return {
        listener: createTwilioHandler({ authToken, publicUrl: twilioPublicUrl }),
        env: { VWH_SECRET: authToken },
        args: ["--public-url", twilioPublicUrl, "--status-callback", new URL("/twilio/status", twilioPublicUrl).href],
      };
    },
  },
  {
    // The webhook answers <Connect><ConversationRelay>; the agent on the same server talks text over the socket.
    title: "Twilio ConversationRelay (examples/relay-agent.js, official twilio package)",
    path: RELAY_VOICE_PATH,
    flows: files("fixtures/scripts", /^relay-.*\.json$/),
    async setup() {
      const authToken = randomBytes(16).toString("hex");
      const publicUrl = `https://demo.example.test${RELAY_VOICE_PATH}`;
      const { listener, attach } = createRelayAgent({ authToken, publicUrl });
      return { listener, attach, env: { VWH_SECRET: authToken }, args: ["--public-url", publicUrl] };
    },
  },
  {
    // The handler sends Call Control commands with the telnyx SDK to vwh's local API, and verifies
    // webhooks with the public half of the key vwh signs with.
    title: "Telnyx Call Control (examples/telnyx-handler.js, official telnyx package)",
    path: TELNYX_PATH,
    flows: files("fixtures/scripts", /^telnyx-.*\.json$/),
    async setup() {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const port = await freePort();
      const listener = createTelnyxHandler({
        apiKey: "KEY_demo",
        baseURL: `http://127.0.0.1:${port}/v2`,
        publicKey: publicKey.export({ format: "der", type: "spki" }).subarray(12).toString("base64"),
        log: () => {},
      });
      const secret = privateKey.export({ format: "der", type: "pkcs8" }).subarray(16).toString("base64");
      // Each reply waits for its command's round trip to vwh's API: a budget that fits it.
      return { listener, env: { VWH_SECRET: secret }, args: ["--telnyx-api-port", String(port), "--budget", "1000"] };
    },
  },
  {
    title: "Vonage menu (examples/vonage-handler.js, official @vonage/voice and @vonage/jwt)",
    path: VONAGE_PATH,
    flows: files("fixtures/scripts", /^vonage-.*\.json$/),
    async setup() {
      const secret = randomBytes(24).toString("base64url");
      return { listener: createVonageHandler({ signatureSecrets: [secret] }), env: { VWH_SECRET: secret }, args: [] };
    },
  },
  {
    title: "Plivo menu (examples/plivo-handler.js, official plivo package)",
    path: PLIVO_PATH,
    flows: files("fixtures/scripts", /^plivo-.*\.json$/),
    async setup() {
      const authToken = randomBytes(20).toString("base64url");
      return { listener: createPlivoHandler({ authTokens: [authToken] }), env: { VWH_SECRET: authToken }, args: [] };
    },
  },
  {
    title: "Vapi server (examples/vapi-handler.js, @vapi-ai/server-sdk types)",
    path: VAPI_PATH,
    flows: files("fixtures/scripts", /^vapi-(?!llm-).*\.json$/),
    async setup() {
      const secret = randomBytes(24).toString("hex");
      return { listener: createVapiHandler({ secrets: [secret] }), env: { VWH_SECRET: secret }, args: [] };
    },
  },
  {
    title: "Retell webhooks (examples/retell-handler.js, retell-sdk verify)",
    path: RETELL_PATH,
    flows: files("fixtures/scripts", /^retell-.*\.json$/),
    async setup() {
      const apiKey = `key_${randomBytes(16).toString("hex")}`;
      return { listener: createRetellHandler({ apiKeys: [apiKey] }), env: { VWH_SECRET: apiKey }, args: [] };
    },
  },
  {
    // No webhooks: each caller utterance is a chat/completions request answered with server-sent events.
    title: "Vapi custom LLM (examples/vapi-llm-handler.js, SSE)",
    path: VAPI_LLM_PATH,
    flows: files("fixtures/scripts", /^vapi-llm-.*\.json$/),
    async setup() {
      return { listener: createVapiLlmHandler(), env: {}, args: [] };
    },
  },
  {
    // No webhooks: vwh plays Retell's side of the custom-LLM socket (the ws:// URL says so).
    title: "Retell custom LLM (examples/retell-llm-server.js, ws)",
    path: RETELL_LLM_PATH,
    scheme: "ws",
    flows: files("fixtures/scripts", /^llm-retell.*\.json$/),
    async setup() {
      return { listener: (_request, response) => response.writeHead(404).end(), attach: attachRetellLlm, env: {}, args: [] };
    },
  },
  {
    title: "Teler flow URL (examples/teler-handler.js, @frejun/teler CallFlow)",
    path: TELER_PATH,
    flows: files("fixtures/scripts", /^teler-.*\.json$/),
    async setup() {
      const secret = randomBytes(24).toString("hex");
      // The flow streams the call to the handler's own media socket, where its agent answers.
      return { listener: createTelerHandler({ secrets: [secret] }), attach: attachTelerMediaAgent, env: { VWH_SECRET: secret }, args: [] };
    },
  },
];

/**
 * Starts one platform: its handler, then vwh against it. Its output is held until `show()` (every
 * platform before it has finished), then written as it comes: the parts read in order, while up to
 * `lanes` platforms run at once (most of a run is the handler's and the caller's real-time pauses).
 */
async function startPlatform(platform, first) {
  const { listener, attach, env, args } = await platform.setup();
  const server = createServer(listener);
  attach?.(server);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `${platform.scheme ?? "http"}://127.0.0.1:${server.address().port}${platform.path}`;
  const held = [`${first ? "" : "\n"}demo: ${platform.title} on ${url}\n\n`];
  let shown = false;
  const write = (chunk) => (shown ? process.stdout.write(chunk) : held.push(chunk));
  // vwh writes to a pipe here: colours as the demo's own stdout would have them.
  const colour = process.stdout.isTTY && env.NO_COLOR === undefined && process.env.NO_COLOR === undefined ? { FORCE_COLOR: "1" } : {};
  const vwh = spawn(process.execPath, ["bin/vwh.js", "simulate", ...platform.flows, "--url", url, ...args, ...process.argv.slice(2)], {
    cwd: root,
    // vwh's notices (TELNYX_BASE_URL …) go to stderr: the demo wires them up itself.
    env: { ...colour, ...process.env, ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  vwh.stdout.on("data", write);
  const code = new Promise((resolve) =>
    vwh.on("close", (exitCode, signal) => {
      server.closeAllConnections();
      server.close();
      resolve(exitCode ?? (signal ? 130 : 1));
    }),
  );
  return {
    finished: code,
    show() {
      for (const chunk of held.splice(0)) process.stdout.write(chunk);
      shown = true;
      return code;
    },
  };
}

// A few at a time: the next platform starts as soon as any running one has finished.
const lanes = 4;
const started = [];
const startNext = () => {
  if (started.length === platforms.length) return;
  const starting = startPlatform(platforms[started.length], started.length === 0);
  started.push(starting);
  void starting.then((run) => run.finished.then(startNext));
};
for (let lane = 0; lane < lanes; lane++) startNext();

let exitCode = 0;
for (let index = 0; index < platforms.length; index++) {
  const code = await (await started[index]).show();
  if (code === 130) {
    exitCode = 130;
    break;
  }
  if (exitCode === 0) exitCode = code;
}
process.exitCode = exitCode;
