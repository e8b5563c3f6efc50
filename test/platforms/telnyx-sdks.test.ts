/**
 * Telnyx across SDK majors and the signature probe (issue 24): the 2.x SDK (devDependency telnyx-v2 =
 * telnyx@2) reads only TELNYX_API_BASE, a host it calls over https on 443, so the README's recipe points
 * it at vwh with setHost(); `vwh verify-signature --platform telnyx --url` serves the Call Control API, so a
 * handler that answers the probe's calls passes; a 401 gets a hint about TELNYX_PUBLIC_KEY.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { RequestListener } from "node:http";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { loadFlow } from "../../src/files/call-flow.js";
import { CallControlApi } from "../../src/platforms/telnyx/api-server.js";
import { telnyxPlatform } from "../../src/platforms/telnyx/index.js";
import { getScheme } from "../../src/signing/index.js";
import { parseTelnyxPrivateKey, rawPublicKeyBase64 } from "../../src/signing/telnyx.js";
import { runSimulation } from "../../src/engine/run.js";
import { createDispatcher } from "../../src/transport/undici.js";
import { engineOptions } from "../engine-helpers.js";
import { fixture, newSecret, repoRoot, runInProcess, startListener, unusedPort } from "../helpers.js";

interface TelnyxV2Client {
  setHost(host: string, port?: string | number, protocol?: string): void;
  getApiField(field: string): unknown;
  calls: Record<string, (callControlId: string, params?: Record<string, unknown>) => Promise<unknown>>;
  webhooks: { constructEvent(payload: string, signature: Uint8Array, timestamp: string, publicKey: Uint8Array): unknown };
}
const telnyxV2 = createRequire(import.meta.url)("telnyx-v2") as (apiKey: string) => TelnyxV2Client;

/** The README's 2.x recipe: TELNYX_BASE_URL (what vwh prints) applied with setHost, signatures with constructEvent. */
function v2Handler(baseUrl: string, publicKey: string, seen: string[]): RequestListener {
  const telnyx = telnyxV2("KEY_test");
  const base = new URL(baseUrl);
  telnyx.setHost(base.hostname, base.port, base.protocol.replace(":", ""));
  return (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let event: { data: { event_type: string; payload: { call_control_id: string } } };
      try {
        event = telnyx.webhooks.constructEvent(
          raw,
          Buffer.from(String(request.headers["telnyx-signature-ed25519"]), "base64"),
          String(request.headers["telnyx-timestamp"]),
          Buffer.from(publicKey, "base64"),
        ) as typeof event;
      } catch {
        response.writeHead(401).end();
        return;
      }
      const { event_type: type, payload } = event.data;
      seen.push(type);
      try {
        if (type === "call.initiated") await telnyx.calls["answer"]!(payload.call_control_id, {});
        if (type === "call.answered") await telnyx.calls["speak"]!(payload.call_control_id, { payload: "Hello from telnyx two", voice: "female" });
        if (type === "call.speak.ended") await telnyx.calls["hangup"]!(payload.call_control_id, {});
        response.writeHead(200).end();
      } catch (error) {
        seen.push(`error ${(error as Error).message}`);
        response.writeHead(500).end();
      }
    });
  };
}

describe("telnyx SDK majors and the signature probe (issue 24)", () => {
  it("telnyx 2.x: TELNYX_API_BASE is a host on https 443, so the recipe's setHost points it at vwh; a call runs", async () => {
    assert.deepEqual(
      [telnyxV2("KEY_test").getApiField("protocol"), telnyxV2("KEY_test").getApiField("port")],
      ["https", "443"],
      "2.x has no base-URL variable: only a host, https, 443",
    );
    const run = await telnyxPlatform.openRun!({ settings: {}, secrets: [] });
    const api = run.settings["telnyxApi"] as CallControlApi;
    const seen: string[] = [];
    const server = await startListener(v2Handler(api.baseUrl, rawPublicKeyBase64(parseTelnyxPrivateKey(run.secrets[0]!)), seen), "/webhooks/telnyx");
    try {
      const flow = await loadFlow(fixture("scripts/telnyx-goodbye.json"));
      const result = await runSimulation(
        [{ ...flow, flow: { ...flow.flow, script: [{ expect: { says: { contains: "telnyx two" }, ends: "handler_hangup" } }] } }],
        engineOptions(server.url, newSecret(), {
          signer: getScheme("telnyx").create(run.secrets, { purpose: "sign" }),
          signatureHeaders: ["telnyx-signature-ed25519", "telnyx-timestamp"],
          dispatcher: createDispatcher(4),
          platformRuns: { telnyx: run },
        }),
      );
      assert.ok(result.flows[0]!.passed, JSON.stringify(result.flows[0]!.turns, null, 1));
      assert.deepEqual(seen, ["call.initiated", "call.answered", "call.speak.started", "call.speak.ended", "call.hangup"]);
    } finally {
      await server.close();
      await run.close();
    }
  });

  it("verify-signature --platform telnyx --url serves the Call Control API: a handler that answers the probe's calls passes", async () => {
    const example = (await import(pathToFileURL(join(repoRoot, "examples", "telnyx-handler.js")).href)) as {
      createTelnyxHandler(options: { apiKey: string; baseURL: string; publicKey: string; log: (line: string) => void }): RequestListener;
      WEBHOOK_PATH: string;
    };
    const secret = getScheme("telnyx").randomSecret();
    const publicKey = rawPublicKeyBase64(parseTelnyxPrivateKey({ value: secret, source: "test" }));
    const port = await unusedPort();
    const logs: string[] = [];
    const server = await startListener(
      example.createTelnyxHandler({ apiKey: "KEY_test", baseURL: `http://127.0.0.1:${port}/v2`, publicKey, log: (line) => logs.push(line) }),
      example.WEBHOOK_PATH,
    );
    try {
      const probe = await runInProcess(["verify-signature", "--platform", "telnyx", "--url", server.url, "--telnyx-api-port", String(port), "--json"], {
        env: { VWH_SECRET: secret },
      });
      const report = JSON.parse(probe.stdout) as { passed: boolean; cases: { name: string; outcome: string; status: number }[] };
      assert.equal(probe.code, 0, `${probe.stdout}\n${probe.stderr}\n${logs.join("\n")}`);
      assert.equal(report.cases.find((item) => item.name === "valid signature")?.status, 200);
      assert.match(probe.stderr, new RegExp(`TELNYX_BASE_URL=http://127\\.0\\.0\\.1:${port}/v2`));
      // Signed with another key: the handler answers 401, and the finding says where the key goes.
      const other = getScheme("telnyx").randomSecret();
      const wrong = await runInProcess(["verify-signature", "--platform", "telnyx", "--url", server.url, "--telnyx-api-port", String(port), "--json"], {
        env: { VWH_SECRET: other },
      });
      const wrongReport = JSON.parse(wrong.stdout) as { hint: string | null; cases: { name: string; outcome: string; status: number }[] };
      const refused = wrongReport.cases.find((item) => item.name === "valid signature")!;
      assert.deepEqual([wrong.code, refused.outcome, refused.status], [1, "wrongly-refused", 401]);
      // Said once for the run (issue 25), not per case.
      assert.match(wrongReport.hint ?? "", /TELNYX_PUBLIC_KEY/);
    } finally {
      await server.close();
    }
  });
});
