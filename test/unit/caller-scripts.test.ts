/**
 * Caller scripts on the vwh platform (SPEC §7): vwh plays the platform against the reference handler in
 * process, on a fake clock — turns, expectations, end reasons, loops, faults — and bad scripts are refused.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSimulationOptions, simulate, type CallFlow, type SimulateOptions } from "../../src/api.js";
import { formatSummary, toJsonReport } from "../../src/ui/simulate-report.js";
import { toJUnitXml } from "../../src/ui/junit.js";
import { createColors } from "../../src/ui/color.js";
import { flowFromValue, loadFlow } from "../../src/files/call-flow.js";
import { runLoad } from "../../src/engine/load/run.js";
import { runSimulation } from "../../src/engine/run.js";
import { type FlowResult } from "../../src/engine/results.js";
import { fakeClock, fixture, json, loadExampleHandler, newSecret, startListener, startServer, withFlowFile, type TestServer } from "../helpers.js";

const secret = newSecret();
let reference: TestServer;
before(async () => {
  const example = await loadExampleHandler();
  reference = await startListener(example.createVoiceHandler({ secrets: [secret] }));
});
after(() => reference.close());

async function play(script: unknown[], options: Partial<SimulateOptions> & { server?: TestServer; call?: Record<string, unknown> } = {}): Promise<FlowResult> {
  const { server = reference, call = { from: "+15550100001", to: "+15550100002" }, ...rest } = options;
  const loaded = await flowFromValue({ version: 1, name: "script", call, script }, "script.json");
  const clock = fakeClock();
  const simulation = createSimulationOptions({ url: server.url, secrets: [secret], seed: 7, now: clock.now, wait: clock.wait, ...rest });
  try {
    const result = await runSimulation([loaded], simulation);
    return result.flows[0]!;
  } finally {
    await simulation.dispatcher.close();
  }
}

const failures = (flow: FlowResult) => [
  ...(flow.turns ?? []).flatMap((turn) =>
    turn.failures.map((finding) => `step ${turn.step + 1} ${turn.label}: ${finding.path ? `${finding.path}: ` : ""}${finding.message}`),
  ),
  ...flow.events.flatMap((event) => event.failures.map((finding) => `${event.eventType}: ${finding.message}`)),
];

describe("caller scripts on the vwh platform", () => {
  it("plays the bundled scripts against the reference handler: turns, actions and end reasons", async () => {
    for (const name of ["scripts/vwh-menu.json", "scripts/vwh-reschedule.json"]) {
      const loaded = await loadFlow(fixture(name));
      const clock = fakeClock();
      const simulation = createSimulationOptions({ url: reference.url, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait });
      const result = await runSimulation([loaded], simulation).finally(() => simulation.dispatcher.close());
      const flow = result.flows[0]!;
      assert.deepEqual(failures(flow), [], name);
      assert.ok(flow.passed, name);
    }
    const menu = await play(
      [{ expect: { actions: ["speak", "listen"] } }, { press: "2" }, { press: "0", expect: { ends: "transferred", transfers_to: "+15550100999" } }],
      {
        call: { from: "+15550100001", to: "+15550100300" },
      },
    );
    assert.deepEqual(
      menu.turns!.map((turn) => [turn.label, turn.actions.join(","), turn.ended ?? "-"]),
      [
        ["connect", "speak,listen", "-"],
        ["press 2", "speak,listen", "-"],
        ["press 0", "speak,transfer", "transferred"],
      ],
    );
    assert.deepEqual(
      menu.events.map((event) => event.eventType),
      ["call.started", "dtmf.received", "dtmf.received", "call.ended"],
    );
    assert.deepEqual(
      menu.events.map((event) => event.step),
      [0, 1, 2, 2],
    );
  });

  it("sends what the caller does as the platform's events, and hangs up when the script runs out", async () => {
    const flow = await play([{}, { say: "I want to reschedule" }, { silence_ms: 6000 }]);
    assert.deepEqual(failures(flow), []);
    assert.deepEqual(
      flow.events.map((event) => event.eventType),
      ["call.started", "speech.detected", "speech.transcribed", "speech.transcribed", "call.ended"],
    );
    assert.equal(flow.turns!.at(-1)!.label, "hangup (script ran out)");
    assert.equal(flow.turns!.at(-1)!.ended, "caller_hangup");
  });

  it("fails expectations that do not hold, naming the turn and the reason", async () => {
    const flow = await play([{ expect: { actions: ["speak", "transfer"], says: { contains: "Goodbye" } } }, { say: "no that's all", expect: { ends: false } }]);
    assert.equal(flow.passed, false);
    assert.deepEqual(failures(flow), [
      "step 1 connect: actions: expected [speak, transfer], got [speak, listen]",
      'step 1 connect: says: expected to contain "Goodbye", got "Hi, this is Ava from Bright Smile Dental. How can I help you today?"',
      'step 2 say "no that\'s all": ends: expected the call to go on, but it ended (handler_hangup)',
    ]);
  });

  it('a failed turn is counted by every reporter: text, --json, JUnit and the API\'s summary — never "0 failed"', async () => {
    const clock = fakeClock();
    const flow = {
      version: 1,
      name: "script",
      call: { from: "+15550100001", to: "+15550100002" },
      script: [{ expect: { actions: ["speak", "transfer"] } }, { say: "I'd like to book a cleaning" }],
    };
    const result = await simulate([flow as unknown as CallFlow], { url: reference.url, secrets: [secret], seed: 7, now: clock.now, wait: clock.wait });
    assert.equal(result.flows[0]!.passed, false);
    assert.ok(
      result.flows[0]!.events.every((event) => event.passed),
      "the events all pass: only the turn fails",
    );
    const { summary } = result;
    assert.deepEqual([summary.failedFlows, summary.failedEvents, summary.failedTurns, summary.failed], [1, 0, 1, 1]);
    assert.equal(summary.passed + summary.failed, summary.events + summary.turns);
    const text = formatSummary(result, createColors(false));
    assert.doesNotMatch(text, /\b0 failed/);
    assert.match(text, new RegExp(`1 flow · ${summary.events} events · ${summary.turns} turns · ${summary.passed} passed · 1 failed \\(1 turn\\)`));
    const report = toJsonReport(
      result,
      { target: reference.url, scheme: "standard", budgetMs: 200, timeoutMs: 1000, retries: 0, profile: undefined, seed: 7 },
      1,
    );
    assert.deepEqual([report.summary.failed, report.summary.failed_turns, report.summary.failed_events, report.summary.failed_flows], [1, 1, 0, 1]);
    assert.match(toJUnitXml(result), new RegExp(`<testsuites name="vwh simulate" tests="${summary.events + summary.turns}" failures="1"`));
  });

  it("fails a call the handler ends while steps remain, naming the step that never happened", async () => {
    const flow = await play([{}, { say: "goodbye" }, { press: "1" }]);
    assert.deepEqual(failures(flow), ['step 2 say "goodbye": the call ended (handler_hangup) before step 3 (press 1) could happen']);
  });

  it("stops a call that loops at --max-hops", async () => {
    // A handler that never listens: the platform keeps reporting the end of playback.
    const looping = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "speak", text: "again" }] }));
    try {
      const flow = await play([{}, { say: "hello" }], { server: looping, maxHops: 5 });
      assert.equal(flow.passed, false);
      assert.equal(flow.events.length, 5);
      assert.match(
        failures(flow)[0]!,
        /^step 1 connect: more than --max-hops 5 webhooks in one call: the handler loops \(last: playback\.finished to \/webhooks\/voice\)$/,
      );
    } finally {
      await looping.close();
    }
  });

  it("barge-in: an interrupt over an interruptible prompt stops playback and is heard by the listen", async () => {
    const flow = await play([
      {},
      { interrupt: "what are your hours", expect: { actions: ["listen", "speak", "listen"], says: { contains: "Monday to Friday" } } },
    ]);
    assert.deepEqual(failures(flow), []);
    assert.deepEqual(
      flow.events.map((event) => event.eventType),
      ["call.started", "speech.detected", "playback.finished", "speech.transcribed", "call.ended"],
    );
  });

  it("never follows a redirect off the handler's origin", async () => {
    const redirecting = await startServer((_request, response) =>
      json(response, 200, { instructions: [{ type: "redirect", url: "http://198.51.100.7/next" }] }),
    );
    try {
      const flow = await play([{}], { server: redirecting });
      assert.ok(redirecting.requests.every((request) => request.url.startsWith("/webhooks/voice")));
      assert.match(failures(flow).join("\n"), /not followed: http:\/\/198\.51\.100\.7 is not the handler's origin/);
    } finally {
      await redirecting.close();
    }
  });

  it("runs scripts in load mode, with duplicates checked for idempotency", async () => {
    const loaded = await loadFlow(fixture("scripts/vwh-menu.json"));
    const clock = fakeClock();
    const simulation = createSimulationOptions({ url: reference.url, secrets: [secret], seed: 3, duplicates: 1, now: clock.now, wait: clock.wait });
    const result = await runLoad([loaded], simulation, { calls: 6, concurrency: 3, rate: undefined }).finally(() => simulation.dispatcher.close());
    assert.equal(result.stats.callsFailed, 0);
    assert.equal(result.stats.callsPassed, 6);
    assert.equal(result.stats.eventsFailed, 0);
  });
});

describe("bad caller scripts are refused before anything is sent", () => {
  const cases: [string, unknown, RegExp][] = [
    [
      "events and script",
      { version: 1, name: "x", events: [{ event_type: "call.started" }], script: [{}] },
      /script: a file has either events or script, not both$/,
    ],
    ["an unknown platform", { version: 1, name: "x", platform: "skype", script: [{}] }, /platform: expected (one of )?"vwh".*got "skype"/],
    [
      "two caller actions",
      { version: 1, name: "x", script: [{}, { say: "hi", press: "1" }] },
      /script\[1\]\.press: one caller action per step, got say and press$/,
    ],
    [
      "a later step without an action",
      { version: 1, name: "x", script: [{}, { expect: { ends: true } }] },
      /script\[1\]: expected a caller action \(say, press, silence_ms, hangup, interrupt, tool, event\); only the first step may have none$/,
    ],
    [
      "an action the platform cannot produce",
      { version: 1, name: "x", script: [{ expect: { actions: ["speak", "tool_result"] } }] },
      /script\[0\]\.expect\.actions\[1\]: vwh replies cannot produce "tool_result"/,
    ],
    [
      "a step the platform has not",
      { version: 1, name: "x", script: [{}, { tool: { name: "lookup" } }] },
      /script\[1\]\.tool: the vwh platform has no tool step/,
    ],
    ["an unbounded silence", { version: 1, name: "x", script: [{}, { silence_ms: 8.64e15 }] }, /script\[1\]\.silence_ms: expected value <= 86400000/],
  ];
  for (const [what, value, message] of cases) {
    it(`refuses ${what} with one line: file, line:column, path`, async () => {
      await withFlowFile(JSON.stringify(value, null, 2), async (file) => {
        await assert.rejects(loadFlow(file), (error: Error) => {
          assert.match(error.message, message);
          assert.ok(error.message.startsWith(`${file}:`), error.message);
          assert.ok(!error.message.includes("\n"), error.message);
          return true;
        });
      });
    });
  }
});
