/**
 * Issue 12, items 1–10: bad input never crashes or hangs vwh, and verifiers compare exactly what the
 * official libraries compare. In process where possible; the CLI is spawned only for its contract
 * (exit codes, one line on stderr, JSON on stdout).
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import * as retell from "retell-sdk";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { TelnyxWebhook } from "telnyx/lib/webhooks";
import twilio from "twilio";
import { checkReply } from "../../src/checks/reply.js";
import { exitCodesHelp } from "../../src/cli/program.js";
import { verifyOptionsSchema } from "../../src/commands/verify-signature.js";
import { simulateOptionsSchema } from "../../src/commands/simulate.js";
import { loadDeadLetters } from "../../src/files/dead-letters.js";
import { ExitCode, InputError, UsageError, VwhError } from "../../src/core/errors.js";
import { expandFlow } from "../../src/engine/expand-flow.js";
import { loadFlow, recordingSchema } from "../../src/files/call-flow.js";
import { readJsonFile } from "../../src/files/json-file.js";
import { jsonSchemaFor, schemaFormats, type SchemaFormat } from "../../src/files/json-schemas.js";
import { forgetSecrets, redactSecrets, rememberConfiguredSecrets } from "../../src/core/secrets.js";
import { maxTimerMs } from "../../src/core/limits.js";
import { matchText } from "../../src/checks/matchers.js";
import { parseOptions } from "../../src/cli/parse-options.js";
import { reportError } from "../../src/ui/report-error.js";
import { createRandom } from "../../src/core/random.js";
import { retryDelayMs } from "../../src/engine/retry-policy.js";
import { runSimulation } from "../../src/engine/run.js";
import { loadPlatform } from "../../src/platforms/registry.js";
import { getScheme } from "../../src/signing/index.js";
import { defaultHmacSettings } from "../../src/signing/hmac.js";
import { parseTelnyxPrivateKey, rawPublicKeyBase64 } from "../../src/signing/telnyx.js";
import type { SchemeSettings } from "../../src/signing/types.js";
import { toJUnitXml } from "../../src/ui/junit.js";
import { toJsonReport } from "../../src/ui/simulate-report.js";
import { engineOptions } from "../engine-helpers.js";
import { fixture, flowWith, json, newSecret, repoRoot, runInProcess, runVwh, spawnVwh, startServer, withTempDir } from "../helpers.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
const deepFlow = () => flowWith([{ event_type: "call.started", payload: { deep: "__DEEP__" } }]).replace('"__DEEP__"', nested(10_000));
const stackFrame = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

/** What every refused input must look like on the command line: its exit code, one line, no stack. */
function assertOneLineError(result: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, stackFrame);
  assert.doesNotMatch(result.stderr, /unexpected error|internal error/);
}

async function rejection(work: Promise<unknown>): Promise<VwhError> {
  const error = await work.then(
    () => assert.fail("expected a rejection"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof VwhError, `expected a VwhError, got ${String(error)}`);
  return error;
}

describe("1. deeply nested JSON", () => {
  it("refuses a 10 000-level flow with file, location and the limit (in process: flows, recordings, dead letters)", async () => {
    await withTempDir(async (dir) => {
      const flowFile = join(dir, "deep.json");
      await writeFile(flowFile, deepFlow());
      const error = await rejection(loadFlow(flowFile));
      assert.ok(error instanceof InputError);
      assert.match(error.message, /deep\.json:\d+:\d+: nested deeper than 64 levels/);

      const recording = join(dir, "deep-recording.json");
      await writeFile(recording, JSON.stringify({ version: 1, name: "r", events: "__DEEP__" }).replace('"__DEEP__"', nested(10_000)));
      assert.match(
        (await rejection(readJsonFile(recording, recordingSchema, "recording"))).message,
        /deep-recording\.json:1:\d+: nested deeper than 64 levels/,
      );

      const deadLetters = join(dir, "deep.jsonl");
      await writeFile(deadLetters, `${JSON.stringify({ a: "__DEEP__" }).replace('"__DEEP__"', nested(10_000))}\n`);
      assert.match((await rejection(loadDeadLetters(deadLetters, "vwh"))).message, /deep\.jsonl:1:\d+: nested deeper than 64 levels/);
    });
  });

  it("a handler's deeply nested reply is a failed check, not a crash", async () => {
    const check = checkReply({
      platform: await loadPlatform("vwh"),
      eventType: "call.started",
      expect: undefined,
      status: 200,
      headers: { "content-type": "application/json" },
      body: Buffer.from(`{"instructions":${nested(100_000)}}`),
      latencyMs: 1,
      budgetMs: 100,
      strictLatency: false,
    });
    assert.deepEqual(check.failures, [{ kind: "reply", path: "body", message: "nested deeper than 64 levels" }]);
  });

  it("vwh simulate and vwh verify-signature --recording exit 2 with one line", async () => {
    await withTempDir(async (dir) => {
      const flowFile = join(dir, "deep.json");
      await writeFile(flowFile, deepFlow());
      const env = { VWH_SECRET: newSecret() };
      // In process: simulate's exit 2 is spawned in e2e/simulate.test.ts and the fuzzer.
      const [simulate, verify] = await Promise.all([
        runInProcess(["simulate", flowFile, "--url", "http://127.0.0.1:9/hook"], { env }),
        runInProcess(["verify-signature", "--recording", flowFile], { env }),
      ]);
      assertOneLineError(simulate, 2, /^vwh: .*deep\.json:\d+:\d+: nested deeper than 64 levels \(vwh's limit for JSON input\)\n$/);
      assertOneLineError(verify, 2, /^vwh: .*deep\.json:\d+:\d+: nested deeper than 64 levels/);
    });
  });
});

describe("2. time-like numbers are bounded so that what validates also runs", () => {
  it("refuses after_ms 8.64e15 at load, and plans the largest after_ms it accepts", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "late.json");
      await writeFile(file, flowWith([{ event_type: "call.started", after_ms: 8.64e15 }]));
      assert.match((await rejection(loadFlow(file))).message, /late\.json:\d+:\d+: events\[0\]\.after_ms: expected value <= 86400000/);

      const day = 86_400_000;
      await writeFile(
        file,
        flowWith([
          { event_type: "call.started", after_ms: day },
          { event_type: "call.ended", after_ms: day, expect: { max_latency_ms: day } },
        ]),
      );
      const url = new URL("http://127.0.0.1/hook");
      const planned = expandFlow(await loadFlow(file), { start: new Date("9999-12-30T00:00:00Z"), url });
      assert.equal(planned.length, 2);
      assert.ok(planned.every((event) => !Number.isNaN(Date.parse((JSON.parse(event.body.toString("utf8")) as { timestamp: string }).timestamp))));

      // Recorded requests years apart: --realtime waits at most what a timer can.
      const recorded = (at: string) => ({ raw: { method: "POST", path: "/hook", headers: {}, body: "{}", received_at: at } });
      await writeFile(file, flowWith([recorded("0001-01-01T00:00:00Z"), recorded("9999-12-31T00:00:00Z")]));
      assert.equal(expandFlow(await loadFlow(file), { start: new Date(), url })[1]!.afterMs, maxTimerMs);
    });
  });

  it("bounds the time flags and caps a hostile Retry-After at what a timer can wait", () => {
    assert.throws(
      () =>
        parseOptions(simulateOptionsSchema, {
          timeout: "8640000000000000",
          budget: "200",
          timeScale: "1",
          duplicates: "0",
          reorder: "0",
          concurrency: "1",
          maxHops: "50",
        }),
      {
        message: "--timeout: expected value <= 2147483647",
      },
    );
    assert.throws(
      () => parseOptions(simulateOptionsSchema, { budget: "200", timeScale: "1e308", duplicates: "0", reorder: "0", concurrency: "1", maxHops: "50" }),
      UsageError,
    );
    assert.throws(() => parseOptions(verifyOptionsSchema, { tolerance: "300", timeout: "1", at: "8640000000000000" }), {
      message: "--at: expected value <= 253402300799",
    });
    const policy = { timeoutMs: 1000, retries: 1, backoffMs: 100, timeScale: 1000 };
    assert.equal(retryDelayMs(policy, 1, createRandom(1), 1e15), maxTimerMs);
  });
});

describe("3. regular expressions run in linear time (RE2)", () => {
  it("a catastrophic pattern returns at once instead of hanging", { timeout: 10_000 }, async () => {
    const subject = `${"a".repeat(30_000)}`;
    assert.equal(matchText({ matches: "^(.+)+!$" }, subject), `expected to match /^(.+)+!$/, got ${JSON.stringify(`${"a".repeat(76)}`).slice(0, 77)}...`);
    assert.equal(matchText({ matches: "^(a+)+$" }, subject), undefined);
    const check = checkReply({
      platform: await loadPlatform("vwh"),
      eventType: "call.started",
      expect: { instructions: [{ type: "speak", text: { matches: "^(.+)+!$" } }] },
      status: 200,
      headers: { "content-type": "application/json" },
      body: Buffer.from(JSON.stringify({ instructions: [{ type: "speak", text: "a".repeat(3000) }] })),
      latencyMs: 1,
      budgetMs: 100,
      strictLatency: false,
    });
    assert.equal(check.failures.length, 1);
    assert.match(check.failures[0]!.message, /^expected to match \/\^\(\.\+\)\+!\$\//);
  });

  it("a pattern RE2 cannot run is a load error naming its JSON path", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "lookbehind.json");
      await writeFile(
        file,
        flowWith([{ event_type: "call.started", expect: { instructions: [{ type: "speak", text: { matches: "(?<=Hi) there" } }, "listen"] } }]),
      );
      assert.match(
        (await rejection(loadFlow(file))).message,
        /lookbehind\.json:\d+:\d+: events\[0\]\.expect\.instructions\[0\]\.text\.matches: expected a regular expression RE2 can run in linear time/,
      );
    });
  });
});

describe("4. internal errors exit 70", () => {
  it("reports an unexpected error as a bug in vwh, with --debug advice, and the stack only under --debug", () => {
    const plain = reportError(new TypeError("x is not a function"), { json: false, debug: false });
    assert.equal(plain.exitCode, 70);
    assert.equal(ExitCode.internal, 70);
    assert.equal(
      plain.stderr,
      "vwh: internal error: x is not a function\n  hint: this is a bug in vwh: run again with --debug for the stack trace, and please report it\n",
    );
    const debug = reportError(new TypeError("x is not a function"), { json: true, debug: true });
    assert.match(debug.stderr, stackFrame);
    assert.deepEqual(JSON.parse(debug.stdout), {
      error: {
        message: "internal error: x is not a function",
        hint: "this is a bug in vwh: run again with --debug for the stack trace, and please report it",
        exit_code: 70,
      },
    });
    assert.equal(reportError(new InputError("f.json: bad"), { json: false, debug: false }).exitCode, 2);
  });

  it("documents 70 in --help and the README", async () => {
    assert.match(exitCodesHelp, /\n {2}70 internal error in vwh/);
    assert.match(await readFile(join(repoRoot, "README.md"), "utf8"), /\| 70 \| an internal error in vwh itself/);
  });
});

describe("5. no path prints the secret", () => {
  it("masks known secrets, cut-off parts of them and secret-shaped values", () => {
    forgetSecrets();
    rememberConfiguredSecrets({ VWH_SECRET: "s3cr3t-hmac-key-0123456789 whsec_second" }, ["flag-secret-value"], []);
    assert.equal(redactSecrets('got "s3cr3t-hmac-key-0123456789"'), 'got "[secret]"');
    assert.equal(redactSecrets('got "s3cr3t-hmac-key-01...'), 'got "[secret]');
    assert.equal(redactSecrets("--secret flag-secret-value and whsec_AAAAAAAAAAAA"), "--secret [secret] and [secret]");
    assert.equal(redactSecrets("events[0].payload: expected a list"), "events[0].payload: expected a list");
    assert.equal(redactSecrets("no signing secret: pass --secret or set VWH_SECRET"), "no signing secret: pass --secret or set VWH_SECRET");
    forgetSecrets();
  });

  it("--secret-env given the secret, and vwh config shown it, never echo it", async () => {
    const secret = "hmac-Secret/Value+1234567890";
    await withTempDir(async (dir) => {
      const config = join(dir, "vwh.config.json");
      await writeFile(config, JSON.stringify({ secret_env: "SecretLooking_Name_0123456789" }));
      // secret_env holds a secret pasted by mistake (one that happens to look like a variable name).
      const env = { VWH_SECRET: secret, VWH_CONFIG: config };
      const runs = await Promise.all([
        // Spawned without VWH_SECRET: only the entry point, reading argv, can know this is the secret.
        runVwh(["simulate", fixture("reschedule.json"), "--url", "http://127.0.0.1:9/", "--scheme", "hmac", "--secret-env", secret], {
          env: { VWH_CONFIG: config },
        }),
        runInProcess(["config", "--secret-env", secret, "--json"], { env }),
        runInProcess(["config"], { env: { ...env, VWH_SECRET: "SecretLooking_Name_0123456789" } }),
      ]);
      assertOneLineError(runs[0]!, 2, /^vwh: --secret-env: expected an environment variable name, got "\[secret\]"\n$/);
      assert.equal(runs[1]!.code, 2, runs[1]!.stderr);
      assert.equal(runs[2]!.code, 0, runs[2]!.stderr);
      assert.match(runs[2]!.stdout, /secretEnv +\[secret\] +config secret_env/);
      for (const run of runs) {
        const printed = run.stdout + run.stderr;
        assert.ok(!printed.includes(secret.slice(0, 12)) && !printed.includes("SecretLooking_Name"), printed);
      }
    });
  });
});

describe("6. every problem of a flow, one line each", () => {
  it("lists each problem with its location, up to 20, and counts the rest", async () => {
    await withTempDir(async (dir) => {
      const three = join(dir, "three.json");
      await writeFile(three, flowWith([{ event_type: "speech.transcribed", after_ms: -1, description: 5, expect: { status: 99 } }]));
      const lines = (await rejection(loadFlow(three))).message.split("\n");
      assert.equal(lines.length, 3, lines.join("\n"));
      for (const line of lines) assert.match(line, /^.*three\.json:\d+:\d+: events\[0\]\.(after_ms|description|expect\.status): expected/);

      const many = join(dir, "many.json");
      await writeFile(many, flowWith(Array.from({ length: 25 }, () => ({ event_type: "call.started", after_ms: "soon" }))));
      const listed = (await rejection(loadFlow(many))).message.split("\n");
      assert.equal(listed.length, 21);
      assert.match(listed[19]!, /many\.json:\d+:\d+: events\[19\]\.after_ms: expected a number, got "soon"/);
      assert.match(listed[20]!, /many\.json: \(and 5 more problems\)$/);
    });
  });
});

describe("7. Ctrl-C during simulate", () => {
  it("stops the engine through its stop signal, keeping finished events, and marks the reports interrupted", async () => {
    const secret = newSecret();
    const stop = new AbortController();
    const handler = await startServer((_request, response) => {
      // The second event never gets an answer: the user presses Ctrl-C while it waits.
      if (handler.requests.length === 2) return stop.abort();
      json(response, 200, { instructions: [{ type: "speak", text: "Hello" }, { type: "listen" }] });
    });
    const options = engineOptions(handler.url, secret, { stop: stop.signal });
    try {
      const flow = await loadFlow(fixture("reschedule.json"));
      const result = await runSimulation([flow, flow], options);
      assert.equal(result.interrupted, true);
      assert.equal(result.flows.length, 1);
      assert.deepEqual(
        result.flows[0]!.events.map((event) => event.eventType),
        ["call.started"],
      );
      const run = { target: handler.url, scheme: "standard", budgetMs: 200, timeoutMs: 5000, retries: 0, profile: undefined, seed: 1 };
      const report = toJsonReport(result, run, ExitCode.interrupted);
      assert.equal(report.interrupted, true);
      assert.equal(report.exit_code, 130);
      assert.match(
        toJUnitXml(result),
        /<!-- interrupted \(Ctrl-C\): partial results -->[\s\S]*<property name="interrupted" value="true"\/>[\s\S]*name="1 call.started"/,
      );
    } finally {
      await options.dispatcher.close();
      await handler.close();
    }
  });

  it("on SIGINT, vwh simulate --json --junit prints the partial report, writes the partial JUnit and exits 130", async () => {
    await withTempDir(async (dir) => {
      let secondArrived!: () => void;
      const arrived = new Promise<void>((resolve) => (secondArrived = resolve));
      const handler = await startServer((_request, response) => {
        if (handler.requests.length >= 2) return secondArrived();
        json(response, 200, { instructions: [{ type: "speak", text: "How can I help?" }, { type: "listen" }] });
      });
      const junit = join(dir, "report.xml");
      try {
        const running = spawnVwh(["simulate", fixture("reschedule.json"), "--url", handler.url, "--json", "--junit", junit], {
          env: { VWH_SECRET: newSecret() },
        });
        await arrived;
        const result = await running.stop("SIGINT");
        assert.equal(result.code, 130, result.stderr);
        const report = JSON.parse(result.stdout) as { interrupted: boolean; exit_code: number; summary: { events: number } };
        assert.equal(report.interrupted, true);
        assert.equal(report.exit_code, 130);
        assert.equal(report.summary.events, 1);
        assert.match(await readFile(junit, "utf8"), /<property name="interrupted" value="true"\/>/);
      } finally {
        await handler.close();
      }
    });
  });
});

describe("8. --json gets JSON for every error, and vwh config real types", () => {
  it("prints {error:{message,hint,exit_code}} on stdout for usage and input errors", async () => {
    const [usage, input, commander] = await Promise.all([
      runInProcess(["simulate", fixture("reschedule.json"), "--url", "ftp://x", "--json"], { env: { VWH_SECRET: newSecret() } }),
      runInProcess(["--json", "simulate", "missing.json", "--url", "http://127.0.0.1:9/"], { env: { VWH_SECRET: newSecret() } }),
      // Spawned: commander's own refusal, through the real entry point.
      runVwh(["--json", "simulate", "--no-such-flag"]),
    ]);
    assert.deepEqual(JSON.parse(usage.stdout), {
      error: { message: '--url: expected an http://, https://, ws:// or wss:// URL, got "ftp://x"', hint: null, exit_code: 2 },
    });
    assert.deepEqual(JSON.parse(input.stdout), { error: { message: "missing.json: cannot read call flow: no such file", hint: null, exit_code: 2 } });
    assert.deepEqual(JSON.parse(commander.stdout), { error: { message: "unknown option '--no-such-flag'", hint: "add --help for usage", exit_code: 2 } });
    for (const run of [usage, input, commander]) assert.equal(run.code, 2);
  });

  it("vwh config --json gives numbers as numbers and unset values as null", async () => {
    await withTempDir(async (dir) => {
      const empty = join(dir, "vwh.config.json");
      await writeFile(empty, "{}");
      const result = await runInProcess(["config", "--json", "--budget", "90"], { env: { VWH_CONFIG: empty } });
      const report = JSON.parse(result.stdout) as { settings: Record<string, { value: unknown }> };
      assert.deepEqual(Object.fromEntries(Object.entries(report.settings).map(([name, setting]) => [name, setting.value])), {
        url: null,
        platform: "vwh",
        scheme: "standard",
        secretEnv: "VWH_SECRET",
        budget: 90,
        timeout: 10_000,
        retries: 0,
        profile: null,
      });
    });
  });
});

describe("9. the published JSON Schemas pass a strict validator", () => {
  // Compiled once per format (Ajv's strict compile of the call-flow schema costs about a second of CPU).
  const compiled = new Map<SchemaFormat, ValidateFunction>();
  const validator = (format: SchemaFormat) => {
    const known = compiled.get(format);
    if (known) return known;
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(jsonSchemaFor(format));
    compiled.set(format, validate);
    return validate;
  };

  it("compiles every format in Ajv's strict mode, with standard keywords only", () => {
    for (const format of schemaFormats) {
      assert.doesNotThrow(() => validator(format), format);
      assert.doesNotMatch(JSON.stringify(jsonSchemaFor(format)), /starts_with/);
    }
  });

  it("accepts every bundled fixture and rejects what vwh rejects", async () => {
    const validate = validator("call-flow");
    const files = (await readdir(join(repoRoot, "fixtures"), { recursive: true })).filter(
      (name) => name.endsWith(".json") && !name.startsWith("schema") && !name.startsWith("conformance"),
    );
    assert.ok(files.length >= 5);
    for (const name of files) {
      const flow: unknown = JSON.parse(await readFile(fixture(name), "utf8"));
      assert.equal(validate(flow), true, `${name}: ${JSON.stringify(validate.errors)}`);
    }
    const raw = { method: "POST", path: "/hook", headers: {}, body: "{}", received_at: "2026-01-01T00:00:00Z" };
    const rejected: Record<string, unknown[]> = {
      "confidence above 1": [{ event_type: "speech.transcribed", payload: { confidence: 1.5 } }],
      "not DTMF digits": [{ event_type: "dtmf.received", payload: { digits: "12x" } }],
      "no event_type nor raw": [{ payload: {} }],
      "a raw event with a payload": [{ raw, payload: {} }],
      "ack_only on a waiting event": [{ event_type: "call.started", expect: { ack_only: true } }],
      "ack_only with instructions": [{ event_type: "call.ended", expect: { ack_only: true, instructions: ["speak"] } }],
      "after_ms beyond a timer": [{ event_type: "call.started", after_ms: 8.64e15 }],
      "an unknown field": [{ event_type: "call.started", colour: "red" }],
    };
    await withTempDir(async (dir) => {
      for (const [name, events] of Object.entries(rejected)) {
        const file = join(dir, "bad.json");
        await writeFile(file, flowWith(events));
        await rejection(loadFlow(file));
        assert.equal(validate(JSON.parse(flowWith(events))), false, `the schema accepts a flow vwh rejects: ${name}`);
      }
    });
  });
});

describe("10. verifiers are exactly as strict as the official libraries", () => {
  const verifySettings: SchemeSettings = { purpose: "verify", hmac: defaultHmacSettings };
  const body = '{"event_type":"call.started","event_id":"evt_1"}';
  const now = () => Math.floor(Date.now() / 1000);
  const ours = (scheme: string, secret: string, headers: Record<string, string>, url = "") =>
    getScheme(scheme)
      .create([{ value: secret, source: "(test)" }], verifySettings)
      .verify({ headers, body: Buffer.from(body), method: "POST", url }, { now: now(), toleranceSeconds: 300 }).valid;
  const sign = (scheme: string, secret: string, url = "https://example.com/hook", contentType = "application/json") =>
    getScheme(scheme)
      .create([{ value: secret, source: "(test)" }], { purpose: "sign", hmac: defaultHmacSettings })
      .sign({ id: "evt_1", timestamp: now(), body: Buffer.from(body), method: "POST", url, contentType });
  /** The same bytes spelled differently: the last base64 digit before the padding with its unused bits set. */
  const nonCanonical = (base64: string) => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const at = base64.replace(/=+$/, "").length - 1;
    return `${base64.slice(0, at)}${alphabet[alphabet.indexOf(base64[at]!) ^ 1]}${base64.slice(at + 1)}`;
  };
  const agree = async (
    name: string,
    variants: Record<string, string>,
    official: (value: string) => boolean | Promise<boolean>,
    mine: (value: string) => boolean,
  ) => {
    for (const [variant, value] of Object.entries(variants)) {
      assert.equal(mine(value), await official(value), `${name}, ${variant}: ${value}`);
    }
  };

  it("standard: as standardwebhooks (text compare, no junk after the padding)", async () => {
    const secret = newSecret();
    const headers = sign("standard", secret).headers;
    const signature = headers["webhook-signature"]!.slice(3);
    const official = (value: string) => {
      try {
        new Webhook(secret).verify(body, { ...headers, "webhook-signature": value });
        return true;
      } catch {
        return false;
      }
    };
    await agree(
      "standard",
      {
        valid: `v1,${signature}`,
        "after the padding": `v1,${signature}AAAA`,
        "non-canonical base64": `v1,${nonCanonical(signature)}`,
        "without padding": `v1,${signature.replace(/=+$/, "")}`,
        "upper-case version": `V1,${signature}`,
        "an extra field": `v1,${signature},extra`,
        "rotation list": `v1,AAAA v1,${signature}`,
      },
      official,
      (value) => ours("standard", secret, { ...headers, "webhook-signature": value }),
    );
  });

  it("stripe: as the stripe library (lower-case hex only, untrimmed keys)", async () => {
    const secret = "whsec_test_secret_for_vwh";
    const [t, v1] = sign("stripe", secret).headers["stripe-signature"]!.split(",") as [string, string];
    const official = (value: string) => {
      try {
        Stripe.webhooks.constructEvent(body, value, secret, 300);
        return true;
      } catch {
        return false;
      }
    };
    await agree(
      "stripe",
      {
        valid: `${t},${v1}`,
        "upper-case hex": `${t},${v1.toUpperCase().replace("V1=", "v1=")}`,
        "upper-case scheme": `${t},V1=${v1.slice(3)}`,
        "junk after the signature": `${t},${v1}00`,
        "a space before the key": `${t}, ${v1}`,
        "text after another =": `${t},${v1}=junk`,
        "two signatures": `${t},v1=${"0".repeat(64)},${v1}`,
      },
      official,
      (value) => ours("stripe", secret, { "stripe-signature": value }),
    );
  });

  it("twilio: as twilio-node (base64 text compare)", async () => {
    const token = "12345";
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const params = { CallSid: "CA1234567890ABCDE", Digits: "1234" };
    const form = new URLSearchParams(params).toString();
    const signature = sign("twilio", token, url, "application/x-www-form-urlencoded").headers["x-twilio-signature"]!;
    const mine = (value: string) =>
      getScheme("twilio")
        .create([{ value: token, source: "(test)" }], verifySettings)
        .verify({ headers: { "x-twilio-signature": value }, body: Buffer.from(form), method: "POST", url }, { now: now(), toleranceSeconds: 300 }).valid;
    await agree(
      "twilio",
      { valid: signature, "non-canonical base64": nonCanonical(signature), "junk after": `${signature}A` },
      (value) => twilio.validateRequest(token, value, url, params),
      mine,
    );
  });

  it("retell: as retell-sdk, which matches the header case-insensitively", async () => {
    const apiKey = "key_test_0123456789";
    const value = sign("retell", apiKey).headers["x-retell-signature"]!;
    const digest = value.split(",d=")[1]!;
    await agree(
      "retell",
      {
        valid: value,
        "upper-case hex": value.replace(digest, digest.toUpperCase()),
        "upper-case V= and D=": value.replace("v=", "V=").replace("d=", "D="),
        "junk after the digest": `${value}00`,
        "a short digest": value.slice(0, -1),
      },
      (header) => retell.verify(body, apiKey, header),
      (header) => ours("retell", apiKey, { "x-retell-signature": header }),
    );
  });

  it("telnyx: as the telnyx library (strict padded base64)", async () => {
    const privateKey = getScheme("telnyx").randomSecret();
    const publicKey = rawPublicKeyBase64(parseTelnyxPrivateKey({ value: privateKey, source: "(test)" }));
    const headers = sign("telnyx", privateKey).headers;
    const signature = headers["telnyx-signature-ed25519"]!;
    await agree(
      "telnyx",
      {
        valid: signature,
        "without padding": signature.replace(/=+$/, ""),
        "junk after the padding": `${signature}AAAA`,
        "one character short": signature.slice(1),
      },
      (value) =>
        new TelnyxWebhook(publicKey).verify(body, { ...headers, "telnyx-signature-ed25519": value }).then(
          () => true,
          () => false,
        ),
      (value) => ours("telnyx", publicKey, { ...headers, "telnyx-signature-ed25519": value }),
    );
  });

  it("hmac: only the exact text the signer sends (lower-case hex, canonical base64)", () => {
    const secret = "shared-secret";
    const headers = sign("hmac", secret).headers;
    const signature = headers["x-signature"]!;
    assert.equal(ours("hmac", secret, headers), true);
    assert.equal(ours("hmac", secret, { ...headers, "x-signature": signature.toUpperCase() }), false);
    const base64Settings: SchemeSettings = { purpose: "sign", hmac: { ...defaultHmacSettings, encoding: "base64" } };
    const base64Scheme = getScheme("hmac");
    const signed = base64Scheme
      .create([{ value: secret, source: "(test)" }], base64Settings)
      .sign({ id: "e", timestamp: now(), body: Buffer.from(body), method: "POST", url: "", contentType: "application/json" });
    const verify = (value: string) =>
      base64Scheme
        .create([{ value: secret, source: "(test)" }], { ...base64Settings, purpose: "verify" })
        .verify(
          { headers: { ...signed.headers, "x-signature": value }, body: Buffer.from(body), method: "POST", url: "" },
          { now: now(), toleranceSeconds: 300 },
        ).valid;
    assert.equal(verify(signed.headers["x-signature"]!), true);
    assert.equal(verify(nonCanonical(signed.headers["x-signature"]!)), false);
  });
});
