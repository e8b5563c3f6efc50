import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { simulateOptionsSchema } from "../../src/commands/simulate.js";
import { parseOptions } from "../../src/cli/parse-options.js";
import { parseArgv } from "../helpers.js";

/** Parses `vwh simulate …` with the real program, capturing what the simulate action would receive. */
async function parseSimulate(argv: string[]): Promise<{ files: string[]; options: Record<string, unknown> }> {
  const parsed = await parseArgv(["simulate", ...argv]);
  return { files: parsed.args[0] as string[], options: parsed.options };
}

describe("argv → options", () => {
  it("parses simulate flags, repeated secrets and global flags placed after the command", async () => {
    const { files, options } = await parseSimulate([
      "a.json",
      "b.json",
      "--url",
      "http://127.0.0.1:3000/hook",
      "--secret",
      "whsec_one",
      "--secret",
      "whsec_two",
      "--timeout",
      "2500",
      "--strict-latency",
      "--json",
      "--no-color",
    ]);
    assert.deepEqual(files, ["a.json", "b.json"]);
    const parsed = parseOptions(simulateOptionsSchema, options);
    assert.equal(parsed.url?.href, "http://127.0.0.1:3000/hook");
    assert.deepEqual(parsed.secret, ["whsec_one", "whsec_two"]);
    assert.equal(parsed.timeout, 2500);
    assert.equal(parsed.budget, 200);
    assert.equal(parsed.strictLatency, true);
    assert.equal(parsed.realtime, false);
    assert.equal(parsed.json, true);
    assert.equal(parsed.color, false);
    // No --scheme: each flow's platform signs with its own (engine/signing.ts).
    assert.equal(parsed.scheme, undefined);
  });

  it("turns bad flag values into one line naming the flag", async () => {
    const { options } = await parseSimulate(["a.json", "--timeout", "soon", "--budget", "0"]);
    assert.throws(() => parseOptions(simulateOptionsSchema, options), { message: '--timeout: expected a whole number of milliseconds, got "soon"' });
    const second = await parseSimulate(["a.json", "--budget", "0"]);
    assert.throws(() => parseOptions(simulateOptionsSchema, second.options), { message: "--budget: expected value >= 1, got 0" });
    const third = await parseSimulate(["a.json", "--url", "localhost:3000"]);
    assert.throws(() => parseOptions(simulateOptionsSchema, third.options), {
      message: '--url: expected an http://, https://, ws:// or wss:// URL, got "localhost:3000"',
    });
  });

  it("rejects unknown options through commander (exit 2 in the CLI)", async () => {
    await assert.rejects(parseSimulate(["a.json", "--nope"]), { code: "commander.unknownOption" });
    // Flows may come from vwh.config.json, so none on the command line is not a parse error.
    assert.deepEqual((await parseSimulate([])).files, []);
  });
});
