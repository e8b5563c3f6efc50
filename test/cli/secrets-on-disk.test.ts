/**
 * The signing secret never lands on disk: every file vwh writes — an Artillery export (which reads the
 * secret from the environment where Artillery runs), a project from `vwh init`, a tunnel's journal and
 * recording, dead letters and JUnit reports — is searched for the secret's value, raw and encoded.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { request } from "undici";
import { initCommand } from "../../src/commands/init.js";
import { tunnelCommand } from "../../src/commands/tunnel.js";
import { secretNeedles } from "../../src/tunnel/redact.js";
import { fixture, loadExampleHandler, newSecret, refusingServer, repoRoot, runInProcess, startListener, withTempDir } from "../helpers.js";

const secret = newSecret();
const quiet = { stdout: { write: () => true }, stderr: { write: () => true } };

/** Every file under `dir` (not node_modules), with its text. */
async function filesUnder(dir: string): Promise<{ path: string; text: string }[]> {
  const found: { path: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.parentPath.includes("node_modules")) continue;
    const path = join(entry.parentPath, entry.name);
    found.push({ path, text: await readFile(path, "latin1") });
  }
  return found;
}

/** Fails naming the file and the form when any file under `dir` holds the secret in any form. */
async function assertNoSecret(dir: string, expectFiles: number): Promise<void> {
  const files = await filesUnder(dir);
  assert.ok(files.length >= expectFiles, `expected at least ${expectFiles} files, found ${files.map((file) => file.path).join(", ")}`);
  const forms = [...secretNeedles([secret]), Buffer.from(secret).toString("base64")];
  for (const file of files)
    for (const form of forms) assert.ok(!file.text.toLowerCase().includes(form.toLowerCase()), `${file.path} holds the secret (as ${JSON.stringify(form)})`);
}

describe("the secret's value never lands on disk", () => {
  it("vwh export artillery --secret-env NAME: the processor reads process.env[NAME] when it runs", async () => {
    await withTempDir(async (dir) => {
      const env = { AGENT_SECRET: secret, VWH_SECRET: secret };
      const out = join(dir, "load");
      const exported = await runInProcess(
        [
          "export",
          "artillery",
          fixture("reschedule.json"),
          "--url",
          "http://127.0.0.1:9/hook",
          "--secret-env",
          "AGENT_SECRET",
          "--vwh-spec",
          "1.0.0",
          "--out",
          out,
        ],
        { env },
      );
      assert.equal(exported.code, 0, exported.stderr);
      await assertNoSecret(out, 3);
      const processorText = await readFile(join(out, "vwh-processor.mjs"), "utf8");
      assert.match(processorText, /"secretEnv": "AGENT_SECRET"/);

      // Run as Artillery runs it: the secret only in the worker's environment, checked by a handler.
      await mkdir(join(out, "node_modules"), { recursive: true });
      await symlink(repoRoot, join(out, "node_modules", "vwh"), "dir");
      const { createVoiceHandler } = await loadExampleHandler();
      const handler = await startListener(createVoiceHandler({ secrets: [secret] }));
      try {
        const processor = (await import(pathToFileURL(join(out, "vwh-processor.mjs")).href)) as Record<
          string,
          (context: { vars: Record<string, unknown> }, events: { emit: (...args: unknown[]) => void }, done: (error?: Error) => void) => void
        >;
        const step = processor["vwhFlow1"]!;
        const run = (vars: Record<string, unknown>) =>
          new Promise<{ error: Error | undefined; passed: number }>((resolve) => {
            let passed = 0;
            step({ vars }, { emit: (type, name, value) => void (type === "counter" && name === "vwh.calls.passed" && (passed += value as number)) }, (error) =>
              resolve({ error, passed }),
            );
          });
        const signed = await run({ target: handler.url, $env: { AGENT_SECRET: secret } });
        assert.equal(signed.error, undefined);
        assert.equal(signed.passed, 1, "signed with the secret read from the environment at run time");
        const without = await run({ target: handler.url, $env: {} });
        assert.match(String(without.error), /no signing secret: set AGENT_SECRET where artillery runs/);
      } finally {
        await handler.close();
      }
    });
  });

  it("vwh init, with the secret in the environment", async () => {
    await withTempDir(async (dir) => {
      await initCommand({ yes: true }, { cwd: dir, env: { VWH_SECRET: secret, TWILIO_AUTH_TOKEN: secret }, streams: quiet });
      await assertNoSecret(dir, 3);
    });
  });

  it("vwh simulate --dlq and --junit, against a handler that is down", async () => {
    await withTempDir(async (dir) => {
      const down = await refusingServer();
      const result = await runInProcess(
        ["simulate", fixture("reschedule.json"), "--url", down.url, "--retries", "0", "--dlq", join(dir, "dead.jsonl"), "--junit", join(dir, "junit.xml")],
        { env: { VWH_SECRET: secret } },
      );
      assert.notEqual(result.code, 0);
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
      await assertNoSecret(dir, 2);
    });
  });

  it("vwh tunnel --record: the journal while it runs, and the recording, with the secret in a header, the query and a form body", async () => {
    await withTempDir(async (dir) => {
      const handler = await startListener((incoming, response) => {
        incoming.resume();
        incoming.on("end", () => void response.writeHead(200, { "content-type": "text/xml" }).end("<Response/>"));
      });
      const file = join(dir, "calls.json");
      let out = "";
      let wake: () => void = () => undefined;
      const stop = new AbortController();
      const running = tunnelCommand(
        String(handler.port),
        { command: "tunnel", options: { json: true, local: true, inspect: false, proxyPort: "0", record: file }, sources: {} },
        {
          env: { VWH_SECRET: secret },
          stop: stop.signal,
          streams: { stdout: { write: (text: string) => ((out += text), wake()) }, stderr: { write: () => true } },
        },
      );
      try {
        const until = async (part: string) => {
          while (!out.includes(part)) await new Promise<void>((resolve) => (wake = resolve));
        };
        await until('"listening"');
        const proxyUrl = (JSON.parse(out.split("\n")[0]!) as { proxy_url: string }).proxy_url;
        const answer = await request(`${proxyUrl}/voice?token=${encodeURIComponent(secret)}&CallSid=CA1`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-webhook-secret": secret },
          body: new URLSearchParams({ CallSid: "CA1", Token: secret }).toString(),
        });
        assert.equal(answer.statusCode, 200);
        await answer.body.dump();
        await until('"request"');
        assert.ok(!out.includes(secret) && !out.includes(encodeURIComponent(secret)), "the log holds the secret");
        await assertNoSecret(dir, 1); // the journal, while the tunnel runs
        stop.abort();
        await running;
        await assertNoSecret(dir, 1);
        assert.match(await readFile(file, "utf8"), /CallSid=CA1/);
      } finally {
        stop.abort();
        await running.catch(() => undefined);
        await handler.close();
      }
    });
  });
});
