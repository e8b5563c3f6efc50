/**
 * `npm run bench:designs`: load-mode sender designs side by side against one trivial handler (issue
 * 15), each run sandwiched between two autocannon runs so that every ratio compares rates taken moments
 * apart. Figures, never assertions.
 *  - shipped: vwh's engine (src/simulate.ts) on its fast client — what `vwh simulate --calls` runs;
 *  - lean: the same engine functions (expandFlow, prepareDelivery, checkReply, LoadStats) driven by
 *    plain callbacks on raw sockets, replies read by the same llhttp parser: no promises, no pool or timeouts;
 *  - compiled: what a load-only path beside the engine would do (the option left open in issue 15): per
 *    event the platform's encoder, the signer, the fast client and the platform's reply parser with the
 *    flow's expectation, straight into LoadStats — none of the engine's generic planning, delivery and
 *    checking layers (no retries, faults or dead letters: a measure of the glue, not a sender to ship);
 *  - minimal: only the per-event work the issue names — a fresh id, a JSON body, an HMAC-SHA256
 *    signature, a POST on a raw socket, a minimal response parser, JSON.parse, a validity check and a
 *    histogram record.
 * The gaps say what each layer costs. BENCH_ROUNDS (default 3) and BENCH_SECONDS (default 4).
 */
import { createHmac } from "node:crypto";
import { connect, type Socket } from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createHistogram } from "node:perf_hooks";
import { writeFile } from "node:fs/promises";
import { checkReply, type Finding } from "../../src/checks/reply.js";
import { compareActions } from "../../src/checks/expectations.js";
import { createFastClient } from "../../src/transport/fast-client/index.js";
import { ResponseParser } from "../../src/transport/fast-client/llhttp.js";
import { builtRequest, expandFlow, type PlannedEvent } from "../../src/engine/expand-flow.js";
import { randomId } from "../../src/core/ids.js";
import { type LoadedFlow } from "../../src/files/call-flow.js";
import { runLoad } from "../../src/engine/load/run.js";
import { loadFlows } from "../../src/files/read-inputs.js";
import { LoadStats } from "../../src/engine/load/stats.js";
import { parseStandardSecret } from "../../src/signing/standard.js";
import { prepareDelivery } from "../../src/engine/address.js";
import { connections, rounds, runAutocannon, seconds, spread, startHandler } from "./helpers.js";
import { engineOptions } from "../engine-helpers.js";
import { newSecret, withTempDir } from "../helpers.js";

interface Figure {
  perSecond: number;
  cpuUs: number;
  p99Ms: number;
}

type Design = (events: number) => Promise<{ p99Ms: number; failed: number }>;

const secret = newSecret();

async function measure(events: number, design: Design): Promise<Figure> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { p99Ms, failed } = await design(events);
  const used = process.cpuUsage(cpu);
  if (failed > 0) throw new Error(`${failed} events failed`);
  return { perSecond: events / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / events, p99Ms };
}

/** `connections` raw keep-alive sockets, each sending its next request when a reply completes. */
function rawSockets(url: URL, events: number, open: (socket: Socket, next: () => boolean) => void): Promise<void> {
  let sent = 0;
  let closed = 0;
  return new Promise((resolve, reject) => {
    for (let i = 0; i < connections; i++) {
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      socket.on("error", reject);
      socket.on("close", () => ++closed === connections && resolve());
      open(socket, () => {
        if (sent >= events) {
          socket.end();
          return false;
        }
        sent++;
        return true;
      });
    }
  });
}

/** vwh's engine functions for one webhook at a time per socket, on callbacks. */
function leanDesign(loaded: LoadedFlow, url: string): Design {
  const target = new URL(url);
  const prefix = `POST ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  return async (events) => {
    const options = engineOptions(url, secret);
    const stats = new LoadStats();
    await rawSockets(target, events, (socket, next) => {
      let planned: PlannedEvent | undefined;
      let startedAt = 0;
      const send = () => {
        if (!next()) return;
        [planned] = expandFlow(loaded, { start: new Date(), url: target, callId: randomId("call"), freshIds: true });
        const request = prepareDelivery(planned!, options, 1, Date.now());
        let head = prefix;
        for (const name in request.headers) head += `${name}: ${request.headers[name]}\r\n`;
        head += `content-length: ${planned!.body.length}\r\n\r\n`;
        startedAt = performance.now();
        socket.write(Buffer.concat([Buffer.from(head, "latin1"), planned!.body]));
      };
      let status = 0;
      let headers: Record<string, string> = {};
      let chunks: Buffer[] = [];
      const parser = new ResponseParser({
        onHeaders: (code, received) => {
          status = code;
          headers = received;
          chunks = [];
          return 0;
        },
        onBody: (chunk) => void chunks.push(Buffer.from(chunk)),
        onComplete: () => {
          const latencyMs = performance.now() - startedAt;
          const event = planned!;
          const check = checkReply({
            platform: loaded.platform,
            eventType: event.eventType,
            request: builtRequest(event),
            expect: event.expect,
            status,
            headers,
            body: Buffer.concat(chunks),
            latencyMs,
            budgetMs: options.budgetMs,
            strictLatency: false,
          });
          const failures = check.failures;
          stats.recordEvent("call", {
            index: 0,
            sequence: event.sequence,
            eventType: event.eventType,
            eventId: event.eventId,
            status,
            latencyMs,
            attempts: 1,
            passed: failures.length === 0,
            failures,
            warnings: check.warnings,
            instructionTypes: [],
            deadLettered: false,
            step: undefined,
            duplicate: undefined,
          });
          send();
        },
      });
      socket.on("data", (data: Buffer) => void parser.execute(data));
      send();
    });
    await options.dispatcher.close();
    return { p99Ms: stats.latency().p99Ms, failed: stats.eventsFailed };
  };
}

/** The seam's per-event work on the fast client, without the engine's generic layers around it. */
function compiledDesign(loaded: LoadedFlow, url: string): Design {
  const target = new URL(url);
  const { platform } = loaded;
  const event = loaded.flow.events![0]!;
  const eventType = event.event_type!;
  // As checkReply passes it.
  const expected = event.expect!.instructions! as readonly (string | { type: string })[];
  const call = { from: undefined, to: undefined, direction: undefined };
  return async (events) => {
    const options = engineOptions(url, secret);
    const signer = options.signer!;
    const client = createFastClient({ connections });
    const stats = new LoadStats();
    let next = 0;
    const worker = async () => {
      while (next++ < events) {
        const callId = randomId("call");
        const eventId = randomId("evt");
        const now = performance.timeOrigin + performance.now();
        const request = platform.encode({ eventType, eventId, sequence: 1, timestamp: new Date(now), payload: {}, call: { callId, ...call }, url: target });
        const signed = signer.sign({
          id: eventId,
          timestamp: Math.floor(now / 1000),
          body: request.body,
          method: "POST",
          url: target.href,
          contentType: request.contentType!,
        });
        const headers = Object.assign({ "content-type": request.contentType!, "user-agent": "vwh", "vwh-attempt": "1" }, signed.headers);
        const outcome = await client.deliver({
          url: target,
          method: "POST",
          headers,
          body: request.body,
          timeoutMs: 5000,
          dispatcher: options.dispatcher,
          now: () => performance.timeOrigin + performance.now(),
        });
        const failures: Finding[] = [];
        if (!outcome.ok) failures.push({ kind: outcome.kind, message: outcome.message });
        else {
          const parsed = platform.parseReply(outcome, { eventType, waits: true, expectsActions: true, request });
          failures.push(...parsed.failures, ...compareActions(expected, parsed.actions, "instructions"));
        }
        const status = outcome.ok ? outcome.status : undefined;
        const latencyMs = outcome.ok ? outcome.latencyMs : undefined;
        stats.recordEvent(callId, {
          index: 0,
          sequence: 1,
          eventType,
          eventId,
          status,
          latencyMs,
          attempts: 1,
          passed: failures.length === 0,
          failures,
          warnings: [],
          instructionTypes: [],
          deadLettered: false,
          step: undefined,
          duplicate: undefined,
        });
      }
    };
    try {
      await Promise.all(Array.from({ length: connections }, worker));
    } finally {
      await client.close();
      await options.dispatcher.close();
    }
    return { p99Ms: stats.latency().p99Ms, failed: stats.eventsFailed };
  };
}

/** The minimal per-event work and nothing else. */
function minimalDesign(url: string): Design {
  const target = new URL(url);
  const key = parseStandardSecret({ value: secret, source: "bench" });
  const prefix = `POST ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\nuser-agent: bench\r\n`;
  return async (events) => {
    const histogram = createHistogram();
    let failed = 0;
    await rawSockets(target, events, (socket, next) => {
      let received = "";
      let startedAt = 0;
      const send = () => {
        if (!next()) return;
        const id = randomId("evt");
        const timestamp = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({
          event_type: "call.started",
          event_id: id,
          call_id: randomId("call"),
          sequence: 1,
          timestamp: new Date().toISOString(),
          payload: {},
        });
        const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
        startedAt = performance.now();
        socket.write(
          `${prefix}webhook-id: ${id}\r\nwebhook-timestamp: ${timestamp}\r\nwebhook-signature: v1,${signature}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          "latin1",
        );
      };
      socket.on("data", (data: Buffer) => {
        received += data.toString("latin1");
        for (;;) {
          const headEnd = received.indexOf("\r\n\r\n");
          if (headEnd === -1) return;
          const length = Number(/content-length: *(\d+)/i.exec(received.slice(0, headEnd))?.[1] ?? 0);
          if (received.length < headEnd + 4 + length) return;
          const reply = JSON.parse(received.slice(headEnd + 4, headEnd + 4 + length)) as { instructions?: { type?: unknown }[] };
          received = received.slice(headEnd + 4 + length);
          if (!Array.isArray(reply.instructions) || reply.instructions[0]?.type !== "speak") failed++;
          histogram.record(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
          send();
        }
      });
      send();
    });
    return { p99Ms: histogram.percentile(99) / 1000, failed };
  };
}

function shippedDesign(flows: LoadedFlow[], url: string): Design {
  return async (events) => {
    const client = createFastClient({ connections });
    const options = engineOptions(url, secret, { transport: client.deliver });
    try {
      const result = await runLoad(flows, options, { calls: events, concurrency: connections, rate: undefined });
      return { p99Ms: result.stats.latency().p99Ms, failed: result.stats.eventsFailed };
    } finally {
      await client.close();
      await options.dispatcher.close();
    }
  };
}

await withTempDir(async (dir) => {
  const flowFile = join(dir, "flow.json");
  await writeFile(
    flowFile,
    JSON.stringify({ version: 1, name: "bench", events: [{ event_type: "call.started", expect: { instructions: ["speak", "listen"] } }] }),
  );
  const flows = await loadFlows([flowFile]);
  const envelope = JSON.stringify({
    event_type: "call.started",
    event_id: "evt_bench",
    call_id: "call_bench",
    sequence: 1,
    timestamp: new Date().toISOString(),
    payload: {},
  });
  const handler = await startHandler();
  const designs: [string, Design][] = [
    ["shipped: vwh engine + fast client", shippedDesign(flows, handler.url)],
    ["lean: vwh engine functions, callbacks, raw sockets", leanDesign(flows[0]!, handler.url)],
    ["compiled: the seam per event on the fast client, no engine layers", compiledDesign(flows[0]!, handler.url)],
    ["minimal: the issue's per-event work only", minimalDesign(handler.url)],
  ];
  console.log(
    `vwh sender designs — load average at start: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")}`,
  );
  console.log(`1-event flow against a trivial handler, ${connections} connections, ${rounds} rounds of ${seconds} s; min / median / max\n`);
  try {
    const results = new Map<string, { figures: Figure[]; ratios: number[]; autocannonP99: number[] }>();
    for (const [, design] of designs) await measure(5000, design); // JIT warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [label, design] of designs) {
        const before = await runAutocannon(handler.url, envelope, 1);
        const figure = await measure(Math.round(before.perSecond * seconds * 0.7), design);
        const after = await runAutocannon(handler.url, envelope, 1);
        const entry = results.get(label) ?? { figures: [], ratios: [], autocannonP99: [] };
        entry.figures.push(figure);
        entry.ratios.push(figure.perSecond / ((before.perSecond + after.perSecond) / 2));
        entry.autocannonP99.push((before.p99Ms + after.p99Ms) / 2);
        results.set(label, entry);
      }
    }
    for (const [label, { figures, ratios, autocannonP99 }] of results) {
      console.log(label);
      console.log(`  ratio to autocannon (same round)   ${spread(ratios, 2)}`);
      console.log(
        `  events/s                           ${spread(
          figures.map((figure) => figure.perSecond),
          0,
        )}`,
      );
      console.log(
        `  CPU µs per event                   ${spread(
          figures.map((figure) => figure.cpuUs),
          1,
        )}`,
      );
      console.log(
        `  p99 ms (autocannon's)              ${spread(
          figures.map((figure) => figure.p99Ms),
          1,
        )}   (${spread(autocannonP99, 1)})\n`,
      );
    }
  } finally {
    handler.stop();
  }
});
