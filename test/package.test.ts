/** The package as another project gets it: what `npm pack` ships, and what `import "vwh"` gives. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, symlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { repoRoot, withTempDir } from "./helpers.js";

const run = promisify(execFile);

describe("the package", () => {
  it("ships the built CLI, the API and the LICENSE, and no install-time script", async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { license: string; scripts: Record<string, string>; exports: Record<string, string> };
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(manifest.scripts[script], undefined, `${script} runs on the user's machine`);
    assert.equal(manifest.exports["."], "./dist/src/api.js");
    assert.match(await readFile(join(repoRoot, "LICENSE"), "utf8"), new RegExp(`^${manifest.license} License`));
    // --ignore-scripts: the suite has built dist already (pretest); prepack would only rebuild it.
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path));
    for (const path of ["LICENSE", "README.md", "bin/vwh.js", "dist/src/index.js", "dist/src/api.js", "examples/voice-handler.js", "fixtures/reschedule.json"]) assert.ok(files.has(path), `${path} is not packed`);
    assert.ok(![...files].some((path) => path.startsWith("dist/test/") || path.startsWith("src/")), "tests and sources stay out");
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
      for (const name of ["simulate", "sign", "verify", "callFlowSchema", "recordingSchema", "instructionReplySchema", "envelopeSchema", "configSchema"]) assert.ok(names.includes(name), `${name} is not exported`);
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
