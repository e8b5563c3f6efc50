/**
 * Runs of several flows where not all pass (issue 30): the exit code, --json's `passed`, summary and
 * flows, and the JUnit report, as vwh gives them — a passing flow must never hide a failing,
 * unreachable or bad one, whichever comes first.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { XMLParser } from "fast-xml-parser";
import { newSecret, runInProcess, startServer, withTempDir, type TestServer } from "../helpers.js";

const secret = newSecret();
const flow = (name: string, callId: string, expect?: Record<string, unknown>) =>
  JSON.stringify({ version: 1, name, call: { call_id: callId }, events: [{ event_type: "call.ended", ...(expect && { expect }) }] });

interface JsonReport {
  passed: boolean;
  exit_code: number;
  unreachable: string | null;
  summary: { flows: number; events: number; passed: number; failed: number };
  flows: { name: string; passed: boolean; events: { passed: boolean; failures: { kind: string; message: string }[] }[] }[];
}

/**
 * Runs `vwh simulate` over the files, writing JUnit; with --json when asked. In process, through the same
 * parser, command and error report as bin/vwh.js (the exit code is the one it exits with): simulate's exit 1
 * is spawned by piped-output.test.ts, its 2 there and in hardening.test.ts, its 3 by start-up.test.ts.
 */
async function simulate(dir: string, server: TestServer, files: string[], tag: string, json: boolean) {
  const junit = join(dir, `${tag}.xml`);
  const args = ["simulate", ...files, "--url", server.url, "--junit", junit, ...(json ? ["--json"] : [])];
  const run = await runInProcess(args, { env: { VWH_SECRET: secret } });
  return { run, junit };
}

interface Suite {
  "@_name": string;
  "@_tests": string;
  "@_failures": string;
  testcase: { "@_name": string; failure?: { "@_type": string; "#text"?: string } }[];
}
async function readJUnit(file: string): Promise<{ "@_tests": string; "@_failures": string; testsuite: Suite[] }> {
  const parsed = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "testsuite" || name === "testcase" }).parse(
    await readFile(file, "utf8"),
  ) as { testsuites: { "@_tests": string; "@_failures": string; testsuite: Suite[] } };
  return parsed.testsuites;
}

describe("a passing flow and a failing one: exit 1, passed false, the failure in JSON and JUnit, in either order", () => {
  it("pass + fail and fail + pass", async () => {
    // Every webhook gets a 200: the "strict" flow expects 204.
    const server = await startServer((_request, response) => void response.writeHead(200).end());
    try {
      await withTempDir(async (dir) => {
        const good = join(dir, "good.json");
        const bad = join(dir, "strict.json");
        await writeFile(good, flow("good", "call_good"));
        await writeFile(bad, flow("strict", "call_strict", { status: 204 }));
        // In one order as a user reads it, in the other as CI does (--json): both with JUnit.
        const text = await simulate(dir, server, [good, bad], "pass-fail", false);
        assert.equal(text.run.code, 1, `${text.run.stdout}${text.run.stderr}`);
        assert.match(text.run.stdout, /2 flows \(1 failed\) · 2 events · 1 passed · 1 failed/);
        const json = await simulate(dir, server, [bad, good], "fail-pass", true);
        assert.equal(json.run.code, 1, json.run.stderr);
        const report = JSON.parse(json.run.stdout) as JsonReport;
        assert.equal(report.passed, false);
        assert.equal(report.exit_code, 1);
        assert.equal(report.unreachable, null);
        assert.deepEqual([report.summary.flows, report.summary.events, report.summary.passed, report.summary.failed], [2, 2, 1, 1]);
        assert.deepEqual(
          report.flows.map((item) => [item.name, item.passed]),
          [
            ["strict", false],
            ["good", true],
          ],
        );
        assert.deepEqual(
          report.flows[0]!.events[0]!.failures.map((finding) => [finding.kind, finding.message]),
          [["status", "expected status 204, got 200"]],
        );
        for (const file of [text.junit, json.junit]) {
          const suites = await readJUnit(file);
          assert.deepEqual([suites["@_tests"], suites["@_failures"]], ["2", "1"], file);
          const byName = Object.fromEntries(suites.testsuite.map((suite) => [suite["@_name"], suite]));
          assert.equal(byName["good"]!["@_failures"], "0");
          assert.equal(byName["good"]!.testcase[0]!.failure, undefined);
          assert.equal(byName["strict"]!["@_failures"], "1");
          assert.equal(byName["strict"]!.testcase[0]!.failure!["@_type"], "status");
          assert.match(byName["strict"]!.testcase[0]!.failure!["#text"]!, /expected status 204, got 200/);
        }
      });
    } finally {
      await server.close();
    }
  });
});

describe("a passing flow, then the handler goes away: exit 3, passed false, the unreachable event a failure", () => {
  it("pass + unreachable", async () => {
    await withTempDir(async (dir) => {
      const first = join(dir, "first.json");
      const second = join(dir, "second.json");
      await writeFile(first, flow("first", "call_first"));
      await writeFile(second, flow("second", "call_second"));
      {
        // The handler answers the first flow's webhook, then stops listening: the second flow finds nobody.
        const server = await startServer((_request, response) => {
          response.on("finish", () => {
            server.close().catch(() => {});
          });
          response.writeHead(204, { connection: "close" }).end();
        });
        const { run, junit } = await simulate(dir, server, [first, second], "unreachable", true);
        await server.close();
        assert.equal(run.code, 3, `${run.stdout}${run.stderr}`);
        assert.equal(server.requests.length, 1);
        const report = JSON.parse(run.stdout) as JsonReport;
        assert.equal(report.passed, false);
        assert.equal(report.exit_code, 3);
        assert.match(report.unreachable ?? "", /ECONNREFUSED/);
        assert.deepEqual(
          report.flows.map((item) => [item.name, item.passed]),
          [
            ["first", true],
            ["second", false],
          ],
        );
        assert.deepEqual([report.summary.flows, report.summary.passed, report.summary.failed], [2, 1, 1]);
        const suites = await readJUnit(junit);
        assert.deepEqual([suites["@_tests"], suites["@_failures"]], ["2", "1"]);
        assert.equal(suites.testsuite[1]!.testcase[0]!.failure!["@_type"], "unreachable");
      }
    });
  });
});

describe("a passing flow beside a bad file: exit 2, nothing sent, no report but the error", () => {
  it("pass + bad file", async () => {
    const server = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        const good = join(dir, "good.json");
        const broken = join(dir, "broken.json");
        await writeFile(good, flow("good", "call_good"));
        await writeFile(broken, JSON.stringify({ version: 1, name: "broken", events: [{ event_type: 5 }] }));
        const { run, junit } = await simulate(dir, server, [good, broken], "bad-file", true);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /^vwh: .*broken\.json:\d+:\d+: events\[0\]\.event_type: expected a string, got 5\n$/);
        const report = JSON.parse(run.stdout) as { error: { message: string; exit_code: number } };
        assert.equal(report.error.exit_code, 2);
        assert.match(report.error.message, /broken\.json:\d+:\d+: events\[0\]\.event_type: expected a string, got 5$/);
        assert.equal(server.requests.length, 0, "bad files are refused before anything is sent");
        assert.equal(existsSync(junit), false, "no JUnit report of a run that did not happen");
      });
    } finally {
      await server.close();
    }
  });
});
