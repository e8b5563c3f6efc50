#!/usr/bin/env node
/**
 * `npm run demo`: for each platform, starts its example handler on a free port with a fresh secret,
 * simulates that platform's bundled flows and caller scripts against it with the built vwh, and exits
 * with the first non-zero exit code (extra arguments go to every `vwh simulate`).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createRetellHandler, WEBHOOK_PATH as RETELL_PATH } from "./retell-handler.js";
import { createTelerHandler, FLOW_PATH as TELER_PATH } from "./teler-handler.js";
import { createVapiHandler, WEBHOOK_PATH as VAPI_PATH } from "./vapi-handler.js";
import { createVoiceHandler, WEBHOOK_PATH } from "./voice-handler.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const files = (folder, pattern) =>
  readdirSync(new URL(`../${folder}/`, import.meta.url))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${folder}/${name}`);

/** One row per platform: its handler, where it listens, the secret it takes, and its files. */
const platforms = [
  {
    id: "vwh",
    title: "reference handler",
    handler: "examples/voice-handler.js",
    secret: () => `whsec_${randomBytes(24).toString("base64")}`,
    listener: (secret) => createVoiceHandler({ secrets: [secret] }),
    path: WEBHOOK_PATH,
    // Scripted flows, then caller scripts (SPEC §7), where vwh reacts to the handler's replies.
    flows: [...files("fixtures", /\.json$/), ...files("fixtures/scripts", /^vwh-.*\.json$/)],
  },
  {
    id: "vapi",
    title: "vapi handler",
    handler: "examples/vapi-handler.js",
    secret: () => randomBytes(24).toString("hex"),
    listener: (secret) => createVapiHandler({ secrets: [secret] }),
    path: VAPI_PATH,
    flows: files("fixtures/scripts", /^vapi-.*\.json$/),
  },
  {
    id: "retell",
    title: "retell handler",
    handler: "examples/retell-handler.js",
    secret: () => `key_${randomBytes(16).toString("hex")}`,
    listener: (secret) => createRetellHandler({ apiKeys: [secret] }),
    path: RETELL_PATH,
    flows: files("fixtures/scripts", /^retell-.*\.json$/),
  },
  {
    id: "teler",
    title: "teler handler",
    handler: "examples/teler-handler.js",
    secret: () => randomBytes(24).toString("hex"),
    listener: (secret) => createTelerHandler({ secrets: [secret] }),
    path: TELER_PATH,
    flows: files("fixtures/scripts", /^teler-.*\.json$/),
  },
];

function runPlatform(platform) {
  const secret = platform.secret();
  const server = createServer(platform.listener(secret));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}${platform.path}`;
      console.log(`${platform.id === "vwh" ? "" : "\n"}demo: ${platform.title} (${platform.handler}) on ${url}\n`);
      const vwh = spawn(process.execPath, ["bin/vwh.js", "simulate", ...platform.flows, "--platform", platform.id, "--url", url, ...process.argv.slice(2)], {
        cwd: root,
        env: { ...process.env, VWH_SECRET: secret },
        stdio: "inherit",
      });
      vwh.on("exit", (code, signal) => {
        server.close();
        resolve(code ?? (signal ? 130 : 1));
      });
    });
  });
}

let exitCode = 0;
for (const platform of platforms) {
  const code = await runPlatform(platform);
  if (exitCode === 0) exitCode = code;
}
process.exitCode = exitCode;
