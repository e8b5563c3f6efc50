/**
 * The platform flags through the real parser (in process): --max-hops and --status-callback on simulate,
 * --platform on sign, config and init. Each fails if its flag stops working.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { initCommand } from "../../src/commands/init.js";
import { json, newSecret, runInProcess, startServer, withFlowFile, withTempDir } from "../helpers.js";

const vwhSecret = newSecret();

describe("platform flags on the command line", () => {
  it("simulate --max-hops stops a looping call at that many webhooks", async () => {
    const looping = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "speak", text: "again" }] }));
    try {
      await withFlowFile(JSON.stringify({ version: 1, name: "loop", script: [{}] }), async (file) => {
        const result = await runInProcess(["simulate", file, "--url", looping.url, "--max-hops", "3", "--json"], { env: { VWH_SECRET: vwhSecret } });
        assert.equal(result.code, 1, result.stderr);
        const report = JSON.parse(result.stdout) as { flows: { events: unknown[]; turns: { failures: { kind: string; message: string }[] }[] }[] };
        assert.equal(report.flows[0]!.events.length, 3);
        assert.match(report.flows[0]!.turns[0]!.failures[0]!.message, /^more than --max-hops 3 webhooks in one call/);
        const bad = await runInProcess(["simulate", file, "--url", looping.url, "--max-hops", "0"], { env: { VWH_SECRET: vwhSecret } });
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--max-hops: expected value >= 1/);
      });
    } finally {
      await looping.close();
    }
  });

  it("simulate --status-callback sends the platform's call-status callbacks there", async () => {
    const token = "0123456789abcdef0123456789abcdef";
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Goodbye</Say><Hangup/></Response>';
    const server = await startServer((request, response) => {
      if (request.url.startsWith("/status")) return void response.writeHead(204).end();
      response.writeHead(200, { "content-type": "text/xml" }).end(twiml);
    }, "/voice");
    try {
      await withFlowFile(JSON.stringify({ version: 1, name: "bye", platform: "twilio", script: [{ expect: { ends: "handler_hangup" } }] }), async (file) => {
        const statusUrl = new URL("/status", server.url).href;
        const result = await runInProcess(["simulate", file, "--url", server.url, "--status-callback", statusUrl], { env: { VWH_SECRET: token } });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const statuses = server.requests
          .filter((request) => request.url === "/status")
          .map((request) => new URLSearchParams(request.body.toString("utf8")).get("CallStatus"));
        assert.ok(statuses.length >= 2, `status callbacks: ${statuses.join(", ")}`);
        assert.equal(statuses.at(-1), "completed");
        const without = server.requests.length;
        await runInProcess(["simulate", file, "--url", server.url], { env: { VWH_SECRET: token } });
        assert.ok(
          server.requests.slice(without).every((request) => request.url !== "/status"),
          "no --status-callback, no status callbacks",
        );
      });
    } finally {
      await server.close();
    }
  });

  it("sign --platform picks the platform's scheme and webhook id; config shows the platform and where it came from", async () => {
    const envelope = JSON.stringify({
      event_type: "call.started",
      event_id: "evt_from_body",
      call_id: "c",
      sequence: 1,
      timestamp: "2026-11-30T12:00:00Z",
      payload: {},
    });
    const vwh = await runInProcess(["sign", "-", "--json", "--timestamp", "1700000000"], { env: { VWH_SECRET: vwhSecret }, input: envelope });
    assert.equal(vwh.code, 0, vwh.stderr);
    assert.equal((JSON.parse(vwh.stdout) as { headers: Record<string, string> }).headers["webhook-id"], "evt_from_body");
    const twilio = await runInProcess(["sign", "-", "--platform", "twilio", "--request-url", "https://ivr.example.test/voice", "--json"], {
      env: { VWH_SECRET: "0123456789abcdef0123456789abcdef" },
      input: "CallSid=CA1&From=%2B15550100001",
    });
    assert.equal(twilio.code, 0, twilio.stderr);
    assert.ok((JSON.parse(twilio.stdout) as { headers: Record<string, string> }).headers["x-twilio-signature"], twilio.stdout);
    const config = await runInProcess(["config", "--json"], { env: { VWH_PLATFORM: "vapi" } });
    assert.equal(config.code, 0, config.stderr);
    assert.deepEqual((JSON.parse(config.stdout) as { settings: Record<string, { value: unknown; source: string }> }).settings["platform"], {
      value: "vapi",
      source: "env VWH_PLATFORM",
    });
    const unknown = await runInProcess(["sign", "-", "--platform", "skype"], { env: { VWH_SECRET: vwhSecret }, input: "{}" });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--platform: expected one of/);
  });

  it("init --platform writes that platform's starters and names it in vwh.config.json", async () => {
    await withTempDir(async (dir) => {
      // A project that lists vwh already: nothing to vendor, so no npm pack (the vendoring: init-config.test.ts).
      await writeFile(join(dir, "package.json"), JSON.stringify({ devDependencies: { vwh: "0.1.0" } }));
      let printed = "";
      await initCommand(
        { yes: true, platform: "vonage", color: false },
        { cwd: dir, env: {}, streams: { stdout: { write: (text: string) => ((printed += text), true) }, stderr: { write: () => true } } as never },
      );
      assert.match(printed, /export VWH_SECRET=<your Vonage signature secret>/, "the next steps say what the secret is on this platform");
      const config = JSON.parse(await readFile(join(dir, "vwh.config.json"), "utf8")) as { platform: string; scheme: string; flows: string[] };
      assert.equal(config.platform, "vonage");
      assert.equal(config.scheme, "vonage");
      assert.ok(config.flows.length > 0 && config.flows.every((flow) => flow.includes("vonage")), config.flows.join(", "));
    });
  });
});
