/**
 * Trustworthy verdicts on Telnyx (issue 23): a handler that acknowledges a webhook first and commands a
 * moment later passes; one that never commands fails saying which it was and where commands go. In
 * process, on an injected clock: time moves only when vwh waits for commands.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runSimulation } from "../../src/engine/run.js";
import { json, startServer } from "../helpers.js";
import { ackThenAct, openTelnyx, platformTimePasses, telnyxEvent, telnyxOptions, telnyxScript, turnFailures } from "./verdicts-telnyx-harness.js";

describe("telnyx: acknowledge, then act (issue 23, item 3)", () => {
  it("a handler that answers the webhook 200 and sends answer 500 ms later passes", async () => {
    const harness = await openTelnyx();
    const server = await ackThenAct(harness, async (client, type, id) => {
      if (type === "call.initiated") {
        assert.ok(await platformTimePasses(harness.clock, 500), "vwh stopped waiting for the answer command");
        await client.calls.actions.answer(id, {});
      }
      if (type === "call.answered") {
        await platformTimePasses(harness.clock, 100);
        await client.calls.actions.speak(id, { payload: "Hello there", voice: "female" });
      }
      if (type === "call.speak.ended") await client.calls.actions.hangup(id, {});
    });
    try {
      const result = await runSimulation([telnyxScript([{ expect: { says: "Hello there", ends: "handler_hangup" } }])], telnyxOptions(harness, server.url));
      assert.deepEqual(turnFailures(result), []);
      assert.equal(result.flows[0]!.passed, true);
      assert.deepEqual(server.errors, []);
      assert.deepEqual(
        server.requests.map((request) => telnyxEvent(request).data.event_type),
        ["call.initiated", "call.answered", "call.speak.started", "call.speak.ended", "call.hangup"],
      );
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("one that answers 200 and never commands fails: no command in N ms, and the API URL it should have used", async () => {
    const harness = await openTelnyx();
    const server = await ackThenAct(harness, async () => {});
    try {
      const result = await runSimulation([telnyxScript([{}], { command_timeout_ms: 1500 })], telnyxOptions(harness, server.url));
      assert.equal(result.flows[0]!.passed, false);
      const [message] = turnFailures(result);
      assert.match(
        message!,
        /never answered the call: it accepted the webhook \(2xx\) but sent no answer command within 1500 ms \(settings\.command_timeout_ms\)/,
      );
      assert.ok(message!.includes(`no command reached vwh's Call Control API at all`) && message!.includes(`TELNYX_BASE_URL=${harness.baseURL}`), message);
      assert.equal(result.flows[0]!.turns![0]!.ended, "timeout");
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("one that refuses the webhook fails as 'no 2xx'", async () => {
    const harness = await openTelnyx();
    const server = await startServer((_request, response) => json(response, 503, { busy: true }), "/webhooks/telnyx");
    try {
      const result = await runSimulation([telnyxScript([{}])], telnyxOptions(harness, server.url));
      assert.ok(
        turnFailures(result).some((message) => /never answered the call: it did not accept the webhook \(no 2xx/.test(message)),
        turnFailures(result).join("\n"),
      );
    } finally {
      await server.close();
      await harness.close();
    }
  });
});
