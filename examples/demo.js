#!/usr/bin/env node
/**
 * `npm run demo`: for each platform, starts its example handler on a free port with a fresh secret,
 * simulates that platform's bundled flows and caller scripts against it with the built vwh, and exits
 * with the first failing vwh exit code (0 when every platform passed). One row per platform.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createRetellHandler, WEBHOOK_PATH as RETELL_PATH } from "./retell-handler.js";
import { createTelerHandler, FLOW_PATH as TELER_PATH } from "./teler-handler.js";
import { createTwilioHandler, VOICE_PATH as TWILIO_PATH } from "./twilio-handler.js";
import { createVapiHandler, WEBHOOK_PATH as VAPI_PATH } from "./vapi-handler.js";
import { createVoiceHandler, WEBHOOK_PATH } from "./voice-handler.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The JSON files of a folder whose names pass `keep`, sorted. */
function files(folder, keep) {
  return readdirSync(new URL(`../${folder}/`, import.meta.url))
    .filter((name) => name.endsWith(".json") && keep(name))
    .sort()
    .map((name) => `${folder}/${name}`);
}

// The public URL a tunnel would give: what Twilio is configured with and signs. Requests still go to the local port.
const twilioPublicUrl = `https://demo.example.test${TWILIO_PATH}`;

const platforms = [
  {
    name: "vwh",
    title: "reference handler (examples/voice-handler.js)",
    secret: () => `whsec_${randomBytes(24).toString("base64")}`,
    handler: (secret) => createVoiceHandler({ secrets: [secret] }),
    path: WEBHOOK_PATH,
    // Scripted flows, then caller scripts (SPEC §7), where vwh reacts to the handler's replies.
    flows: [...files("fixtures", () => true), ...files("fixtures/scripts", (name) => name.startsWith("vwh-"))],
    args: [],
  },
  {
    name: "twilio",
    title: "Twilio IVR (examples/twilio-handler.js, official twilio package)",
    secret: () => randomBytes(16).toString("hex"),
    handler: (authToken) => createTwilioHandler({ authToken, publicUrl: twilioPublicUrl }),
    path: TWILIO_PATH,
    flows: files("fixtures/scripts", (name) => name.startsWith("twilio-")),
    args: ["--public-url", twilioPublicUrl, "--status-callback", new URL("/twilio/status", twilioPublicUrl).href],
  },
  {
    name: "vapi",
    title: "Vapi server (examples/vapi-handler.js, @vapi-ai/server-sdk types)",
    secret: () => randomBytes(24).toString("hex"),
    handler: (secret) => createVapiHandler({ secrets: [secret] }),
    path: VAPI_PATH,
    flows: files("fixtures/scripts", (name) => name.startsWith("vapi-")),
    args: ["--platform", "vapi"],
  },
  {
    name: "retell",
    title: "Retell webhooks (examples/retell-handler.js, retell-sdk verify)",
    secret: () => `key_${randomBytes(16).toString("hex")}`,
    handler: (apiKey) => createRetellHandler({ apiKeys: [apiKey] }),
    path: RETELL_PATH,
    flows: files("fixtures/scripts", (name) => name.startsWith("retell-")),
    args: ["--platform", "retell"],
  },
  {
    name: "teler",
    title: "Teler flow URL (examples/teler-handler.js, @frejun/teler CallFlow)",
    secret: () => randomBytes(24).toString("hex"),
    handler: (secret) => createTelerHandler({ secrets: [secret] }),
    path: TELER_PATH,
    flows: files("fixtures/scripts", (name) => name.startsWith("teler-")),
    args: ["--platform", "teler"],
  },
];

async function runPlatform(platform) {
  const secret = platform.secret();
  const server = createServer(platform.handler(secret));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}${platform.path}`;
  console.log(`demo: ${platform.title} on ${url}\n`);
  try {
    return await new Promise((resolve) => {
      const vwh = spawn(process.execPath, ["bin/vwh.js", "simulate", ...platform.flows, "--url", url, ...platform.args, ...process.argv.slice(2)], {
        cwd: root,
        env: { ...process.env, VWH_SECRET: secret },
        stdio: "inherit",
      });
      vwh.on("exit", (code, signal) => resolve(code ?? (signal ? 130 : 1)));
    });
  } finally {
    server.close();
  }
}

let exitCode = 0;
for (const platform of platforms) {
  const code = await runPlatform(platform);
  if (code === 130) {
    exitCode = 130;
    break;
  }
  if (exitCode === 0) exitCode = code;
  console.log("");
}
process.exitCode = exitCode;
