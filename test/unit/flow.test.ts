import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { expandFlow } from "../../src/engine/expand-flow.js";
import { loadFlow, type CallFlow } from "../../src/files/call-flow.js";
import type { Envelope } from "../../src/platforms/vwh/envelope.js";
import { vwhPlatform } from "../../src/platforms/vwh/index.js";
import { fixture, flowWith, repoRoot, withFlowFile } from "../helpers.js";

async function loadError(text: string): Promise<string> {
  return withFlowFile(text, async (file) => {
    try {
      await loadFlow(file);
    } catch (error) {
      return (error as Error).message.replace(file, "flow.json");
    }
    assert.fail("expected the flow to be rejected");
  });
}

describe("call-flow files", () => {
  it("loads every bundled fixture", async () => {
    const names = (await readdir(join(repoRoot, "fixtures"))).filter((name) => name.endsWith(".json"));
    assert.ok(names.length >= 3);
    for (const name of names) {
      const { flow } = await loadFlow(fixture(name));
      assert.ok((flow.events ?? flow.script)!.length > 0, name);
    }
  });

  it("rejects unreadable files and JSON syntax errors with line:column", async () => {
    await assert.rejects(loadFlow("/nonexistent/flow.json"), { message: "/nonexistent/flow.json: cannot read call flow: no such file" });
    assert.equal(await loadError('{\n  "version": 1,\n  "name": "x"\n  "events": []\n}'), "flow.json:4:3: invalid JSON: expected ',' or a closing bracket");
    assert.equal(await loadError('{"version": 1, "events": [tru]}'), "flow.json:1:27: invalid JSON: unexpected character");
    assert.equal(await loadError('{"version": 1,}'), "flow.json:1:15: invalid JSON: expected a double-quoted property name");
    assert.equal(await loadError(""), "flow.json:1:1: invalid JSON: expected a value");
  });

  it("names the JSON path and what was expected for schema violations", async () => {
    assert.equal(
      await loadError(flowWith([{ event_type: "call.started", expect: { instructions: ["speak", "lisen"] } }])),
      'flow.json:13:11: events[0].expect.instructions[1]: expected one of "speak", "play", "listen", "stream", "transfer", "record", "pause", "redirect", "hangup", got "lisen"',
    );
    assert.equal(
      await loadError(flowWith([{ event_type: "call.started", expect: { instructions: [{ type: "spek" }] } }])),
      'flow.json:13:21: events[0].expect.instructions[0].type: unknown type "spek" (expected one of speak, play, listen, stream, transfer, record, pause, redirect, hangup)',
    );
    assert.match(
      await loadError(flowWith([{ event_type: "call.started", expect: { instructions: [{ type: "speak", txt: "hi" }] } }])),
      /events\[0\]\.expect\.instructions\[0\]: unknown field "txt"/,
    );
    assert.match(await loadError(flowWith([])), /: events: expected number of items >= 1, got a list$/);
    assert.match(await loadError(JSON.stringify({ version: 2, name: "x", events: [{ event_type: "call.started" }] })), /: version: expected 1, got 2$/);
    assert.match(
      await loadError(flowWith([{ event_type: "speech.transcribed", payload: { text: "hi", confidence: 93 } }])),
      /events\[0\]\.payload\.confidence: expected value <= 1$/,
    );
    assert.match(await loadError(flowWith([{ event_type: "call.started", after_ms: -5 }])), /events\[0\]\.after_ms: expected value >= 0, got -5$/);
    assert.match(
      await loadError(flowWith([{ event_type: "Call Started" }])),
      /events\[0\]\.event_type: expected a dotted event type like call.started, got "Call Started"$/,
    );
    assert.match(
      await loadError(
        flowWith([
          { event_type: "call.started", sequence: 3 },
          { event_type: "call.ended", sequence: 2 },
        ]),
      ),
      /events\[1\]\.sequence: expected a sequence greater than 3/,
    );
    assert.match(
      await loadError(
        flowWith([
          { event_type: "call.started", event_id: "e1" },
          { event_type: "call.ended", event_id: "e1" },
        ]),
      ),
      /events\[1\]\.event_id: duplicate event_id "e1"/,
    );
    assert.match(
      await loadError(flowWith([{ event_type: "call.started", expect: { ack_only: true } }])),
      /events\[0\]\.expect\.ack_only: call.started waits for instructions/,
    );
    assert.match(
      await loadError(flowWith([{ event_type: "call.started", expect: { instructions: [{ type: "speak", text: { matches: "(" } }] } }])),
      /events\[0\]\.expect\.instructions\[0\]\.text\.matches: expected a regular expression RE2 can run in linear time/,
    );
    assert.match(
      await loadError(flowWith([{ event_type: "call.started", expect: { status: "ok" } }])),
      /events\[0\]\.expect\.status: expected an HTTP status or a list of them/,
    );
    assert.match(await loadError("[]"), /flow.json: expected an object, got a list/);
  });

  it("accepts unknown event types", async () => {
    await withFlowFile(flowWith([{ event_type: "custom.thing_happened", payload: { anything: [1, 2] } }]), async (file) => {
      assert.equal((await loadFlow(file)).flow.events![0]!.event_type, "custom.thing_happened");
    });
  });
});

describe("expandFlow", () => {
  const flow: CallFlow = {
    version: 1,
    name: "t",
    call: { call_id: "call_1", from: "+15550100001", to: "+15550100002" },
    events: [
      { event_type: "call.started", payload: { direction: "inbound" } },
      { event_type: "speech.transcribed", after_ms: 2400, payload: { text: "hi" } },
      { event_type: "custom.marker", sequence: 10, event_id: "fixed" },
      { event_type: "call.ended", timestamp: "2030-01-01T00:00:00Z" },
      { event_type: "call.ended", after_ms: 1500 },
    ],
  };
  const start = new Date("2026-11-23T10:00:00.000Z");
  const url = new URL("http://127.0.0.1:3000/webhooks/voice");

  it("fills in ids, sequences, timestamps from after_ms, and the caller on call.started", () => {
    let counter = 0;
    const planned = expandFlow({ flow, platform: vwhPlatform }, { start, url, newId: (prefix) => `${prefix}_${++counter}` });
    const envelopes = planned.map((event) => JSON.parse(event.body.toString()) as Envelope);
    assert.deepEqual(
      planned.map((event, index) => [event.sequence, event.eventId, envelopes[index]!.timestamp]),
      [
        [1, "evt_1", "2026-11-23T10:00:00.000Z"],
        [2, "evt_2", "2026-11-23T10:00:02.400Z"],
        [10, "fixed", "2026-11-23T10:00:02.400Z"],
        [11, "evt_3", "2030-01-01T00:00:00.000Z"],
        [12, "evt_4", "2030-01-01T00:00:01.500Z"],
      ],
    );
    assert.deepEqual(envelopes[0]!.payload, { from: "+15550100001", to: "+15550100002", direction: "inbound" });
    assert.ok(planned.every((event, index) => event.callId === "call_1" && envelopes[index]!.call_id === "call_1"));
    assert.equal(planned[1]!.afterMs, 2400);
  });

  it("puts the caller first on call.started, lets the payload win a clash in place, and keeps a __proto__ key as a field", () => {
    const payload = JSON.parse('{"to":"+15550100009","__proto__":{"x":1},"direction":"inbound"}') as Record<string, unknown>;
    const [planned] = expandFlow({ flow: { ...flow, events: [{ event_type: "call.started", payload }] }, platform: vwhPlatform }, { start, url });
    const body = planned!.body.toString();
    assert.ok(body.endsWith(',"payload":{"from":"+15550100001","to":"+15550100009","__proto__":{"x":1},"direction":"inbound"}}'), body);
  });

  it("encodes the envelope byte for byte as JSON.stringify does, call after call with the same payload objects", () => {
    // The reference: the Envelope as an object, the parties first on call.started (payload wins in place).
    const reference = (
      eventType: string,
      eventId: string,
      callId: string,
      sequence: number,
      at: Date,
      payload: Record<string, unknown>,
      call: { from?: string; to?: string; direction?: string },
    ) => {
      const merged: Record<string, unknown> = {};
      if (eventType === "call.started") for (const key of ["from", "to", "direction"] as const) if (call[key]) merged[key] = call[key];
      for (const key of Object.keys(payload)) Object.defineProperty(merged, key, { value: payload[key], enumerable: true, writable: true, configurable: true });
      const envelope: Envelope = { event_type: eventType, event_id: eventId, call_id: callId, sequence, timestamp: at.toISOString(), payload: merged };
      return JSON.stringify(envelope);
    };
    const payloads: Record<string, unknown>[] = [
      {},
      { text: 'quote " backslash \\ newline \n tab \t nul \u0000 é 😀 \ud800' },
      JSON.parse('{"to":"+15550100009","__proto__":{"x":1},"direction":"inbound","n":[1.5,-0,1e21,null,true]}') as Record<string, unknown>,
      { nested: { deep: [{ a: 1 }, "b"] }, from: "" },
    ];
    const parties = [{}, { from: "+15550100001" }, { from: "+15550100001", to: "+15550100002", direction: "outbound" as const }, { to: "+15550100003" }];
    let calls = 0;
    for (const eventType of ["call.started", "speech.transcribed", "custom.thing"]) {
      for (const payload of payloads) {
        // Twice over the parties: the second pass finds the payload's JSON made already, for other parties.
        for (const call of [...parties, ...parties]) {
          const callId = `call_${++calls}"\u2028`;
          const at = new Date(Date.UTC(2026, 10, 30, 12, 0, 0, calls));
          const request = vwhPlatform.encode({
            eventType,
            eventId: `evt_${calls}`,
            sequence: calls,
            timestamp: at,
            payload,
            call: { callId, from: call.from, to: call.to, direction: call.direction },
            url,
          });
          assert.equal(
            request.body.toString(),
            reference(eventType, `evt_${calls}`, callId, calls, at, payload, call),
            `${eventType} ${JSON.stringify(payload)} ${JSON.stringify(call)}`,
          );
        }
      }
    }
  });

  it("gives fresh event ids on every run and a generated call id when the flow has none", () => {
    const a = expandFlow({ flow: { ...flow, call: {} }, platform: vwhPlatform }, { start, url });
    const b = expandFlow({ flow: { ...flow, call: {} }, platform: vwhPlatform }, { start, url });
    assert.notEqual(a[0]!.eventId, b[0]!.eventId);
    assert.notEqual(a[0]!.callId, b[0]!.callId);
    assert.match(a[0]!.callId, /^call_/);
  });
});
