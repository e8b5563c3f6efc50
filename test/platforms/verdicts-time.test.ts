/**
 * Webhook timestamps follow the simulated clock (issue 23, item 7): each event is stamped when it happened
 * on the platform, not when it went out — Telnyx's call.speak.started at the start of the speech and
 * call.speak.ended after its duration; vwh's speech.detected as the caller starts speaking.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runSimulation } from "../../src/engine/run.js";
import { findingsOf, runOn, scriptOn, sendJson, stubHandler } from "./verdicts-helpers.js";
import { ackThenAct, openTelnyx, telnyxEvent, telnyxOptions, telnyxScript, turnFailures } from "./verdicts-telnyx-harness.js";

const occurred = (events: ReturnType<typeof telnyxEvent>[], type: string) => Date.parse(events.find(({ data }) => data.event_type === type)!.data.occurred_at);

describe("webhook timestamps on the simulated clock (issue 23, item 7)", () => {
  it("telnyx: call.speak.started at the start of the speech, call.speak.ended after its duration", async () => {
    const harness = await openTelnyx();
    const server = await ackThenAct(harness, async (client, type, id) => {
      if (type === "call.initiated") await client.calls.actions.answer(id, {});
      if (type === "call.answered") await client.calls.actions.speak(id, { payload: "Hello and welcome to the clinic", voice: "female" });
      if (type === "call.speak.ended") await client.calls.actions.hangup(id, {});
    });
    try {
      const result = await runSimulation(
        [telnyxScript([{ expect: { says: "Hello and welcome to the clinic" } }], { command_timeout_ms: 5000 })],
        telnyxOptions(harness, server.url),
      );
      assert.deepEqual(turnFailures(result), []);
      const events = server.requests.map(telnyxEvent);
      assert.equal(occurred(events, "call.speak.started"), occurred(events, "call.answered"));
      assert.equal(occurred(events, "call.speak.ended") - occurred(events, "call.speak.started"), 6 * 400);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("telnyx: a hangup 1 s into a speak ends it 1 s after it started", async () => {
    const harness = await openTelnyx();
    const server = await ackThenAct(harness, async (client, type, id) => {
      if (type === "call.initiated") await client.calls.actions.answer(id, {});
      if (type === "call.answered") await client.calls.actions.speak(id, { payload: "Hello and welcome to the clinic", voice: "female" });
    });
    try {
      const result = await runSimulation(
        [telnyxScript([{}, { hangup: true, after_ms: 1000 }], { command_timeout_ms: 5000 })],
        telnyxOptions(harness, server.url),
      );
      assert.deepEqual(turnFailures(result), []);
      const events = server.requests.map(telnyxEvent);
      assert.equal(occurred(events, "call.speak.ended") - occurred(events, "call.speak.started"), 1000);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("vwh: speech.detected as the caller starts speaking, speech.transcribed when they are done", async () => {
    const server = await stubHandler("/webhooks/voice", (request, response) => {
      const { event_type: type } = JSON.parse(request.body.toString("utf8")) as { event_type: string };
      if (type === "call.started") return sendJson(response, { instructions: [{ type: "speak", text: "How can I help?" }, { type: "listen" }] });
      if (type === "speech.transcribed") return sendJson(response, { instructions: [{ type: "speak", text: "Goodbye." }, { type: "hangup" }] });
      response.writeHead(204).end();
    });
    try {
      const result = await runOn([await scriptOn("vwh", [{}, { say: "I want to book a visit", expect: { says: "Goodbye." } }])], server.url);
      assert.deepEqual(findingsOf(result), []);
      const stamps = Object.fromEntries(
        server.requests
          .map((request) => JSON.parse(request.body.toString("utf8")) as { event_type: string; timestamp: string })
          .map((event) => [event.event_type, Date.parse(event.timestamp)]),
      );
      assert.equal(stamps["speech.transcribed"]! - stamps["speech.detected"]!, 6 * 400);
    } finally {
      await server.close();
    }
  });
});
