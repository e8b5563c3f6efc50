/**
 * Issue 27, "runs as printed": `vwh init`'s next steps, executed verbatim in a fresh folder, npm offline but
 * for the install (which prefers npm's cache): init vendors the running vwh, `npm install` installs it from
 * the project (package-lock.json says so), and `npx vwh simulate` — the installed copy — passes the starters against the
 * example handler. The installed copy then writes every other platform's project and passes its starters
 * against that platform's example handler, in this process (one shell and npx per platform cost seconds
 * and proved nothing more). Also the turn expectation the Twilio starters rely on.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { checkTurn } from "../../src/engine/script-call.js";
import { platformIds, type PlatformId } from "../../src/platforms/registry.js";
import type { Action } from "../../src/platforms/types.js";
import { vwhVersion } from "../../src/core/version.js";
import { repoRoot, runInProcess, runVwh, unusedPort, withTempDir } from "../helpers.js";
import { installPrinted, printedSteps, runPrinted } from "../printed-steps.js";

interface ExampleSetup {
  path: string;
  listener: RequestListener;
  /** What vwh signs with; none where the platform signs nothing (Vapi's custom LLM). */
  secret?: string;
  attach?: (server: Server) => void;
  args?: string[];
}

const example = async <T>(name: string) => (await import(pathToFileURL(join(repoRoot, "examples", `${name}-handler.js`)).href)) as T;
type Factory = (options: Record<string, unknown>) => RequestListener;

/** Each platform's example handler, as `npm run demo` starts it: its path, its listener and the secret vwh signs with. */
const setups: Record<PlatformId, (port: number) => Promise<ExampleSetup>> = {
  vwh: async () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const { WEBHOOK_PATH, createVoiceHandler } = await example<{ WEBHOOK_PATH: string; createVoiceHandler: Factory }>("voice");
    return { path: WEBHOOK_PATH, listener: createVoiceHandler({ secrets: [secret] }), secret };
  },
  twilio: async (port) => {
    const secret = randomBytes(16).toString("hex");
    const { VOICE_PATH, createTwilioHandler } = await example<{ VOICE_PATH: string; createTwilioHandler: Factory }>("twilio");
    return { path: VOICE_PATH, listener: createTwilioHandler({ authToken: secret, publicUrl: `http://127.0.0.1:${port}${VOICE_PATH}` }), secret };
  },
  vonage: async () => {
    const secret = randomBytes(24).toString("base64url");
    const { ANSWER_PATH, createVonageHandler } = await example<{ ANSWER_PATH: string; createVonageHandler: Factory }>("vonage");
    return { path: ANSWER_PATH, listener: createVonageHandler({ signatureSecrets: [secret] }), secret };
  },
  plivo: async () => {
    const secret = randomBytes(20).toString("base64url");
    const { ANSWER_PATH, createPlivoHandler } = await example<{ ANSWER_PATH: string; createPlivoHandler: Factory }>("plivo");
    return { path: ANSWER_PATH, listener: createPlivoHandler({ authTokens: [secret] }), secret };
  },
  telnyx: async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const api = await unusedPort();
    const { WEBHOOK_PATH, createTelnyxHandler } = await example<{ WEBHOOK_PATH: string; createTelnyxHandler: Factory }>("telnyx");
    const listener = createTelnyxHandler({
      apiKey: "KEY_test",
      baseURL: `http://127.0.0.1:${api}/v2`,
      publicKey: publicKey.export({ format: "der", type: "spki" }).subarray(12).toString("base64"),
      log: () => {},
    });
    // The handler calls vwh's Call Control API back: started first, it needs that API's port fixed.
    return {
      path: WEBHOOK_PATH,
      listener,
      secret: privateKey.export({ format: "der", type: "pkcs8" }).subarray(16).toString("base64"),
      args: ["--telnyx-api-port", String(api)],
    };
  },
  vapi: async () => {
    const secret = randomBytes(24).toString("hex");
    const { WEBHOOK_PATH, createVapiHandler } = await example<{ WEBHOOK_PATH: string; createVapiHandler: Factory }>("vapi");
    return { path: WEBHOOK_PATH, listener: createVapiHandler({ secrets: [secret] }), secret };
  },
  retell: async () => {
    const secret = `key_${randomBytes(16).toString("hex")}`;
    const { WEBHOOK_PATH, createRetellHandler } = await example<{ WEBHOOK_PATH: string; createRetellHandler: Factory }>("retell");
    return { path: WEBHOOK_PATH, listener: createRetellHandler({ apiKeys: [secret] }), secret };
  },
  "vapi-llm": async () => {
    const { BASE_PATH, createVapiLlmHandler } = await example<{ BASE_PATH: string; createVapiLlmHandler: Factory }>("vapi-llm");
    return { path: BASE_PATH, listener: createVapiLlmHandler({}) };
  },
  teler: async () => {
    const secret = randomBytes(24).toString("hex");
    const { FLOW_PATH, createTelerHandler, attachTelerMediaAgent } = await example<{
      FLOW_PATH: string;
      createTelerHandler: Factory;
      attachTelerMediaAgent: (server: Server) => void;
    }>("teler");
    return { path: FLOW_PATH, listener: createTelerHandler({ secrets: [secret] }), secret, attach: attachTelerMediaAgent };
  },
};

async function listen(setup: ExampleSetup, port: number): Promise<Server> {
  const server = createServer(setup.listener);
  setup.attach?.(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

const line = (steps: string[], start: string) => {
  const found = steps.find((step) => step.startsWith(start));
  assert.ok(found, `no "${start}" step in:\n${steps.join("\n")}`);
  return found;
};

/** The words after `npx vwh simulate` on a printed line, up to its comment: plain words only, as a shell would pass them. */
const simulateArgs = (printed: string) => {
  const match = /^npx vwh simulate((?: +[^\s#'"$\\]+)*) *(?:#.*)?$/.exec(printed);
  assert.ok(match, `not a plain "npx vwh simulate" line: ${printed}`);
  return match[1]!.trim().split(/ +/).filter(Boolean);
};

/** Each platform's example handler on its port, for the length of `work`. */
async function withExample<T>(id: PlatformId, work: (url: string, setup: ExampleSetup) => Promise<T>): Promise<T> {
  const port = await unusedPort();
  const setup = await setups[id](port);
  const server = await listen(setup, port);
  try {
    return await work(`http://127.0.0.1:${(server.address() as AddressInfo).port}${setup.path}`, setup);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * What `npm pack` shipped, as npm installed it from the vendored tarball: the CLI, the API, the docs and
 * examples, every built module and data file (an installed vwh runs what this checkout runs; the other
 * platforms below rely on it), and neither tests nor sources.
 */
async function assertShipsWhatRuns(installed: string): Promise<void> {
  const listed = async (root: string, under: string) =>
    (await readdir(join(root, under), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"));
  // A dependency npm had to nest under the package is not the package's.
  const files = new Set((await listed(installed, ".")).filter((path) => !path.startsWith("node_modules/")));
  for (const path of [
    "LICENSE",
    "README.md",
    "package.json",
    "bin/vwh.js",
    "dist/src/index.js",
    "dist/src/api.js",
    "examples/voice-handler.js",
    "fixtures/reschedule.json",
    "docs/README.md",
  ])
    assert.ok(files.has(path), `${path} is not packed`);
  for (const id of platformIds) assert.ok(files.has(`docs/platforms/${id}.md`), `docs/platforms/${id}.md is not packed`);
  assert.deepEqual(
    [...files].filter((path) => path.startsWith("dist/test/") || path.startsWith("src/") || path.startsWith("test/")),
    [],
    "tests and sources stay out",
  );
  const built = await listed(repoRoot, "dist/src");
  assert.ok(built.length > 100, `only ${built.length} built files: the walk is broken`);
  assert.deepEqual(
    built.filter((path) => !files.has(path)),
    [],
    "built files missing from the package",
  );
}

describe("vwh init, then its next steps as printed", () => {
  it("init vendors vwh, npm install installs it, npx vwh simulate passes the starters; the installed vwh passes each platform's starters against its example handler", async () => {
    await withTempDir(async (project) => {
      // vwh from this checkout, as a user runs a vwh they have not installed in the project yet.
      const first = await runVwh(["init", "--yes", "--platform", "twilio"], { cwd: project });
      assert.equal(first.code, 0, first.stderr);
      const steps = printedSteps(first.stdout);
      assert.match(first.stdout, new RegExp(`vendor/vwh-${vwhVersion().replaceAll(".", "\\.")}\\.tgz`));
      assert.deepEqual(JSON.parse(await readFile(join(project, "package.json"), "utf8")).devDependencies, { vwh: `file:vendor/vwh-${vwhVersion()}.tgz` });
      // The variable twilio.webhook() reads is named, and set from vwh's.
      assert.ok(
        steps.includes(
          'export TWILIO_AUTH_TOKEN="$VWH_SECRET"   # your handler\'s side: twilio.webhook() of the twilio package (when no token is passed) and examples/twilio-handler.js read it',
        ),
        steps.join("\n"),
      );
      const workflow = await readFile(join(project, ".github", "workflows", "voice-webhooks.yml"), "utf8");
      assert.match(workflow, /VWH_SECRET: \$\{\{ secrets\.VWH_SECRET \}\}\n\s+TWILIO_AUTH_TOKEN: \$\{\{ secrets\.VWH_SECRET \}\}/);

      const install = await installPrinted(line(steps, "npm install"), project);
      assert.equal(install.code, 0, install.output);
      const installed = join(project, "node_modules", "vwh");
      assert.ok(existsSync(join(installed, "dist", "src", "index.js")), "vwh installed from the vendored tarball");
      await assertShipsWhatRuns(installed);
      assert.match(
        await readFile(join(project, "package-lock.json"), "utf8"),
        /"resolved": "file:vendor\/vwh-/,
        "the lockfile points inside the project: npm ci on a fresh runner finds it",
      );

      // The printed line as is, its comment too, in a shell: npx runs the installed vwh. A platform's own flags go before that comment.
      const simulate = async (id: PlatformId, printed: string) =>
        withExample(id, async (url, setup) => {
          const config = JSON.parse(await readFile(join(project, "vwh.config.json"), "utf8")) as { scheme: string; flows: string[] };
          const env = { VWH_URL: url, ...(setup.secret !== undefined && { VWH_SECRET: setup.secret }) };
          const run =
            id === "twilio"
              ? await runPrinted(printed.replace("npx vwh simulate", ["npx vwh simulate", ...(setup.args ?? [])].join(" ")), project, env)
              : // The other platforms run the same installed vwh in this process: the shell and npx are proven above, and
                // the installed copy is the package's files (package.test.ts: every built module is packed).
                await runInProcess(["simulate", ...simulateArgs(printed), ...(setup.args ?? [])], {
                  root: installed,
                  env: { ...env, VWH_CONFIG: join(project, "vwh.config.json") },
                }).then((result) => ({ code: result.code, output: result.stdout + result.stderr }));
          assert.equal(run.code, 0, `${id} (${config.scheme}, ${config.flows.join(", ")}):\n${run.output}`);
          assert.match(run.output, new RegExp(`${config.flows.length} flows? · \\d+ events?( · \\d+ turns?)? · \\d+ passed · 0 failed`), run.output);
        });
      await simulate("twilio", line(steps, "npx vwh simulate"));

      // The installed vwh writes each other platform's project in turn (vwh init --platform <id> --force).
      const { initCommand } = (await import(
        pathToFileURL(join(installed, "dist", "src", "commands", "init.js")).href
      )) as typeof import("../../src/commands/init.js");
      for (const id of platformIds.filter((other) => other !== "twilio")) {
        let output = "";
        const streams = { stdout: { write: (text: string) => (output += text) }, stderr: { write: (text: string) => (output += text) } };
        await initCommand({ yes: true, platform: id, force: true }, { cwd: project, env: { CI: "true", NO_COLOR: "1" }, streams });
        assert.doesNotMatch(output, /vendor\//, "vwh is in package.json now: nothing vendored again");
        await simulate(id, line(printedSteps(output), "npx vwh simulate"));
      }
    });
  });
});

describe("listens_for, the turn expectation of the Twilio and Plivo starters", () => {
  const turn = (actions: Partial<Action>[]) => ({
    step: 0,
    label: "connect",
    expect: { listens_for: "dtmf" as const },
    actions: actions as Action[],
    replied: [],
    natives: [],
    failures: [],
    ended: undefined,
    media: undefined,
    notes: [],
  });

  it("passes a <Gather> without input (dtmf, Twilio's default) and a listen without input; fails a speech-only listen and no listen", () => {
    assert.deepEqual(
      checkTurn(
        turn([
          { type: "speak", path: "Response/Gather[1]/Say[1]" },
          { type: "listen", path: "Response/Gather[1]", input: ["dtmf"] },
        ]),
      ),
      [],
    );
    assert.deepEqual(checkTurn(turn([{ type: "listen", path: "instructions[0]" }])), []);
    assert.deepEqual(checkTurn(turn([{ type: "listen", path: "Response/Gather[1]", input: ["speech"] }])), [
      { kind: "expect", path: "listens_for", message: "expected the platform to listen for dtmf, got a listen for speech" },
    ]);
    assert.deepEqual(checkTurn(turn([{ type: "speak", path: "Response/Say[1]" }])), [
      { kind: "expect", path: "listens_for", message: "expected the platform to listen for dtmf, got no listen" },
    ]);
  });
});
