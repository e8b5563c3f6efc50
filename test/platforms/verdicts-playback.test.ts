/**
 * The caller acts during playback (issue 23, item 2): `after_ms` on hangup, press, say and interrupt counts
 * from the start of the turn's audio, with each platform's rules — keys over a <Gather>'s prompt end it
 * with those digits, a hangup inside a Telnyx speak ends it with call_hangup and later commands get
 * 422 90018, an after_ms past the audio acts when the line goes quiet and says so, and an after_ms a
 * platform cannot honour is refused at load naming the step.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { callFlowSchema, platformProblems } from "../../src/files/call-flow.js";
import { telnyxPlatform } from "../../src/platforms/telnyx/index.js";
import { runSimulation } from "../../src/engine/run.js";
import { findingsOf, runOn, scriptOn, sendJson, sendXml, stubHandler } from "./verdicts-helpers.js";
import { ackThenAct, openTelnyx, telnyxEvent, telnyxOptions, telnyxScript, turnFailures } from "./verdicts-telnyx-harness.js";

const params = (body: Buffer) => new URLSearchParams(body.toString("utf8"));
const longPrompt = "Thanks for calling. For appointments press 1, for billing press 2, for anything else stay on the line.";

describe("the caller acts during playback (issue 23, item 2)", () => {
  it("twilio: keys pressed 800 ms into a <Gather>'s <Say> end the Gather with those digits", async () => {
    const server = await stubHandler("/twilio/voice", (request, response) => {
      if (request.url === "/twilio/voice")
        return sendXml(response, `<Gather action="/twilio/menu" numDigits="1"><Say>${longPrompt}</Say></Gather><Say>We did not get that.</Say>`);
      sendXml(response, `<Say>You pressed ${params(request.body).get("Digits")}.</Say><Hangup/>`);
    });
    try {
      const result = await runOn(
        [
          await scriptOn("twilio", [
            { expect: { actions: ["speak", "listen"] } },
            { press: "2", after_ms: 800, expect: { says: "You pressed 2.", ends: "handler_hangup" } },
          ]),
        ],
        server.url,
      );
      assert.deepEqual(findingsOf(result), []);
      const gather = server.requests.find((request) => request.url === "/twilio/menu")!;
      assert.deepEqual([params(gather.body).get("Digits"), params(gather.body).get("FinishedOnKey")], ["2", ""]);
      assert.equal(result.flows[0]!.turns![1]!.notes, undefined);
    } finally {
      await server.close();
    }
  });

  it("twilio: an after_ms past the end of the audio acts when the line goes quiet, and says so", async () => {
    const server = await stubHandler("/twilio/voice", (request, response) => {
      if (request.url === "/twilio/voice") return sendXml(response, '<Gather action="/twilio/menu" numDigits="1"><Say>Press 1.</Say></Gather>');
      sendXml(response, "<Say>Thanks.</Say>");
    });
    try {
      const result = await runOn([await scriptOn("twilio", [{}, { press: "1", after_ms: 5000, expect: { says: "Thanks." } }])], server.url);
      assert.deepEqual(findingsOf(result), []);
      assert.deepEqual(result.flows[0]!.turns![1]!.notes, [
        "after_ms 5000 is past the end of the turn's audio (its audio ended 800 ms after it began): the caller acted when the line went quiet",
      ]);
    } finally {
      await server.close();
    }
  });

  it("vonage: keys during a bargeIn talk go to the input; during a plain talk they are lost and the talk plays on", async () => {
    const server = await stubHandler("/webhooks/answer", (request, response) => {
      const origin = `http://${request.headers.host}`;
      if (request.url.startsWith("/webhooks/answer")) {
        const bargeIn = new URL(request.url, origin).searchParams.get("from") === "15550100001";
        return sendJson(response, [
          { action: "talk", text: longPrompt, bargeIn },
          { action: "input", type: ["dtmf"], dtmf: { maxDigits: 1 }, eventUrl: [`${origin}/webhooks/input`] },
        ]);
      }
      if (request.url.startsWith("/webhooks/input")) {
        const { dtmf } = JSON.parse(request.body.toString("utf8")) as { dtmf: { digits: string | null } };
        return sendJson(response, [{ action: "talk", text: `You pressed ${dtmf.digits ?? "nothing"}.` }]);
      }
      sendJson(response, {});
    });
    try {
      const script = [{}, { press: "2", after_ms: 1000, expect: { says: "You pressed 2." } }];
      const result = await runOn([await scriptOn("vonage", script)], server.url);
      assert.deepEqual(findingsOf(result), []);
      const plain = await scriptOn("vonage", [{}, { press: "2", after_ms: 1000 }, { silence_ms: 3000, expect: { says: "You pressed nothing." } }]);
      plain.flow.call = { ...plain.flow.call, from: "+15550100002" };
      const lost = await runOn([plain], server.url);
      assert.deepEqual(findingsOf(lost), []);
      assert.deepEqual(lost.flows[0]!.turns![1]!.notes, [
        "press during speak [0], which does not let the caller in (no barge-in into a listen): it is lost, and the prompt played on",
      ]);
    } finally {
      await server.close();
    }
  });

  it("telnyx: a hangup 1 s into a speak ends it (call_hangup), sends call.hangup, and the next command gets 422 90018", async () => {
    const harness = await openTelnyx();
    const refusals: { status: number; code: string }[] = [];
    const server = await ackThenAct(harness, async (client, type, id) => {
      if (type === "call.initiated") await client.calls.actions.answer(id, {});
      if (type === "call.answered") await client.calls.actions.speak(id, { payload: longPrompt, voice: "female" });
      if (type === "call.speak.ended") {
        try {
          await client.calls.actions.hangup(id, {});
        } catch (error) {
          const apiError = error as { status: number; error: { errors: { code: string }[] } };
          refusals.push({ status: apiError.status, code: apiError.error.errors[0]!.code });
        }
      }
    });
    try {
      const result = await runSimulation(
        [telnyxScript([{ expect: { says: longPrompt } }, { hangup: true, after_ms: 1000, expect: { ends: "caller_hangup" } }], { command_timeout_ms: 5000 })],
        telnyxOptions(harness, server.url),
      );
      assert.deepEqual(turnFailures(result), []);
      const events = server.requests.map(telnyxEvent);
      assert.deepEqual(
        events.map(({ data }) => data.event_type),
        ["call.initiated", "call.answered", "call.speak.started", "call.speak.ended", "call.hangup"],
      );
      assert.equal(events[3]!.data.payload["status"], "call_hangup");
      for (let turn = 0; turn < 200 && refusals.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(refusals, [{ status: 422, code: "90018" }]);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("refuses at load an after_ms the platform cannot honour, naming the step", () => {
    const flow = callFlowSchema.parse({ version: 1, platform: "telnyx", name: "t", script: [{}, { interrupt: "stop", after_ms: 500 }] });
    const problems = platformProblems(flow, telnyxPlatform);
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.message]),
      [
        [
          "script[1].after_ms",
          "the telnyx platform cannot interrupt its playback with speech (after_ms on hangup, press only): step 2 (interrupt) acts when the line is quiet — drop after_ms",
        ],
      ],
    );
  });
});
