/** Flags not covered elsewhere: each test fails if its flag stops working (--backoff and --concurrency: engine-faults and load tests). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { request } from "undici";
import { getScheme } from "../../src/signing/index.js";
import { flowWith, json, newSecret, repoRoot, runInProcess, runVwh, startServer, tunnelInProcess, withFlowFile } from "../helpers.js";

const secret = newSecret();

describe("flag coverage", () => {
  it("--version prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const result = await runVwh(["--version"]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });

  it("simulate --secret-env reads the secret from the named variable", async () => {
    const server = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const result = await runInProcess(["simulate", file, "--url", server.url, "--secret-env", "AGENT_SECRET"], { env: { AGENT_SECRET: secret } });
        assert.equal(result.code, 0, result.stderr);
        const expected = getScheme("standard").create([{ value: secret, source: "" }], { purpose: "verify" });
        const [received] = server.requests;
        const verdict = expected.verify(
          { headers: received!.headers as Record<string, string>, body: received!.body, method: "POST", url: "" },
          { now: Math.floor(Date.now() / 1000), toleranceSeconds: 300 },
        );
        assert.deepEqual(verdict, { valid: true });
        const missing = await runInProcess(["simulate", file, "--url", server.url, "--secret-env", "AGENT_SECRET"]);
        assert.match(missing.stderr, /set AGENT_SECRET or VWH_SECRET/);
      });
    } finally {
      await server.close();
    }
  });

  it("verify-signature --url --timeout counts a handler that never answers as wrong", async () => {
    // Never answers: every case runs into the timeout.
    const server = await startServer(() => {});
    try {
      const result = await runInProcess(["verify-signature", "--url", server.url, "--timeout", "20", "--json"], { env: { VWH_SECRET: secret } });
      assert.equal(result.code, 1);
      const report = JSON.parse(result.stdout) as { cases: { outcome: string; note: string }[] };
      assert.ok(report.cases.every((entry) => entry.outcome === "no-reply" || entry.outcome === "skipped"));
      assert.equal(report.cases[0]!.note, "no reply within 20 ms");
    } finally {
      await server.close();
    }
  });

  it("tunnel --tolerance sets the accepted signature age", async () => {
    const upstream = await startServer((_request, response) => json(response, 200, {}));
    const body = '{"event_type":"call.ended"}';
    const headers = getScheme("standard")
      .create([{ value: secret, source: "" }], { purpose: "sign" })
      .sign({
        id: "e",
        timestamp: Math.floor(Date.now() / 1000) - 1000,
        body: Buffer.from(body),
        method: "POST",
        url: "",
        contentType: "application/json",
      }).headers;
    try {
      for (const [tolerance, expected] of [
        ["300", { valid: false, reason: /timestamp too old \(\d+ s > 300 s tolerance\)/ }],
        ["3600", { valid: true }],
      ] as const) {
        const vwh = await tunnelInProcess([String(upstream.port), "--local", "--json", "--tolerance", tolerance], { env: { VWH_SECRET: secret } });
        try {
          const ready = JSON.parse(await vwh.nextLine()) as { proxy_url: string };
          const response = await request(ready.proxy_url, { method: "POST", headers, body });
          await response.body.dump();
          const line = JSON.parse(await vwh.nextLine()) as { signature: { valid: boolean; reason: string | null } };
          assert.equal(line.signature.valid, expected.valid);
          if ("reason" in expected) assert.match(line.signature.reason!, expected.reason);
        } finally {
          await vwh.stop();
        }
      }
    } finally {
      // Closed on failure too: an open server would keep the test file's process alive (a hang, not a failure).
      await upstream.close();
    }
  });
});
