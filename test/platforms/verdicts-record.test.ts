/**
 * Vonage `record` with an end condition blocks the NCCO until it is met (issue 23, item 6): "a record
 * action terminates when the endOnSilence option is met", and without endOnSilence, timeOut or endOnKey
 * the next action runs at once (developer.vonage.com/voice/voice-api/ncco-reference).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findingsOf, runOn, scriptOn, sendJson, stubHandler } from "./verdicts-helpers.js";

function voicemail(record: Record<string, unknown>) {
  return stubHandler("/webhooks/answer", (request, response) => {
    const origin = `http://${request.headers.host}`;
    if (request.url.startsWith("/webhooks/answer")) {
      return sendJson(response, [
        { action: "talk", text: "Leave a message after the beep." },
        { action: "record", beepStart: true, eventUrl: [`${origin}/webhooks/recording`], ...record },
        { action: "talk", text: "Thanks, goodbye." },
      ]);
    }
    sendJson(response, {});
  });
}

const recordEvent = (server: { requests: { url: string; body: Buffer }[] }) => {
  const request = server.requests.find((candidate) => candidate.url === "/webhooks/recording");
  return request && (JSON.parse(request.body.toString("utf8")) as { start_time: string; end_time: string; recording_url: string });
};

describe("vonage: a record with an end condition blocks the NCCO (issue 23, item 6)", () => {
  it("endOnSilence: the caller's message is recorded, the recording ends 3 s after it, then the NCCO goes on", async () => {
    const server = await voicemail({ endOnSilence: 3, endOnKey: "#", timeOut: 60 });
    try {
      const script = [
        { expect: { says: "Leave a message after the beep.", actions: ["speak", "record"], ends: false } },
        { say: "Hi, it is Sam, please call me back", expect: { says: "Thanks, goodbye.", ends: "handler_hangup" } },
      ];
      const result = await runOn([await scriptOn("vonage", script)], server.url);
      assert.deepEqual(findingsOf(result), []);
      const event = recordEvent(server)!;
      // Eight words at 400 ms each, then endOnSilence's 3 s.
      assert.equal(Date.parse(event.end_time) - Date.parse(event.start_time), 8 * 400 + 3000);
      assert.deepEqual(
        result.flows[0]!.events.map((item) => item.eventType),
        ["started", "ringing", "answer", "answered", "record", "completed"],
      );
    } finally {
      await server.close();
    }
  });

  it("endOnKey: the key ends it; timeOut alone ends it at its limit; with no condition it runs in the background", async () => {
    const byKey = await voicemail({ endOnKey: "#" });
    const byTime = await voicemail({ timeOut: 5 });
    const background = await voicemail({});
    try {
      const pressed = await runOn([await scriptOn("vonage", [{}, { press: "12#", expect: { says: "Thanks, goodbye." } }])], byKey.url);
      assert.deepEqual(findingsOf(pressed), []);
      const keyEvent = recordEvent(byKey)!;
      assert.equal(Date.parse(keyEvent.end_time) - Date.parse(keyEvent.start_time), 900);
      const timed = await runOn([await scriptOn("vonage", [{}, { silence_ms: 20_000, expect: { says: "Thanks, goodbye." } }])], byTime.url);
      assert.deepEqual(findingsOf(timed), []);
      const timeEvent = recordEvent(byTime)!;
      assert.equal(Date.parse(timeEvent.end_time) - Date.parse(timeEvent.start_time), 5000);
      const untimed = await runOn(
        [await scriptOn("vonage", [{ expect: { says: "Leave a message after the beep. Thanks, goodbye.", ends: "handler_hangup" } }])],
        background.url,
      );
      assert.deepEqual(findingsOf(untimed), []);
    } finally {
      await Promise.all([byKey.close(), byTime.close(), background.close()]);
    }
  });
});
