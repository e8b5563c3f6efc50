/**
 * `vwh export artillery` (issue 18): the phase mapping, the command's contract and exit paths, the
 * generated processor driven in process (as Artillery calls it), and — when Artillery is installed —
 * `artillery run` of the bundled flows against the reference handler, read back from its JSON report.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { copyFile, mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import type { RequestListener } from "node:http";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { artilleryPhase } from "../../src/export/artillery.js";
import { vwhVersion } from "../../src/core/version.js";
import {
  fixture,
  json,
  loadExampleHandler,
  newSecret,
  repoRoot,
  runInProcess,
  runVwh,
  startListener,
  startServer,
  withTempDir,
  type TestServer,
} from "../helpers.js";
import { installPrinted, printedSteps, runPrinted } from "../printed-steps.js";

const secret = newSecret();

/** The bundled flows and caller scripts of the vwh platform (the reference handler answers them). */
async function bundledFlows(): Promise<string[]> {
  const scripts = join(repoRoot, "fixtures", "scripts");
  const top = (await readdir(join(repoRoot, "fixtures"))).filter((name) => name.endsWith(".json")).map((name) => fixture(name));
  // Not the media-stream script: it needs the reference media agent and its audio clips beside it.
  return [...top, ...(await readdir(scripts)).filter((name) => /^vwh-(?!media-).*\.json$/.test(name)).map((name) => join(scripts, name))];
}

/** Exports into `dir` with a node_modules/vwh link to this checkout, so the processor's `import "vwh"` resolves. */
async function exportInto(dir: string, args: readonly string[], env: Record<string, string> = {}) {
  const result = await runInProcess(["export", "artillery", ...args, "--out", dir, "--json"], { env });
  assert.equal(result.code, 0, result.stderr);
  await mkdir(join(dir, "node_modules"), { recursive: true });
  await symlink(repoRoot, join(dir, "node_modules", "vwh"), "dir");
  return JSON.parse(result.stdout) as { written: { path: string; role: string }[]; scenarios: { function: string; scheme: string }[] };
}

/** A handler that checks signatures like the reference one, then answers every event wrongly. */
async function wrongHandler(): Promise<RequestListener> {
  const { verifySignature } = await loadExampleHandler();
  const keys = [Buffer.from(secret.slice("whsec_".length), "base64")];
  return (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (verifySignature(keys, request.headers as Record<string, string>, Buffer.concat(chunks))) return json(response, 401, { error: "invalid signature" });
      json(response, 200, { instructions: [{ type: "hangup" }] });
    });
  };
}

/** Starts a listener, keeping each request's body too (startListener records none: the listener reads the body). */
async function countingServer(listener: RequestListener): Promise<TestServer & { received: () => number; bodies: string[] }> {
  const bodies: string[] = [];
  const server = await startListener((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => bodies.push(Buffer.concat(chunks).toString("utf8")));
    listener(request, response);
  });
  return { ...server, received: () => bodies.length, bodies };
}

async function referenceHandler() {
  const { createVoiceHandler } = await loadExampleHandler();
  return countingServer(createVoiceHandler({ secrets: [secret] }));
}

describe("artilleryPhase", () => {
  it("turns two of --calls, --rate and --duration into one phase, --concurrency into maxVusers", () => {
    assert.deepEqual(artilleryPhase({ rate: 5, duration: 30, concurrency: 8 }), { name: "vwh calls", duration: 30, arrivalRate: 5, maxVusers: 8 });
    assert.deepEqual(artilleryPhase({ calls: 100, rate: 30 }), { name: "vwh calls", duration: 4, arrivalCount: 100 });
    assert.deepEqual(artilleryPhase({ calls: 100, duration: 20 }), { name: "vwh calls", duration: 20, arrivalCount: 100 });
    assert.deepEqual(artilleryPhase({ rate: 2 }), { name: "vwh calls", duration: 60, arrivalRate: 2 });
    assert.deepEqual(artilleryPhase({}), { name: "vwh calls", duration: 60, arrivalRate: 1 });
    assert.throws(() => artilleryPhase({ calls: 10 }), /--calls needs --rate or --duration/);
    assert.throws(() => artilleryPhase({ calls: 10, rate: 1, duration: 10 }), /give two of them/);
  });
});

describe("vwh export artillery", () => {
  it("spawned: exit 0 and the --json report (--vwh-spec: no npm pack in that process)", async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, "load");
      const result = await runVwh(
        ["export", "artillery", fixture("reschedule.json"), "--url", "http://127.0.0.1:3000/webhooks/voice", "--vwh-spec", "0.1.0", "--out", out, "--json"],
        { env: { VWH_SECRET: secret } },
      );
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as { written: { role: string }[]; vwh_dependency: string };
      assert.deepEqual(
        report.written.map((file) => file.role),
        ["script", "processor", "package.json"],
      );
      assert.equal(report.vwh_dependency, "0.1.0");
      assert.deepEqual(JSON.parse(await readFile(join(out, "package.json"), "utf8")).dependencies, { vwh: "0.1.0" });
    });
  });

  it("writes the script, the processor and package.json with the running vwh packed beside them, and no secret", async () => {
    await withTempDir(async (dir) => {
      const flows = await bundledFlows();
      const out = join(dir, "load");
      const url = "http://127.0.0.1:3000/webhooks/voice";
      // In process: the running vwh is packed once per process (npm pack), and the exports below reuse it.
      const result = await runInProcess(
        ["export", "artillery", ...flows, "--url", url, "--rate", "3", "--duration", "2", "--concurrency", "4", "--out", out, "--json"],
        { env: { VWH_SECRET: secret } },
      );
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as {
        written: { path: string; role: string }[];
        scenarios: { name: string; function: string }[];
        secret_env: string;
        vwh_dependency: string;
      };
      assert.deepEqual(
        report.written.map((file) => file.role),
        ["vwh tarball", "script", "processor", "package.json"],
      );
      assert.equal(report.secret_env, "VWH_SECRET");
      const script = parse(await readFile(join(out, "vwh-load.yml"), "utf8")) as {
        config: Record<string, any>;
        scenarios: { name: string; flow: { function: string }[] }[];
      };
      assert.equal(script.config["target"], url);
      assert.equal(script.config["processor"], "./vwh-processor.mjs");
      assert.deepEqual(script.config["phases"], [{ name: "vwh calls", duration: 2, arrivalRate: 3, maxVusers: 4 }]);
      assert.deepEqual(script.config["ensure"], { conditions: [{ expression: "vwh.calls.failed == 0", strict: true }] });
      assert.equal(script.scenarios.length, flows.length);
      const processor = await readFile(join(out, "vwh-processor.mjs"), "utf8");
      for (const scenario of script.scenarios) assert.match(processor, new RegExp(`export function ${scenario.flow[0]!.function}\\(context, events, done\\)`));
      assert.match(processor, /from "vwh"/);
      // The running vwh, packed beside the script: npm install there needs no registry entry for vwh.
      assert.deepEqual(JSON.parse(await readFile(join(out, "package.json"), "utf8")).dependencies, { vwh: `file:vwh-${vwhVersion()}.tgz` });
      assert.deepEqual(script.config["includeFiles"], [`vwh-${vwhVersion()}.tgz`]);
      assert.equal(report.vwh_dependency, `file:vwh-${vwhVersion()}.tgz`);
      for (const file of report.written.filter((written) => written.role !== "vwh tarball"))
        assert.ok(
          !(await readFile(file.path.startsWith("/") ? file.path : join(repoRoot, file.path), "utf8")).includes(secret),
          `${file.path} holds the secret`,
        );
    });
  });

  it("refuses what it cannot export faithfully, with exit 2 and nothing written", async () => {
    await withTempDir(async (dir) => {
      const flow = fixture("reschedule.json");
      const url = ["--url", "http://127.0.0.1:3000/webhooks/voice"];
      const cases: [string[], RegExp][] = [
        [[flow, ...url, "--secret", secret], /--secret: an export never holds a secret/],
        [[flow, ...url, "--calls", "10"], /--calls needs --rate or --duration/],
        [[flow, ...url, "--calls", "10", "--rate", "1", "--duration", "5"], /give two of them/],
        [[flow], /missing --url/],
        [[flow, ...url, "--vwh-spec", join(dir, "missing.tgz")], /--vwh-spec: .*missing\.tgz: expected a tarball written by npm pack/],
        [[flow, ...url, "--rate", "0"], /--rate: /],
        [[flow, ...url, "--format", "toml"], /--format/],
      ];
      for (const [args, message] of cases) {
        const result = await runInProcess(["export", "artillery", ...args, "--out", join(dir, "out")]);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, message);
        assert.ok(!result.stderr.includes(secret), "the secret was echoed");
      }
      const telnyx = await runInProcess(["export", "artillery", join(repoRoot, "fixtures", "scripts", "telnyx-menu.json"), ...url, "--out", join(dir, "out")]);
      assert.equal(telnyx.code, 2);
      assert.match(telnyx.stderr, /telnyx-menu\.json: telnyx caller scripts need a local telnyx API that the handler calls back/);
      const recording = join(dir, "recording.json");
      await writeFile(
        recording,
        JSON.stringify({
          version: 1,
          name: "rec",
          events: [{ raw: { method: "POST", path: "/", headers: {}, body: "{}", received_at: "2026-01-01T00:00:00Z" } }],
        }),
      );
      const recorded = await runInProcess(["export", "artillery", recording, ...url, "--out", join(dir, "out")]);
      assert.equal(recorded.code, 2);
      assert.match(recorded.stderr, /recordings and dead letters carry fixed ids/);
      await assert.rejects(readdir(join(dir, "out")), /ENOENT/);

      const first = await runInProcess(["export", "artillery", flow, ...url, "--out", join(dir, "out")]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /wrote 4 files for Artillery: 1 scenario, 1 calls\/s for 60 s/);
      assert.match(first.stdout, /^  artillery run vwh-load\.yml --output report\.json/m);
      const again = await runInProcess(["export", "artillery", flow, ...url, "--out", join(dir, "out")]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already exists: nothing written \(--force overwrites\)/);
      assert.equal((await runInProcess(["export", "artillery", flow, ...url, "--out", join(dir, "out"), "--force"])).code, 0);
    });
  });

  it("--format json, --secret-env, --scheme hmac and a --vwh-spec tarball shipped beside the script", async () => {
    await withTempDir(async (dir) => {
      const tarball = join(dir, "vwh-9.9.9.tgz");
      await writeFile(tarball, "not really a tarball: only copied");
      const out = join(dir, "out");
      const result = await runInProcess([
        "export",
        "artillery",
        fixture("dtmf-menu.json"),
        "--url",
        "http://127.0.0.1:3000/hook",
        "--calls",
        "50",
        "--duration",
        "10",
        "--format",
        "json",
        "--secret-env",
        "AGENT_SECRET",
        "--scheme",
        "hmac",
        "--hmac-header",
        "x-agent-signature",
        "--vwh-spec",
        tarball,
        "--out",
        out,
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const script = JSON.parse(await readFile(join(out, "vwh-load.json"), "utf8")) as { config: Record<string, unknown> };
      assert.deepEqual(script.config["phases"], [{ name: "vwh calls", duration: 10, arrivalCount: 50 }]);
      assert.deepEqual(script.config["includeFiles"], ["vwh-9.9.9.tgz"]);
      assert.equal(await readFile(join(out, "vwh-9.9.9.tgz"), "utf8"), "not really a tarball: only copied");
      assert.deepEqual(JSON.parse(await readFile(join(out, "package.json"), "utf8")).dependencies, { vwh: "file:vwh-9.9.9.tgz" });
      const processor = await readFile(join(out, "vwh-processor.mjs"), "utf8");
      assert.match(processor, /"secretEnv": "AGENT_SECRET"/);
      assert.match(processor, /"scheme": "hmac"/);
      assert.match(processor, /"header": "x-agent-signature"/);
    });
  });
});

describe("vwh export artillery: the call settings", () => {
  it("--timeout, --retries, --backoff, --profile, --time-scale, --budget, --strict-latency, --realtime, --max-hops and --public-url reach every call", async () => {
    await withTempDir(async (dir) => {
      const result = await runInProcess([
        "export",
        "artillery",
        fixture("reschedule.json"),
        "--url",
        "http://127.0.0.1:3000/hook",
        "--out",
        dir,
        "--timeout",
        "1234",
        "--retries",
        "2",
        "--backoff",
        "10",
        "--profile",
        "twilio",
        "--time-scale",
        "0.5",
        "--budget",
        "300",
        "--strict-latency",
        "--realtime",
        "--max-hops",
        "7",
        "--public-url",
        "https://public.example/hook",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const processor = await readFile(join(dir, "vwh-processor.mjs"), "utf8");
      const settings = JSON.parse(/^const settings = (\{[\s\S]*?\n\});$/m.exec(processor)![1]!) as { call: Record<string, unknown> };
      assert.deepEqual(settings.call, {
        publicUrl: "https://public.example/hook",
        maxHops: 7,
        timeoutMs: 1234,
        retries: 2,
        backoffMs: 10,
        timeScale: 0.5,
        budgetMs: 300,
        strictLatency: true,
        realtime: true,
      });
      assert.match(processor, /"profile": "twilio"/);
    });
  });

  it("takes the flows, URL and secret variable from vwh.config.json, as simulate does", async () => {
    await withTempDir(async (dir) => {
      await copyFile(fixture("dtmf-menu.json"), join(dir, "menu.json"));
      const config = join(dir, "vwh.config.json");
      await writeFile(config, JSON.stringify({ url: "http://127.0.0.1:3000/from-config", secret_env: "CONFIG_SECRET", flows: ["menu.json"] }));
      const result = await runInProcess(["export", "artillery", "--out", join(dir, "out"), "--json"], { env: { VWH_CONFIG: config } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { secret_env: string }).secret_env, "CONFIG_SECRET");
      assert.match(await readFile(join(dir, "out", "vwh-load.yml"), "utf8"), /target: http:\/\/127\.0\.0\.1:3000\/from-config/);
      assert.match(await readFile(join(dir, "out", "vwh-processor.mjs"), "utf8"), /"name": "DTMF menu to billing, then an operator"/);
    });
  });
});

type Metric = [type: string, name: string, value: number];
type ArtilleryStep = (
  context: { vars: Record<string, unknown> },
  events: { emit(type: string, name: string, value: number): void },
  done: (error?: Error) => void,
) => void;

/** Calls a processor function as Artillery's HTTP engine does, collecting what it emits. */
function runStep(step: ArtilleryStep, vars: Record<string, unknown>): Promise<{ metrics: Metric[]; error: Error | undefined }> {
  const metrics: Metric[] = [];
  return new Promise((resolve) =>
    step({ vars }, { emit: (type, name, value) => void metrics.push([type, name, value]) }, (error) => resolve({ metrics, error })),
  );
}

const total = (metrics: readonly Metric[], name: string) =>
  metrics.filter(([type, metric]) => type === "counter" && metric === name).reduce((sum, [, , value]) => sum + value, 0);

describe("the exported processor, called as Artillery calls it", () => {
  it("runs each bundled flow and caller script once per virtual user, signed, checked and counted", async () => {
    await withTempDir(async (dir) => {
      const flows = await bundledFlows();
      const handler = await referenceHandler();
      try {
        const { scenarios } = await exportInto(dir, [...flows, "--url", "http://127.0.0.1:9/never-used"]);
        const processor = (await import(pathToFileURL(join(dir, "vwh-processor.mjs")).href)) as Record<string, ArtilleryStep>;
        const metrics: Metric[] = [];
        for (const scenario of scenarios) {
          // Twice: fresh call and event ids each time, or the idempotent handler would answer from its store.
          for (let copy = 0; copy < 2; copy++) {
            const run = await runStep(processor[scenario.function]!, { target: handler.url, $env: { VWH_SECRET: secret } });
            assert.equal(run.error, undefined);
            metrics.push(...run.metrics);
          }
        }
        assert.equal(total(metrics, "vwh.calls.passed"), flows.length * 2);
        assert.equal(total(metrics, "vwh.calls.failed"), 0);
        assert.equal(total(metrics, "vwh.events.failed"), 0);
        assert.deepEqual(
          metrics.filter(([, name]) => name.startsWith("vwh.failures.")),
          [],
        );
        const webhooks = total(metrics, "vwh.webhooks");
        assert.equal(webhooks, handler.received());
        assert.equal(total(metrics, "vwh.codes.200") + total(metrics, "vwh.codes.204"), webhooks);
        assert.equal(metrics.filter(([type, name]) => type === "histogram" && name === "vwh.latency").length, webhooks);
        const eventIds = handler.bodies.map((body) => (JSON.parse(body) as { event_id: string }).event_id);
        assert.equal(new Set(eventIds).size, webhooks, "event ids repeat across calls");
      } finally {
        await handler.close();
      }
    });
  });

  it("runs the bundled Twilio caller scripts against the Twilio example handler (official twilio package)", async () => {
    await withTempDir(async (dir) => {
      const { createTwilioHandler } = (await import(pathToFileURL(join(repoRoot, "examples", "twilio-handler.js")).href)) as {
        createTwilioHandler(options: { authToken: string; publicUrl: string }): RequestListener;
      };
      const authToken = randomBytes(16).toString("hex");
      const publicUrl = "https://voice.example.com/twilio/voice";
      const handler = await countingServer(createTwilioHandler({ authToken, publicUrl }));
      try {
        const scripts = (await readdir(join(repoRoot, "fixtures", "scripts")))
          .filter((name) => name.startsWith("twilio-"))
          .map((name) => join(repoRoot, "fixtures", "scripts", name));
        assert.ok(scripts.length > 0);
        const target = new URL("/twilio/voice", handler.url).href;
        const { scenarios } = await exportInto(dir, [...scripts, "--url", target, "--public-url", publicUrl]);
        assert.ok(
          scenarios.every((scenario) => scenario.scheme === "twilio"),
          "the platform's own scheme",
        );
        const processor = (await import(pathToFileURL(join(dir, "vwh-processor.mjs")).href)) as Record<string, ArtilleryStep>;
        const metrics: Metric[] = [];
        for (const scenario of scenarios) {
          const run = await runStep(processor[scenario.function]!, { target, $env: { VWH_SECRET: authToken } });
          assert.equal(run.error, undefined);
          metrics.push(...run.metrics);
        }
        assert.deepEqual(
          metrics.filter(([, name]) => name.startsWith("vwh.failures.")),
          [],
        );
        assert.equal(total(metrics, "vwh.calls.passed"), scripts.length);
        assert.equal(total(metrics, "vwh.webhooks"), handler.received());
      } finally {
        await handler.close();
      }
    });
  });

  it("counts a wrong handler's failures by kind; fails the virtual user without a secret or a handler", async () => {
    await withTempDir(async (dir) => {
      const wrong = await countingServer(await wrongHandler());
      try {
        await exportInto(dir, [fixture("reschedule.json"), "--url", wrong.url, "--secret-env", "AGENT_SECRET"]);
        const { vwhFlow1 } = (await import(pathToFileURL(join(dir, "vwh-processor.mjs")).href)) as Record<string, ArtilleryStep>;
        const failed = await runStep(vwhFlow1!, { target: wrong.url, $env: { AGENT_SECRET: secret } });
        assert.equal(failed.error, undefined);
        assert.equal(total(failed.metrics, "vwh.calls.failed"), 1);
        assert.ok(total(failed.metrics, "vwh.failures.expect") > 0, JSON.stringify(failed.metrics));
        const forged = await runStep(vwhFlow1!, { target: wrong.url, $env: { AGENT_SECRET: newSecret() } });
        assert.equal(total(forged.metrics, "vwh.codes.401"), total(forged.metrics, "vwh.webhooks"));
        assert.ok(total(forged.metrics, "vwh.failures.status") > 0);
        const unsigned = await runStep(vwhFlow1!, { target: wrong.url, $env: { VWH_SECRET: "" } });
        assert.match(String(unsigned.error), /no signing secret: set AGENT_SECRET where artillery runs/);
        await wrong.close();
        const unreachable = await runStep(vwhFlow1!, { target: wrong.url, $env: { AGENT_SECRET: secret } });
        assert.match(String(unreachable.error), /vwh: connection refused/);
        assert.equal(total(unreachable.metrics, "vwh.failures.unreachable"), 1);
      } finally {
        await wrong.close().catch(() => {});
      }
    });
  });
});

// The real thing: `artillery run` of the export. Artillery is installed apart, in test/artillery (it would add
// ~900 packages and ~600 MB to every npm ci): `npm run test:artillery` installs it and runs this file.
// Where it is not installed this test says so and skips.
const artilleryBin = join(repoRoot, "test", "artillery", "node_modules", "artillery", "bin", "run");
const artilleryInstalled = existsSync(artilleryBin);

interface ArtilleryReport {
  aggregate: { counters: Record<string, number>; summaries: Record<string, { count: number }> };
}

/** A check of Artillery's ensure plugin as it evaluates one: its expression, strictness and result (1: ok). */
interface EnsureCheck {
  original: string;
  strict: boolean;
  result: unknown;
}

/**
 * Artillery's own ensure plugin deciding on a report, as `artillery run` does in its beforeExit hook (the
 * report is the run's aggregate, which --output writes); a strict check that fails makes Artillery exit 1.
 */
function ensureChecks(checks: unknown, aggregate: ArtilleryReport["aggregate"]): EnsureCheck[] {
  const load = createRequire(artilleryBin);
  const { Plugin } = load("artillery-plugin-ensure") as {
    Plugin: { statsToVars(data: { report: unknown }): Record<string, unknown>; runChecks(checks: unknown, vars: Record<string, unknown>): EnsureCheck[] };
  };
  // runChecks prints a heading through Artillery's logger, which only `artillery run` sets up.
  const globals = globalThis as { artillery?: unknown };
  const before = globals.artillery;
  globals.artillery = { log: () => {} };
  try {
    return Plugin.runChecks(checks, Plugin.statsToVars({ report: aggregate })).map(({ original, strict, result }) => ({ original, strict, result }));
  } finally {
    globals.artillery = before;
  }
}

// One `artillery run` (each costs Artillery's start-up and a worker thread: ~8 s of CPU). What a wrong
// handler's run showed besides is proven in process: the processor counting its failures by kind (above), and
// Artillery's ensure plugin failing the run on this run's report once its calls have failed (below).
describe("artillery run of the export (one run of 1 s)", {
  skip: artilleryInstalled ? false : "Artillery is not installed in test/artillery: npm run test:artillery installs it and runs this test",
}, () => {
  it("runs as printed: the export ships the running vwh, its next steps run verbatim in a fresh folder (vwh from the folder), and every request is accepted with the vwh check counters zero", async () => {
    await withTempDir(async (dir) => {
      const good = await referenceHandler();
      const sink = await startServer((_request, response) => json(response, 200, {}), "/");
      try {
        // In process, in the fresh folder (the running vwh packed once, for the test above): export's exit 0 is
        // spawned by its first test, which runs wherever Artillery is not installed too.
        const result = await runInProcess(
          ["export", "artillery", fixture("reschedule.json"), fixture("dtmf-menu.json"), "--url", good.url, "--rate", "3", "--duration", "1", "--out", "load"],
          { cwd: dir },
        );
        assert.equal(result.code, 0, result.stderr);
        const steps = printedSteps(result.stdout);
        const load = join(dir, "load");
        const install = await installPrinted(steps.find((step) => step.startsWith("cd load && npm install"))!, dir);
        assert.equal(install.code, 0, install.output);
        assert.match(await readFile(join(load, "package-lock.json"), "utf8"), /"resolved": "file:vwh-[^"]+\.tgz"/, "vwh from the folder, not the registry");
        // `export VWH_SECRET=…` is the environment below; Artillery is installed as the step's comment says (here: test/artillery's).
        const run = await runPrinted(steps.find((step) => step.startsWith("artillery run "))!, load, {
          VWH_SECRET: secret,
          PATH: `${dirname(artilleryBin)}/../../.bin:${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
          ARTILLERY_DISABLE_TELEMETRY: "1",
          HTTPS_PROXY: sink.url,
          https_proxy: sink.url,
          NO_PROXY: "127.0.0.1,localhost",
        });
        assert.equal(run.code, 0, run.output);
        const report = JSON.parse(await readFile(join(load, "report.json"), "utf8")) as ArtilleryReport;
        const counters = report.aggregate.counters;
        assert.ok(counters["vusers.created"]! > 0, run.output);
        assert.equal(counters["vusers.failed"] ?? 0, 0);
        assert.equal(counters["vwh.calls.passed"], counters["vusers.created"]);
        assert.equal(counters["vwh.calls.failed"], 0);
        assert.equal(counters["vwh.events.failed"], 0);
        assert.deepEqual(
          Object.keys(counters).filter((name) => name.startsWith("vwh.failures.") || name.startsWith("errors.")),
          [],
        );
        const accepted = Object.entries(counters)
          .filter(([name]) => /^vwh\.codes\.2\d\d$/.test(name))
          .reduce((sum, [, value]) => sum + value, 0);
        assert.equal(accepted, counters["vwh.webhooks"]);
        assert.equal(good.received(), counters["vwh.webhooks"], "the handler saw every webhook, each signature verified");
        assert.equal(report.aggregate.summaries["vwh.latency"]!.count, counters["vwh.webhooks"]);
        assert.match(run.output, /ok: vwh\.calls\.failed == 0/);
        for (const request of sink.requests) assert.ok(!request.body.toString().includes(secret), "the secret reached Artillery's telemetry");
        // The exported checks, decided by Artillery's ensure plugin: ok on this report, as the run printed; and
        // a failure that makes Artillery exit 1 on the same report once a call has failed (a wrong handler's run).
        const checks = (parse(await readFile(join(load, "vwh-load.yml"), "utf8")) as { config: { ensure: unknown } }).config.ensure;
        assert.deepEqual(ensureChecks(checks, report.aggregate), [{ original: "vwh.calls.failed == 0", strict: true, result: 1 }]);
        const oneFailed = { ...report.aggregate, counters: { ...counters, "vwh.calls.passed": counters["vwh.calls.passed"]! - 1, "vwh.calls.failed": 1 } };
        assert.deepEqual(ensureChecks(checks, oneFailed), [{ original: "vwh.calls.failed == 0", strict: true, result: 0 }]);
      } finally {
        await Promise.all([good.close(), sink.close()]);
      }
    });
  });

  it("run-fargate's bundler ships the script, the processor, package.json and the vwh tarball, and installs vwh", async () => {
    await withTempDir(async (dir) => {
      const tarball = join(dir, "vwh-0.1.0.tgz");
      await writeFile(tarball, "a tarball");
      const out = join(dir, "load");
      const result = await runInProcess([
        "export",
        "artillery",
        fixture("reschedule.json"),
        "--url",
        "https://staging.example/hook",
        "--vwh-spec",
        tarball,
        "--out",
        out,
      ]);
      assert.equal(result.code, 0, result.stderr);
      // Artillery's own bill of materials: what run-fargate uploads, and the modules each worker installs.
      const lib = join(dirname(dirname(artilleryBin)), "lib");
      const script = `
        await require(${JSON.stringify(join(lib, "artillery-global.js"))}).createGlobalObject();
        require(${JSON.stringify(join(lib, "platform", "aws-ecs", "legacy", "bom.js"))}).createBOM(${JSON.stringify(join(out, "vwh-load.yml"))}, [], { flags: {} }, (error, bom) => {
          if (error) throw error;
          console.log(JSON.stringify({ files: bom.files.map((file) => file.noPrefix).sort(), modules: bom.modules }));
          process.exit(0);
        });`;
      const child = spawn(process.execPath, ["-e", `(async () => {${script}})()`], { env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: "1" } });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      await new Promise((resolve) => child.on("close", resolve));
      assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)!), {
        files: ["package.json", "vwh-0.1.0.tgz", "vwh-load.yml", "vwh-processor.mjs"],
        modules: ["vwh"],
      });
    });
  });
});
