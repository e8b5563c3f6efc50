/**
 * What a `vwh simulate` start loads (each module costs start-up CPU on every run, and the suite starts vwh
 * dozens of times): a JSON platform's run loads neither the XML parser nor RE2JS (src/lib/lazy-modules.ts
 * loads them on first use) nor undici's index (src/transport/undici-core.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { binPath, fixture, newSecret } from "../helpers.js";

/** Every module a `vwh` run loaded, ES modules (a resolve hook) and CommonJS ones (require's cache at exit). */
function modulesLoadedBy(args: string[], env: Record<string, string>): { status: number | null; modules: string[] } {
  const hook =
    "data:text/javascript,import{register,createRequire}from'node:module';" +
    'register(\'data:text/javascript,export async function resolve(s,c,n){const r=await n(s,c);process.stderr.write("LOAD "+r.url+"\\n");return r}\');' +
    "process.on('exit',()=>{for(const file of Object.keys(createRequire(process.execPath).cache))process.stderr.write('LOAD '+file+'\\n')})";
  const run = spawnSync(process.execPath, ["--import", hook, binPath, ...args], { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", ...env } });
  const modules = run.stderr
    .split("\n")
    .filter((line) => line.startsWith("LOAD "))
    .map((line) => line.slice(5));
  return { status: run.status, modules };
}

describe("what a start loads", () => {
  it("a JSON platform's simulate of a flow without patterns loads no XML parser, no RE2JS and not undici's index", () => {
    // Nothing listens on port 9: exit 3, after the whole delivery path has run.
    const { status, modules } = modulesLoadedBy(["simulate", fixture("barge-in-hangup.json"), "--url", "http://127.0.0.1:9/hook"], { VWH_SECRET: newSecret() });
    assert.equal(status, 3);
    for (const expected of ["/zod/", "/undici/lib/dispatcher/agent.js", "/dist/src/engine/run.js"])
      assert.ok(
        modules.some((file) => file.includes(expected)),
        `${expected} not seen: the hook is broken`,
      );
    assert.deepEqual(
      modules.filter((file) => /\/(fast-xml-parser|re2js)\/|\/undici\/index\.js$/.test(file)),
      [],
    );
  });
});
