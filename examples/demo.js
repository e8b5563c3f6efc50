#!/usr/bin/env node
/**
 * `npm run demo`: starts the reference handler on a free port with a fresh secret, simulates every
 * bundled flow against it with the built vwh, and exits with vwh's exit code.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createVoiceHandler, WEBHOOK_PATH } from "./voice-handler.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const secret = `whsec_${randomBytes(24).toString("base64")}`;
// Scripted flows, then caller scripts (SPEC §7), where vwh reacts to the handler's replies.
const flows = ["fixtures", "fixtures/scripts"].flatMap((folder) =>
  readdirSync(new URL(`../${folder}/`, import.meta.url))
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => `${folder}/${name}`),
);

const server = createServer(createVoiceHandler({ secrets: [secret] }));
server.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${server.address().port}${WEBHOOK_PATH}`;
  console.log(`demo: reference handler (examples/voice-handler.js) on ${url}\n`);
  const vwh = spawn(process.execPath, ["bin/vwh.js", "simulate", ...flows, "--url", url, ...process.argv.slice(2)], {
    cwd: root,
    env: { ...process.env, VWH_SECRET: secret },
    stdio: "inherit",
  });
  vwh.on("exit", (code, signal) => {
    server.close();
    process.exitCode = code ?? (signal ? 130 : 1);
  });
});
