/**
 * One signing resolution for the CLI, the API and the load workers (issue 22): the programmatic API signs a
 * flow with its platform's scheme, as `vwh simulate` does, unless a scheme is given. Checked with twilio-node.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import twilio from "twilio";
import { simulate, type CallFlow } from "../../src/api.js";
import { getScheme } from "../../src/signing/index.js";
import { newSecret, startServer } from "../helpers.js";

const twilioFlow = {
  version: 1,
  platform: "twilio",
  name: "status",
  events: [{ event_type: "status", payload: { CallStatus: "completed" } }],
} as unknown as CallFlow;

describe("the API's signing", () => {
  it("signs a Twilio flow with X-Twilio-Signature over the URL, as twilio.validateRequest checks it", async () => {
    const token = newSecret();
    const server = await startServer((_request, response) => void response.writeHead(204).end(), "/twilio/status");
    try {
      const result = await simulate([twilioFlow], { url: server.url, secrets: [token] });
      assert.equal(result.summary.failed, 0);
      const [request] = server.requests;
      const signature = String(request!.headers["x-twilio-signature"]);
      assert.equal(request!.headers["webhook-signature"], undefined, "not signed the Standard Webhooks way");
      assert.equal(twilio.validateRequest(token, signature, server.url, Object.fromEntries(new URLSearchParams(request!.body.toString()))), true);
    } finally {
      await server.close();
    }
  });

  it("signs every flow with the scheme given, as --scheme does", async () => {
    const secret = newSecret();
    const server = await startServer((_request, response) => void response.writeHead(204).end(), "/twilio/status");
    try {
      await simulate([twilioFlow], { url: server.url, secrets: [secret], scheme: "standard" });
      const [request] = server.requests;
      assert.equal(request!.headers["x-twilio-signature"], undefined);
      const verifier = getScheme("standard").create([{ value: secret, source: "" }], { purpose: "verify" });
      const verdict = verifier.verify(
        { headers: request!.headers as Record<string, string>, body: request!.body, method: "POST", url: "" },
        { now: Math.floor(Date.now() / 1000), toleranceSeconds: 300 },
      );
      assert.deepEqual(verdict, { valid: true });
    } finally {
      await server.close();
    }
  });
});
