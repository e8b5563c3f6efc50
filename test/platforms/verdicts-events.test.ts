/**
 * Webhooks whose reply the platform ignores (issue 23, item 5): a failed status or event callback is a
 * warning naming the URL and the setting that moves it, and the call goes on; --strict-events, or a
 * step's expected status, makes it a failure. Vonage's event URL is shown in the run header.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { vonagePlatform } from "../../src/platforms/vonage/index.js";
import { findingsOf, runOn, scriptOn, sendJson, sendXml, stubHandler } from "./verdicts-helpers.js";
import { runInProcess, withFlowFile } from "../helpers.js";

/** A Vonage app that serves the answer and input URLs but no event URL (404 there, as Express would). */
function vonageWithoutEventRoute() {
  return stubHandler("/webhooks/answer", (request, response) => {
    if (request.url.startsWith("/webhooks/answer")) {
      return sendJson(response, [
        { action: "talk", text: "Press 1 for opening hours.", bargeIn: true },
        { action: "input", type: ["dtmf"], dtmf: { maxDigits: 1 }, eventUrl: [new URL("/webhooks/input", `http://${request.headers.host}`).href] },
      ]);
    }
    if (request.url.startsWith("/webhooks/input")) return sendJson(response, [{ action: "talk", text: "We are open nine to five. Goodbye." }]);
    response.writeHead(404, { "content-type": "text/html" }).end("<pre>Cannot POST /webhooks/event</pre>");
  });
}

const script = [{ expect: { says: "Press 1 for opening hours." } }, { press: "1", expect: { says: { contains: "Goodbye" }, ends: "handler_hangup" } }];

describe("webhooks whose reply the platform ignores (issue 23, item 5)", () => {
  it("vonage: a 404 on the event URL is a warning naming the URL and settings.event_url, and the call goes on", async () => {
    const server = await vonageWithoutEventRoute();
    try {
      const result = await runOn([await scriptOn("vonage", script)], server.url);
      assert.deepEqual(findingsOf(result), []);
      assert.equal(result.flows[0]!.passed, true);
      const warnings = findingsOf(result, "warnings");
      assert.deepEqual([...new Set(warnings.map((line) => line.split(":")[0]))], ["started", "ringing", "answered", "completed"]);
      assert.ok(
        warnings[0]!.includes(
          `expected status 2xx, got 404 — vonage ignores the reply to started at ${new URL("/webhooks/event", server.url).href}, so the call goes on (set settings.event_url`,
        ),
        warnings[0],
      );
    } finally {
      await server.close();
    }
  });

  it("--strict-events, or a step's expected status, fails on it", async () => {
    const server = await vonageWithoutEventRoute();
    try {
      const strict = await runOn([await scriptOn("vonage", script)], server.url, { strictEvents: true });
      assert.equal(strict.flows[0]!.passed, false);
      assert.ok(
        findingsOf(strict).some((line) => line.startsWith("started: expected status 2xx, got 404")),
        findingsOf(strict).join("\n"),
      );
      const expected = await runOn([await scriptOn("vonage", [{ expect: { status: 200 } }, ...script.slice(1)])], server.url);
      assert.deepEqual([...new Set(findingsOf(expected).map((line) => line.split(":")[0]))], ["started", "ringing", "answered"]);
    } finally {
      await server.close();
    }
  });

  it("twilio: a status callback answered 500 warns; the call passes", async () => {
    const server = await stubHandler("/twilio/voice", (request, response) => {
      if (request.url === "/twilio/status") return void response.writeHead(500).end("boom");
      sendXml(response, "<Say>Goodbye.</Say>");
    });
    try {
      const result = await runOn(
        [await scriptOn("twilio", [{ expect: { says: "Goodbye.", ends: "handler_hangup" } }], { status_callback: "/twilio/status" })],
        server.url,
      );
      assert.deepEqual(findingsOf(result), []);
      const warnings = findingsOf(result, "warnings");
      assert.equal(warnings.length, 4);
      assert.match(
        warnings[0]!,
        /^status: expected status 2xx, got 500 — twilio ignores the reply to status at http:\/\/127\.0\.0\.1:\d+\/twilio\/status, so the call goes on \(set settings\.status_callback \(--status-callback\)/,
      );
    } finally {
      await server.close();
    }
  });

  it("shows Vonage's event URL in the run header (text and --json)", async () => {
    assert.equal(
      vonagePlatform.describeSettings({}, new URL("https://app.example/webhooks/answer")),
      "vonage event_url https://app.example/webhooks/event (a guess next to the answer URL: set settings.event_url to your application's); Vonage ignores its replies, so a failure there is a warning (--strict-events fails on it)",
    );
    const server = await vonageWithoutEventRoute();
    try {
      const eventUrl = new URL("/hooks/events", server.url).href;
      await withFlowFile(JSON.stringify({ version: 1, platform: "vonage", name: "header", settings: { event_url: eventUrl }, script }), async (file) => {
        const env = { VWH_SECRET: "test-signing-secret-0123456789" };
        const json = await runInProcess(["simulate", file, "--url", server.url, "--json"], { env });
        assert.equal(json.code, 0, json.stdout + json.stderr);
        const report = JSON.parse(json.stdout) as { notes: string[] };
        assert.ok(
          report.notes.some((line) => line.startsWith(`vonage event_url ${eventUrl} (settings.event_url)`)),
          report.notes.join("\n"),
        );
        const text = await runInProcess(["simulate", file, "--url", server.url], { env });
        assert.ok(`${text.stdout}${text.stderr}`.includes(`vonage event_url ${eventUrl} (settings.event_url)`), text.stdout + text.stderr);
      });
    } finally {
      await server.close();
    }
  });
});
