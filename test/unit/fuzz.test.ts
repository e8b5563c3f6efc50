/**
 * Seeded, bounded fuzzing of every input file vwh reads (issue 12, "Show"): the bundled fixtures and
 * a recording are mutated (type confusion, deletions, huge strings, deep nesting, invalid UTF-8,
 * truncation, catastrophic regexes) and each mutant goes through what `vwh simulate` and `vwh
 * verify-signature --recording` do. Every run must end as a documented outcome — loaded and run
 * (exit 0/1/3), or refused with vwh's own input error (exit 2) whose every line names the file — and
 * never as a crash, a stack trace or a hang. In process for the bulk; a small sample through the CLI.
 *
 * The seed is fixed so a failure reproduces; VWH_FUZZ_SEED=<n> explores others.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { VwhError } from "../../src/core/errors.js";
import { recordingSchema, type LoadedFlow } from "../../src/files/call-flow.js";
import { rawBody } from "../../src/files/raw-request.js";
import { readJsonFile } from "../../src/files/json-file.js";
import { loadFlows } from "../../src/files/read-inputs.js";
import { createRandom, type Random } from "../../src/core/random.js";
import { runSimulation } from "../../src/engine/run.js";
import { createColors } from "../../src/ui/color.js";
import { toJUnitXml } from "../../src/ui/junit.js";
import { formatSummary, toJsonReport } from "../../src/ui/simulate-report.js";
import { engineOptions, standardSigner } from "../engine-helpers.js";
import { fakeClock, loadExampleHandler, newSecret, repoRoot, runInProcess, startListener, withTempDir } from "../helpers.js";

const seed = Number(process.env.VWH_FUZZ_SEED ?? 20_261_130);
const inProcessCases = 160;
// Two through the CLI (a simulate and a verify-signature), in process: argv, the command and the error report
// as bin/vwh.js runs them (each command's exit codes are spawned in its own tests); the bulk calls the loaders.
const cliCases = 2;
const hangLimitMs = 10_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random.next() * items.length)]!;

/** Every path to a value inside a document, root excluded, found without recursion. */
function paths(document: Json): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: { value: Json; path: (string | number)[] }[] = [{ value: document, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (path.length) found.push(path);
    if (Array.isArray(value)) value.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
    else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: [...path, key] });
  }
  return found;
}

function parentOf(document: Json, path: (string | number)[]): { parent: Record<string | number, Json>; key: string | number } {
  let parent = document as Record<string | number, Json>;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, Json>;
  return { parent, key: path.at(-1)! };
}

const confusedValues: Json[] = [null, true, 0, -1, 1.5, 8.64e15, 1e308, "", "x", "8.64e15", [], {}, [[[]]], { type: "speak" }, "call.started", "+15550100001"];
const deepMarker = "\u0000DEEP\u0000";

/** One mutant: the bytes of a file, and what was done to it (for the failure message). */
function mutate(source: Json, random: Random): { bytes: Buffer; mutation: string } {
  const document = structuredClone(source);
  const all = paths(document);
  const path = pick(random, all);
  const { parent, key } = parentOf(document, path);
  const where = path.join(".");
  const kind = pick(random, ["type", "delete", "huge", "deep", "utf8", "truncate", "regex", "type", "delete"] as const);
  switch (kind) {
    case "type":
      parent[key] = structuredClone(pick(random, confusedValues));
      return { bytes: Buffer.from(JSON.stringify(document)), mutation: `${where} = ${JSON.stringify(parent[key])}` };
    case "delete":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return { bytes: Buffer.from(JSON.stringify(document)), mutation: `delete ${where}` };
    case "huge":
      parent[key] = "x".repeat(200_000 + Math.floor(random.next() * 100_000));
      return { bytes: Buffer.from(JSON.stringify(document)), mutation: `${where} = a huge string` };
    case "deep": {
      parent[key] = deepMarker;
      const levels = pick(random, [65, 1000, 10_000]);
      const text = JSON.stringify(document).replace(JSON.stringify(deepMarker), `${"[".repeat(levels)}${"]".repeat(levels)}`);
      return { bytes: Buffer.from(text), mutation: `${where} nested ${levels} deep` };
    }
    case "utf8": {
      const bytes = Buffer.from(JSON.stringify(document, null, 2));
      const at = Math.floor(random.next() * bytes.length);
      return { bytes: Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), bytes.subarray(at)]), mutation: `invalid UTF-8 at byte ${at}` };
    }
    case "truncate": {
      const bytes = Buffer.from(JSON.stringify(document, null, 2));
      const at = Math.floor(random.next() * bytes.length);
      return { bytes: bytes.subarray(0, at), mutation: `truncated at byte ${at}` };
    }
    case "regex": {
      const events = (document as { events?: Json[] }).events;
      const event = Array.isArray(events) && events.length ? pick(random, events) : undefined;
      if (event && typeof event === "object" && !Array.isArray(event))
        event.expect = { instructions: [{ type: "speak", text: { matches: pick(random, ["^(.+)+!$", "(a|aa)*$", "(?<=x)y", "(", "\\1"]) } }, "listen"] };
      return { bytes: Buffer.from(JSON.stringify(document)), mutation: `a hostile regex in ${where.split(".").slice(0, 2).join(".")}` };
    }
  }
}

/** A recording of the reschedule fixture, as `vwh tunnel --record` writes it, signed with `secret`. */
async function recordingOf(secret: string): Promise<Json> {
  const flow = JSON.parse(await readFile(join(repoRoot, "fixtures", "reschedule.json"), "utf8")) as { events: { event_type: string; payload?: Json }[] };
  const signer = standardSigner(secret);
  const now = Math.floor(Date.now() / 1000);
  return {
    version: 1,
    name: "recorded reschedule",
    events: flow.events.map((event, index) => {
      const body = JSON.stringify({
        event_type: event.event_type,
        event_id: `evt_rec_${index}`,
        call_id: "call_rec",
        sequence: index + 1,
        timestamp: new Date(now * 1000).toISOString(),
        payload: event.payload ?? {},
      });
      const headers = signer.sign({
        id: `evt_rec_${index}`,
        timestamp: now,
        body: Buffer.from(body),
        method: "POST",
        url: "",
        contentType: "application/json",
      }).headers;
      return {
        event_type: event.event_type,
        raw: {
          method: "POST",
          path: "/webhooks/voice",
          headers: { ...headers, "content-type": "application/json" },
          body,
          received_at: new Date(now * 1000).toISOString(),
        },
      };
    }),
  };
}

function withinLimit<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what} did not finish within ${hangLimitMs} ms`)), hangLimitMs)),
  );
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

/** A refusal must be vwh's own input error (exit 2) whose every line names the file. */
function assertRefusal(error: unknown, file: string, context: string): void {
  assert.ok(error instanceof VwhError, `${context}: not a vwh error (would exit 70): ${error instanceof Error ? error.stack : String(error)}`);
  assert.equal(error.exitCode, 2, `${context}: ${error.message}`);
  for (const line of error.message.split("\n")) assert.ok(line.startsWith(file), `${context}: an error line that does not name the file: ${line}`);
}

describe("fuzzing the input files", async () => {
  const secret = newSecret();
  const { createVoiceHandler } = await loadExampleHandler();
  // Scripted flows and caller scripts alike (fixtures/scripts/), not the generated schema nor the reply corpus (fixtures/conformance/).
  const fixtures = (await readdir(join(repoRoot, "fixtures"), { recursive: true })).filter(
    (name) => name.endsWith(".json") && !name.startsWith("schema") && !name.startsWith("conformance"),
  );
  const corpus: { name: string; document: Json }[] = [
    ...(await Promise.all(fixtures.map(async (name) => ({ name, document: JSON.parse(await readFile(join(repoRoot, "fixtures", name), "utf8")) as Json })))),
    { name: "recording.json", document: await recordingOf(secret) },
  ];

  it(`${inProcessCases} mutants through loading, simulation, reports and recording checks (seed ${seed})`, { timeout: 60_000 }, async () => {
    const random = createRandom(seed);
    const handler = await startListener(createVoiceHandler({ secrets: [secret] }));
    // The caller's speech and the agent's replies take platform time (vapi-llm's "Book a table": 1.2 s): on a fake clock, not the wall's.
    const clock = fakeClock();
    const options = engineOptions(handler.url, secret, {
      policy: { timeoutMs: 2000, retries: 0, backoffMs: 1, timeScale: 1 },
      now: clock.now,
      wait: clock.wait,
    });
    const verifier = standardSigner(secret);
    const outcomes = { refused: 0, ran: 0 };
    try {
      await withTempDir(async (dir) => {
        for (let index = 0; index < inProcessCases; index++) {
          const source = pick(random, corpus);
          const { bytes, mutation } = mutate(source.document, random);
          const file = join(dir, `${index}-${source.name.replace(/\//g, "-")}`);
          await writeFile(file, bytes);
          const context = `case ${index} (seed ${seed}) ${source.name}: ${mutation}`;

          let flows: LoadedFlow[] | undefined;
          try {
            flows = await withinLimit(loadFlows([file]), `loading ${context}`);
          } catch (error) {
            assertRefusal(error, file, context);
            outcomes.refused++;
          }
          if (flows) {
            const began = clock.now();
            const result = await withinLimit(runSimulation(flows, options), `simulating ${context}`);
            // On the fake clock a wait takes no real time: the platform time the run waited is held to the same limit.
            const waited = clock.now() - began;
            assert.ok(waited <= hangLimitMs, `hang: simulating ${context} waited ${waited} ms of platform time (over ${hangLimitMs} ms)`);
            const exitCode = result.unreachable ? 3 : result.flows.some((flow) => !flow.passed) ? 1 : 0;
            JSON.stringify(
              toJsonReport(result, { target: handler.url, scheme: "standard", budgetMs: 200, timeoutMs: 2000, retries: 0, profile: undefined, seed }, exitCode),
            );
            toJUnitXml(result);
            formatSummary(result, createColors(false));
            outcomes.ran++;
          }
          if (source.name === "recording.json") {
            try {
              const { value } = await readJsonFile(file, recordingSchema, "recording");
              for (const event of value.events) {
                verifier.verify(
                  { headers: event.raw.headers, body: rawBody(event.raw), method: event.raw.method, url: "" },
                  { now: Date.parse(event.raw.received_at) / 1000, toleranceSeconds: 300 },
                );
              }
            } catch (error) {
              assertRefusal(error, file, `verify-signature --recording, ${context}`);
            }
          }
        }
      });
    } finally {
      await options.dispatcher.close();
      await handler.close();
    }
    // The mix exercises both sides: refusals and runs.
    assert.ok(outcomes.refused > 20 && outcomes.ran > 20, JSON.stringify(outcomes));
  });

  it(`${cliCases} mutants through the CLI: a documented exit code, no stack trace`, { timeout: 60_000 }, async () => {
    const random = createRandom(seed ^ 0x5eed);
    const handler = await startListener(createVoiceHandler({ secrets: [secret] }));
    try {
      await withTempDir(async (dir) => {
        const runs = await Promise.all(
          Array.from({ length: cliCases }, async (_, index) => {
            // The last checks the recording offline; the others replay fixtures and the recording.
            const verify = index === cliCases - 1;
            const source = verify ? corpus.at(-1)! : corpus[index % corpus.length]!;
            const { bytes, mutation } = mutate(source.document, random);
            const file = join(dir, `${index}-${source.name.replace(/\//g, "-")}`);
            await writeFile(file, bytes);
            const args = verify ? ["verify-signature", "--recording", file, "--json"] : ["simulate", file, "--url", handler.url, "--json"];
            return {
              context: `CLI case ${index} (seed ${seed}) ${source.name}: ${mutation}`,
              file,
              result: await runInProcess(args, { env: { VWH_SECRET: secret } }),
            };
          }),
        );
        for (const { context, file, result } of runs) {
          assert.ok([0, 1, 2, 3].includes(result.code ?? -1), `${context}: exit ${result.code}\n${result.stderr}`);
          assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${context}: a stack trace`);
          assert.doesNotMatch(result.stderr, /internal error|unexpected error/, context);
          const parsed = JSON.parse(result.stdout) as { error?: { exit_code: number } };
          if (result.code === 2) {
            assert.equal(parsed.error?.exit_code, 2, context);
            for (const line of result.stderr.trimEnd().split("\n")) assert.ok(line.startsWith(`vwh: ${file}`) || line.startsWith(file), `${context}: ${line}`);
          }
        }
      });
    } finally {
      await handler.close();
    }
  });
});
