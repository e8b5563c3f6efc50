#!/usr/bin/env node
/**
 * `npm run demo`: for each platform below, starts its example handler on a free port, simulates the
 * platform's bundled flows against it with the built vwh, and exits with the first failing exit code.
 * One row per platform: how to start its handler, its flows, and what vwh needs to play it.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createTelnyxHandler, WEBHOOK_PATH as TELNYX_PATH } from "./telnyx-handler.js";
import { createVoiceHandler, WEBHOOK_PATH } from "./voice-handler.js";

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

const platforms = [
  {
    // Scripted flows, then caller scripts (SPEC §7), where vwh reacts to the handler's replies.
    handler: "examples/voice-handler.js",
    path: WEBHOOK_PATH,
    flows: [...files("fixtures", /\.json$/), ...files("fixtures/scripts", /^vwh-.*\.json$/)],
    async setup() {
      const secret = `whsec_${randomBytes(24).toString("base64")}`;
      return { listener: createVoiceHandler({ secrets: [secret] }), env: { VWH_SECRET: secret }, args: [] };
    },
  },
  {
    // The handler sends Call Control commands with the telnyx SDK to vwh's local API, and verifies
    // webhooks with the public half of the key vwh signs with.
    handler: "examples/telnyx-handler.js",
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
];

async function runPlatform(platform, first) {
  const { listener, env, args } = await platform.setup();
  const server = createServer(listener);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}${platform.path}`;
  console.log(`${first ? "" : "\n"}demo: reference handler (${platform.handler}) on ${url}\n`);
  const vwh = spawn(process.execPath, ["bin/vwh.js", "simulate", ...platform.flows, "--url", url, ...args, ...process.argv.slice(2)], {
    cwd: root,
    // vwh's notices (TELNYX_BASE_URL …) go to stderr: the demo wires them up itself.
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "ignore"],
  });
  const code = await new Promise((resolve) => vwh.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 130 : 1))));
  server.closeAllConnections();
  server.close();
  return code;
}

let exitCode = 0;
for (const [index, platform] of platforms.entries()) {
  const code = await runPlatform(platform, index === 0);
  if (exitCode === 0) exitCode = code;
}
process.exitCode = exitCode;
