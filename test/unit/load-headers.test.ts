/**
 * Load mode reads every reply's headers through the fast client, which reuses the headers object of a header
 * section that repeats (src/transport/fast-client/llhttp.ts): verdicts that depend on a reply's headers are the
 * same as through undici, also when the section changes in the middle of a run. In process on a fake clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSimulationOptions } from "../../src/api.js";
import { flowFromValue } from "../../src/files/call-flow.js";
import { runFastLoad, runLoad, type LoadResult } from "../../src/engine/load/run.js";
import { toJsonLoadReport } from "../../src/ui/load-report.js";
import { fakeClock, newSecret, startServer } from "../helpers.js";

const secret = newSecret();
const reply = JSON.stringify({ instructions: [{ type: "speak", text: "Hello" }, { type: "listen" }] });

async function run(url: string, fast: boolean): Promise<{ result: LoadResult; report: ReturnType<typeof toJsonLoadReport> }> {
  const clock = fakeClock();
  const simulation = createSimulationOptions({ url, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait });
  const flow = await flowFromValue(
    { version: 1, name: "headers", events: [{ event_type: "call.started", expect: { instructions: ["speak", "listen"] } }] },
    "flow.json",
  );
  const load = { calls: 8, concurrency: 1, rate: undefined };
  try {
    const result = await (fast ? runFastLoad([flow], simulation, { ...load, pipelining: undefined }) : runLoad([flow], simulation, load));
    const description = { target: url, scheme: "standard", budgetMs: simulation.budgetMs, timeoutMs: 5000, retries: 0, profile: "vwh", seed: 1, ...load };
    return { result, report: toJsonLoadReport(result, description, 1) };
  } finally {
    await simulation.dispatcher.close();
  }
}

describe("load mode: verdicts that read a reply's headers", () => {
  it("judges each reply by its own content-type through the fast client as through undici, when the header section changes mid-run", async () => {
    // Calls 1-4 get one header section four times over; from call 5 the content type is wrong.
    let count = 0;
    const server = await startServer((_request, response) => {
      count++;
      response.writeHead(200, { "content-type": count <= 4 ? "application/json" : "text/plain", "content-length": Buffer.byteLength(reply) }).end(reply);
    });
    try {
      const fast = await run(server.url, true);
      count = 0;
      const viaUndici = await run(server.url, false);
      for (const { result, report } of [fast, viaUndici]) {
        assert.deepEqual([result.stats.callsPassed, result.stats.callsFailed, result.stats.eventsFailed], [4, 4, 4]);
        assert.deepEqual(report.failures_by_kind, { reply: 4 });
        assert.match(JSON.stringify(report.failure_samples[0]), /expected application\/json, got .*text\/plain/);
      }
      assert.deepEqual(fast.report.failure_samples.length, viaUndici.report.failure_samples.length);
    } finally {
      await server.close();
    }
  });
});
