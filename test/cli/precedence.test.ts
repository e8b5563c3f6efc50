/**
 * One precedence for every mode (issue 25, item 5), in process: a config `url` never turns an offline verify
 * into a probe; `vwh config` shows a platform profile's values with their source; --recording takes
 * --public-url and --platform like simulate; a scheme that signs the URL needs one (exit 2) for sign and verify.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sign } from "../../src/api.js";
import { getScheme } from "../../src/signing/index.js";
import { newSecret, runInProcess, withTempDir } from "../helpers.js";

const secret = newSecret();
const token = "f3a1c0ffee5eed0123456789abcdef01";

/** Runs `work` with a vwh.config.json holding `config`, named by VWH_CONFIG. */
async function withConfig<T>(config: Record<string, unknown>, work: (env: Record<string, string>, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const file = join(dir, "vwh.config.json");
    await writeFile(file, JSON.stringify(config));
    return work({ VWH_CONFIG: file }, dir);
  });
}

describe("one precedence for every mode", () => {
  it("a config url does not make an offline verify a probe: --body with -H verifies", async () => {
    await withConfig({ url: "http://127.0.0.1:9/webhooks/voice" }, async (configEnv, dir) => {
      const body = JSON.stringify({ event_type: "call.started", event_id: "evt_1", call_id: "c", sequence: 1, timestamp: "2026-01-01T00:00:00Z", payload: {} });
      const file = join(dir, "body.json");
      await writeFile(file, body);
      const { headers } = sign(body, { id: "evt_1", secrets: [secret], timestamp: 1_700_000_000 });
      const result = await runInProcess(
        ["verify-signature", "--body", file, ...Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]), "--at", "1700000000"],
        { env: { ...configEnv, VWH_SECRET: secret } },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "valid");
    });
  });

  it("vwh config shows the twilio profile's timeout and retries with their source", async () => {
    await withConfig({ platform: "twilio" }, async (configEnv) => {
      const result = await runInProcess(["config"], { env: configEnv });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ {2}timeout +15000 +profile twilio$/m);
      assert.match(result.stdout, /^ {2}retries +1 +profile twilio$/m);
    });
  });

  it("vwh sign --scheme twilio without a URL is a usage error (exit 2), not a signature over nothing", async () => {
    const env = { VWH_SECRET: token };
    const without = await runInProcess(["sign", "-", "--scheme", "twilio"], { env, input: "CallSid=CA1" });
    assert.equal(without.code, 2);
    assert.match(without.stderr, /^vwh: twilio signatures cover the request URL: give --request-url/m);
    assert.equal(without.stdout, "");
    const withUrl = await runInProcess(["sign", "-", "--scheme", "twilio", "--request-url", "https://ivr.example.test/voice"], { env, input: "CallSid=CA1" });
    assert.equal(withUrl.code, 0, withUrl.stderr);
    const standard = await runInProcess(["sign", "-"], { env: { VWH_SECRET: secret }, input: "{}" });
    assert.equal(standard.code, 0, "a scheme that does not sign the URL needs none");
  });

  it("offline verify of a scheme that signs the URL, without --request-url: exit 2", async () => {
    const result = await runInProcess(["verify-signature", "--platform", "twilio", "--body", "-", "-H", "x-twilio-signature: abc="], {
      env: { VWH_SECRET: token },
      input: "CallSid=CA1",
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /twilio signatures cover the request URL: give --request-url/);
  });

  it("--recording takes --public-url (any protocol) and --platform: a Twilio request recorded without its URL", async () => {
    const publicUrl = "http://ivr.example.test/twilio/voice";
    const body = "CallSid=CA1&Digits=1";
    const signer = getScheme("twilio").create([{ value: token, source: "(test)" }], { purpose: "sign" });
    const signed = signer.sign({
      id: "CA1",
      timestamp: 1_700_000_000,
      body: Buffer.from(body),
      method: "POST",
      url: publicUrl,
      contentType: "application/x-www-form-urlencoded",
    });
    const recording = {
      version: 1,
      name: "recorded",
      events: [
        {
          raw: {
            method: "POST",
            path: "/twilio/voice",
            headers: { host: "127.0.0.1:3000", "content-type": "application/x-www-form-urlencoded", ...signed.headers },
            body,
            received_at: "2026-01-01T00:00:00Z",
          },
        },
      ],
    };
    await withTempDir(async (dir) => {
      const file = join(dir, "recording.json");
      await writeFile(file, JSON.stringify(recording));
      const env = { VWH_SECRET: token };
      const unknownUrl = await runInProcess(["verify-signature", "--platform", "twilio", "--recording", file], { env });
      assert.equal(unknownUrl.code, 2, unknownUrl.stdout);
      assert.match(unknownUrl.stderr, /events\[0\] does not say which URL it was sent to[\s\S]*--public-url/);
      const checked = await runInProcess(["verify-signature", "--platform", "twilio", "--recording", file, "--public-url", "http://ivr.example.test/"], {
        env,
      });
      assert.equal(checked.code, 0, checked.stdout + checked.stderr);
      assert.match(checked.stdout, /1 recorded request: 1 valid, 0 invalid/);
    });
  });
});
