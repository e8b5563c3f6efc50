#!/usr/bin/env node
/**
 * `npm run demo`: for each platform row below, starts its example handler on a free port with a fresh
 * secret, simulates that platform's bundled flows and caller scripts against it with the built vwh, and
 * exits with the first failing vwh exit code (0 when every platform passed). Extra arguments go to every
 * `vwh simulate` (e.g. `npm run demo -- --duplicates 0.5`).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const list = (folder, pattern) =>
  readdirSync(new URL(`../${folder}/`, import.meta.url))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${folder}/${name}`);

// One row per platform: its handler, how the handler takes the secret, where vwh sends, which files run.
const platforms = [
  {
    id: "vwh",
    handler: "./voice-handler.js",
    create: (module, secret) => module.createVoiceHandler({ secrets: [secret] }),
    secret: () => `whsec_${randomBytes(24).toString("base64")}`,
    path: "/webhooks/voice",
    // Scripted flows, then caller scripts (SPEC §7), where vwh reacts to the handler's replies.
    files: () => [...list("fixtures", /\.json$/), ...list("fixtures/scripts", /^vwh-.*\.json$/)],
  },
  {
    id: "vonage",
    handler: "./vonage-handler.js",
    create: (module, secret) => module.createVonageHandler({ signatureSecrets: [secret] }),
    secret: () => randomBytes(24).toString("base64url"),
    path: "/webhooks/answer",
    files: () => list("fixtures/scripts", /^vonage-.*\.json$/),
  },
  {
    id: "plivo",
    handler: "./plivo-handler.js",
    create: (module, secret) => module.createPlivoHandler({ authTokens: [secret] }),
    secret: () => randomBytes(20).toString("base64url"),
    path: "/plivo/answer",
    files: () => list("fixtures/scripts", /^plivo-.*\.json$/),
  },
];

async function runPlatform(platform) {
  const module = await import(platform.handler);
  const secret = platform.secret();
  const server = createServer(platform.create(module, secret));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}${platform.path}`;
  console.log(`demo: ${platform.id} handler (examples/${platform.handler.slice(2)}) on ${url}\n`);
  try {
    return await new Promise((resolve) => {
      const vwh = spawn(process.execPath, ["bin/vwh.js", "simulate", ...platform.files(), "--platform", platform.id, "--url", url, ...process.argv.slice(2)], {
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
  if (exitCode === 0) exitCode = code;
  if (code === 130) break;
  console.log("");
}
process.exitCode = exitCode;
