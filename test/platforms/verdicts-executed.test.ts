/**
 * A turn's `says` and `actions` are what the platform executed (issue 23, item 1): the rest of a Vonage
 * NCCO replaced by a notify's reply is not credited; a Plivo "didn't catch that" <Speak> after a
 * <GetInput> belongs to the silence turn; TwiML runs in document order. The report lists what was replied
 * but not executed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatNotExecuted } from "../../src/ui/simulate-report.js";
import { runInProcess, withFlowFile } from "../helpers.js";
import { findingsOf, runOn, scriptOn, secretFor, sendJson, sendXml, stubHandler } from "./verdicts-helpers.js";

describe("says and actions are what the platform executed (issue 23, item 1)", () => {
  it("vonage: a notify's reply NCCO replaces the rest; the replaced talk is not credited", async () => {
    const server = await stubHandler("/webhooks/answer", (request, response) => {
      const origin = `http://${request.headers.host}`;
      if (request.url.startsWith("/webhooks/answer")) {
        return sendJson(response, [
          { action: "talk", text: "Welcome." },
          { action: "notify", payload: { step: "greeted" }, eventUrl: [`${origin}/webhooks/notify`] },
          { action: "talk", text: "You will never hear me" },
        ]);
      }
      if (request.url.startsWith("/webhooks/notify")) return sendJson(response, [{ action: "talk", text: "Goodbye." }]);
      sendJson(response, {});
    });
    try {
      const falsePass = await runOn([await scriptOn("vonage", [{ expect: { says: { contains: "You will never hear me" } } }])], server.url);
      assert.deepEqual(findingsOf(falsePass), ['turn 0 says: expected to contain "You will never hear me", got "Welcome. Goodbye."']);
      const result = await runOn(
        [await scriptOn("vonage", [{ expect: { says: "Welcome. Goodbye.", actions: ["speak", "redirect", "speak", "hangup"], ends: "handler_hangup" } }])],
        server.url,
      );
      assert.deepEqual(findingsOf(result), []);
      assert.deepEqual(result.flows[0]!.turns![0]!.notExecuted, [{ type: "speak", path: "[2]", text: "You will never hear me" }]);
    } finally {
      await server.close();
    }
  });

  it("plivo: the <Speak> after a <GetInput> is spoken in the silence turn, and the natural silence script passes", async () => {
    const server = await stubHandler("/plivo/answer", (request, response) => {
      if (request.url === "/plivo/answer") {
        return sendXml(
          response,
          '<GetInput action="/plivo/input" inputType="dtmf" numDigits="1"><Speak>Press 1 for opening hours.</Speak></GetInput><Speak>Sorry, I didn\'t catch that. Goodbye.</Speak>',
        );
      }
      if (request.url === "/plivo/input") return sendXml(response, "<Speak>We open at nine.</Speak>");
      response.writeHead(200).end();
    });
    try {
      const script = [
        { expect: { says: "Press 1 for opening hours.", actions: ["speak", "listen"] } },
        { silence_ms: 5000, expect: { says: { contains: "didn't catch that" }, ends: "handler_hangup" } },
      ];
      const result = await runOn([await scriptOn("plivo", script)], server.url);
      assert.deepEqual(findingsOf(result), []);
      const [first, second] = result.flows[0]!.turns!;
      assert.deepEqual(first!.notExecuted, [{ type: "speak", path: "Response/Speak[1]", text: "Sorry, I didn't catch that. Goodbye." }]);
      assert.deepEqual(second!.actions, ["speak", "hangup"]);
      assert.equal(second!.notExecuted, undefined);
    } finally {
      await server.close();
    }
  });

  it("twilio: document order — a key pressed during the Gather leaves the verbs after it unexecuted; --json and text show them", async () => {
    const server = await stubHandler("/twilio/voice", (request, response) => {
      if (request.url === "/twilio/voice")
        return sendXml(
          response,
          '<Gather action="/twilio/menu" numDigits="1"><Say>Press 1.</Say></Gather><Say>We did not get that.</Say><Redirect>/twilio/voice</Redirect>',
        );
      sendXml(response, "<Say>Thanks.</Say><Hangup/>");
    });
    try {
      const script = [{ expect: { says: "Press 1.", actions: ["speak", "listen"] } }, { press: "1", expect: { says: "Thanks.", ends: "handler_hangup" } }];
      const result = await runOn([await scriptOn("twilio", script)], server.url);
      assert.deepEqual(findingsOf(result), []);
      const notExecuted = result.flows[0]!.turns![0]!.notExecuted!;
      assert.equal(formatNotExecuted(notExecuted), 'speak Response/Say[1] "We did not get that.", redirect Response/Redirect[1]');
      await withFlowFile(JSON.stringify({ version: 1, platform: "twilio", name: "order", script }), async (file) => {
        const env = { VWH_SECRET: secretFor("twilio") };
        const json = await runInProcess(["simulate", file, "--url", server.url, "--json"], { env });
        assert.equal(json.code, 0, json.stdout + json.stderr);
        const report = JSON.parse(json.stdout) as { flows: { turns: { not_executed: unknown[] }[] }[] };
        assert.deepEqual(report.flows[0]!.turns[0]!.not_executed, [
          { type: "speak", path: "Response/Say[1]", text: "We did not get that." },
          { type: "redirect", path: "Response/Redirect[1]" },
        ]);
        const text = await runInProcess(["simulate", file, "--url", server.url], { env });
        assert.ok(
          text.stdout.includes('replied, not executed in this turn: speak Response/Say[1] "We did not get that.", redirect Response/Redirect[1]'),
          text.stdout,
        );
      });
    } finally {
      await server.close();
    }
  });
});
