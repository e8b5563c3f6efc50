/** The package as another project gets it: what `npm pack` ships, and what `import "vwh"` gives. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readdir, readFile, stat, symlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { Webhook } from "standardwebhooks";
import { sign, verify } from "../../src/api.js";
import { newSecret, repoRoot, runInProcess, withTempDir } from "../helpers.js";
import { testEntries, togetherFiles } from "../together.js";

const run = promisify(execFile);

describe("the package", () => {
  it("declares the API as its export, a LICENSE, and no install-time script", async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
      license: string;
      scripts: Record<string, string>;
      exports: Record<string, string>;
    };
    for (const script of ["preinstall", "install", "postinstall", "prepare"])
      assert.equal(manifest.scripts[script], undefined, `${script} runs on the user's machine`);
    assert.equal(manifest.exports["."], "./dist/src/api.js");
    assert.match(await readFile(join(repoRoot, "LICENSE"), "utf8"), new RegExp(`^${manifest.license} License`));
    // What `npm pack` ships is checked where the package is installed from its tarball: runs-as-printed.test.ts.
  });

  it("cites no file a user does not have: no PROVIDERS.md, no SPEC §, in anything shipped or in src/", async () => {
    const cited = /PROVIDERS|SPEC(\.md| §)/;
    const offenders: string[] = [];
    const walk = async (path: string): Promise<void> => {
      const info = await stat(path);
      if (info.isDirectory()) {
        for (const name of await readdir(path)) await walk(join(path, name));
      } else if (/\.(ts|js|json|md)$/.test(path)) {
        (await readFile(path, "utf8")).split("\n").forEach((line, index) => cited.test(line) && offenders.push(`${path.slice(repoRoot.length)}:${index + 1}`));
      }
    };
    for (const top of ["src", "examples", "fixtures", "docs", "README.md"]) await walk(join(repoRoot, top));
    assert.deepEqual(offenders, []);
    const described = await runInProcess(["platforms", "--json"]);
    for (const platform of (JSON.parse(described.stdout) as { platforms: { id: string; docs: string }[] }).platforms) await stat(join(repoRoot, platform.docs));
  });

  it('import("vwh") resolves through the exports map to the API, and never runs the CLI or exits', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, "node_modules"));
      await symlink(repoRoot, join(dir, "node_modules", "vwh"), "dir");
      // Arguments the CLI would choke on: if importing ran it, it would print an error and exit 2.
      const script = `const api = await import("vwh");
const names = Object.keys(api).sort();
await new Promise((resolve) => setTimeout(resolve, 20));
console.log(JSON.stringify({ names, exited: false }));`;
      const { stdout, stderr } = await run(process.execPath, ["--input-type=module", "-e", script, "--", "simulate", "--no-such-flag"], { cwd: dir });
      assert.equal(stderr, "");
      const { names } = JSON.parse(stdout) as { names: string[] };
      for (const name of ["simulate", "sign", "verify", "callFlowSchema", "recordingSchema", "instructionReplySchema", "envelopeSchema", "configSchema"])
        assert.ok(names.includes(name), `${name} is not exported`);
    });
  });

  it("the API's own modules never touch process (argv, env, exit, stdio)", async () => {
    const seen = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = await readFile(file, "utf8");
      assert.doesNotMatch(source, /\bprocess\./, `${file} touches process`);
      for (const [, specifier] of source.matchAll(/^(?:import|export)\b[^;]*?from "(\.{1,2}\/[^"]+)"/gm)) await visit(resolve(dirname(file), specifier!));
    };
    await visit(join(repoRoot, "dist", "src", "api.js"));
    assert.ok(seen.size > 10, `only ${seen.size} modules reached: the import scan is broken`);
  });
});

/** Numbers that differ run to run (port, latencies, durations in ms or s, seed) become N; the rest must match. */
const shape = (text: string) =>
  text
    .trim()
    .split("\n")
    // Latency is the machine's, not the demo's: over-budget warnings come and go with the load.
    .filter((line) => !/warning: latency \d+ ms over budget/.test(line))
    .map((line) =>
      line
        .replace(/ · \d+ over budget/, "")
        .replace(/\d+(\.\d+)? (ms|s)\b/g, "N ms")
        .replace(/\d+(\.\d+)?/g, "N")
        .replace(/ +/g, " ")
        .trimEnd(),
    );

/** The demo's output up to its second platform's `demo:` line. */
const firstPlatform = (text: string) => {
  const lines = text.trim().split("\n");
  const next = lines.findIndex((line, index) => index > 0 && line.startsWith("demo: "));
  return (next === -1 ? lines : lines.slice(0, next)).join("\n");
};

describe("the README", () => {
  it("shows real `npm run demo` output: the demo's output has the README sample's shape", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const sample = /```\n(demo: reference handler[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(sample, "the README has no demo sample");
    const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(manifest.scripts.demo, "node examples/demo.js");
    // The demo exits 0 only when every platform passed (execFile rejects otherwise); the README shows its
    // first platform's part, which the others follow in shape.
    const { stdout } = await run(process.execPath, ["examples/demo.js"], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" } });
    assert.deepEqual(shape(firstPlatform(stdout)), shape(sample));
    assert.ok(stdout.split("\n").filter((line) => line.startsWith("demo: ")).length > 1, "the demo runs every platform's example handler");
  });

  it("quick start and CI agree: install and build, then the README's test command", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.match(readme, /^npm ci && npm run build +#/m);
    assert.match(readme, /^npm test +#/m);
    assert.equal(manifest.scripts.pretest, "npm run build", "npm test builds first: .ci/run needs nothing else");
    // Every test file runs, exactly once: in a process of its own, or in its group's shared one (together.ts).
    assert.equal(manifest.scripts.test, "biome format . && node dist/test/run.js");
    const entries = testEntries();
    const ran = entries.flatMap((entry) => {
      const shared = /^dist\/test\/together-(\w+)\.js$/.exec(entry);
      return shared ? togetherFiles(shared[1]!) : [entry.replace(/^dist\/test\//, "")];
    });
    const files = (await readdir(join(repoRoot, "test"), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) =>
        readdirSync(join(repoRoot, "test", entry.name))
          .filter((name) => name.endsWith(".test.ts"))
          .map((name) => `${entry.name}/${name.replace(/\.ts$/, ".js")}`),
      );
    assert.ok(files.length > 50, `only ${files.length} test files found`);
    assert.deepEqual([...ran].sort(), [...files].sort());
    for (const entry of entries) assert.ok(existsSync(join(repoRoot, entry)), `${entry} is not built`);
    const ci = (await readFile(join(repoRoot, ".ci", "run"), "utf8")).split("\n").filter((line) => line.startsWith("npm "));
    assert.deepEqual(ci, ["npm ci --no-audit --no-fund --engine-strict", "npm test"], "--engine-strict: an EBADENGINE fails CI (issue 27)");
  });
});

describe("the programmatic API: sign and verify", () => {
  const secret = newSecret();
  const body = '{"event_type":"call.ended","event_id":"evt_api"}';

  it("sign produces what the official standardwebhooks library verifies", () => {
    const { headers } = sign(body, { id: "evt_api", secrets: [secret] });
    assert.doesNotThrow(() => new Webhook(secret).verify(body, headers));
  });

  it("verify accepts the official library's signature and says why it refuses a tampered one", () => {
    const timestamp = new Date();
    const headers = {
      "Webhook-Id": "evt_api",
      "Webhook-Timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "Webhook-Signature": new Webhook(secret).sign("evt_api", timestamp, body),
    };
    assert.deepEqual(verify({ headers, body }, { secrets: [newSecret(), secret] }), { valid: true });
    assert.deepEqual(verify({ headers, body: body.replace("ended", "started") }, { secrets: [secret] }), { valid: false, reason: "no matching signature" });
    assert.deepEqual(verify({ headers, body }, { secrets: [secret], now: Math.floor(timestamp.getTime() / 1000) + 400 }), {
      valid: false,
      reason: "timestamp too old (400 s > 300 s tolerance)",
    });
  });

  it("takes other schemes and partial hmac settings", () => {
    const hmac = { header: "x-hub-signature-256", template: "{body}", prefix: "sha256=" };
    const { headers } = sign(body, { id: "evt_api", secrets: ["shh"], scheme: "hmac", hmac });
    assert.match(headers["x-hub-signature-256"]!, /^sha256=[0-9a-f]{64}$/);
    assert.deepEqual(verify({ headers, body }, { secrets: ["shh"], scheme: "hmac", hmac }), { valid: true });
    assert.throws(() => sign(body, { id: "evt_api", secrets: [] }), /no signing secret/);
  });
});
