import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { resolveSecrets } from "../src/signing/index.js";
import { standardScheme, standardSignature, parseStandardSecret } from "../src/signing/standard.js";
import type { ReceivedRequest } from "../src/signing/types.js";
import { newSecret } from "./helpers.js";

const vector = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const secretInput = (value: string) => ({ value, source: "(test)" });

function received(headers: Record<string, string>, body: string | Buffer): ReceivedRequest {
  return { headers, body: Buffer.from(body), method: "POST", url: "http://127.0.0.1/webhooks/voice" };
}

describe("Standard Webhooks v1", () => {
  it("matches the SPEC §3 test vector", () => {
    const signer = standardScheme.create([secretInput(vector.secret)]);
    const headers = signer.sign({ id: vector.id, timestamp: vector.timestamp, body: Buffer.from(vector.body), method: "POST", url: "" });
    assert.equal(headers["webhook-signature"], vector.signature);
    assert.equal(headers["webhook-id"], vector.id);
    assert.equal(headers["webhook-timestamp"], String(vector.timestamp));
  });

  it("verifies the test vector at its own time and names each failure precisely", () => {
    const signer = standardScheme.create([secretInput(vector.secret)]);
    const headers = { "webhook-id": vector.id, "webhook-timestamp": String(vector.timestamp), "webhook-signature": vector.signature };
    const at = { now: vector.timestamp, toleranceSeconds: 300 };
    assert.deepEqual(signer.verify(received(headers, vector.body), at), { valid: true });
    assert.deepEqual(signer.verify(received(headers, '{"test": 2432232315}'), at), { valid: false, reason: "no matching signature" });
    assert.deepEqual(signer.verify(received(headers, vector.body), { now: vector.timestamp + 412, toleranceSeconds: 300 }), {
      valid: false,
      reason: "timestamp too old (412 s > 300 s tolerance)",
    });
    assert.deepEqual(signer.verify(received(headers, vector.body), { now: vector.timestamp - 301, toleranceSeconds: 300 }), {
      valid: false,
      reason: "timestamp too far in the future (301 s > 300 s tolerance)",
    });
    const { "webhook-id": _id, ...withoutId } = headers;
    assert.deepEqual(signer.verify(received(withoutId, vector.body), at), { valid: false, reason: "missing header webhook-id" });
    assert.deepEqual(signer.verify(received({ ...headers, "webhook-signature": "v2,abc" }, vector.body), at), {
      valid: false,
      reason: "no v1 signature (only unknown versions)",
    });
    assert.deepEqual(signer.verify(received({ ...headers, "webhook-signature": "garbage" }, vector.body), at), {
      valid: false,
      reason: "malformed webhook-signature (expected v1,<base64>)",
    });
    assert.deepEqual(signer.verify(received({ ...headers, "webhook-timestamp": "soon" }, vector.body), at), {
      valid: false,
      reason: "invalid webhook-timestamp (expected unix seconds)",
    });
  });

  it("signs with every secret for rotation, and accepts the valid signature anywhere in the list", () => {
    const [oldSecret, newSecretValue] = [newSecret(), newSecret()];
    const both = standardScheme.create([secretInput(oldSecret), secretInput(newSecretValue)]);
    const headers = both.sign({ id: "evt_1", timestamp: 1000, body: Buffer.from("{}"), method: "POST", url: "" });
    assert.equal(headers["webhook-signature"]!.split(" ").length, 2);
    const onlyNew = standardScheme.create([secretInput(newSecretValue)]);
    assert.deepEqual(onlyNew.verify(received(headers, "{}"), { now: 1000, toleranceSeconds: 300 }), { valid: true });
    const rotatedList = `v1,${Buffer.alloc(32).toString("base64")} v2,xyz ${headers["webhook-signature"]!.split(" ")[1]}`;
    assert.deepEqual(onlyNew.verify(received({ ...headers, "webhook-signature": rotatedList }, "{}"), { now: 1000, toleranceSeconds: 300 }), { valid: true });
  });

  it("is verified by the official standardwebhooks library, and verifies its signatures", () => {
    const secret = newSecret();
    const body = Buffer.from('{"event_type":"call.started","text":"héllo ☎"}');
    const now = Math.floor(Date.now() / 1000);
    const ours = standardScheme.create([secretInput(secret)]).sign({ id: "evt_abc", timestamp: now, body, method: "POST", url: "" });
    assert.doesNotThrow(() => new Webhook(secret).verify(body, ours));

    const theirs = new Webhook(secret).sign("evt_xyz", new Date(now * 1000), body);
    const headers = { "webhook-id": "evt_xyz", "webhook-timestamp": String(now), "webhook-signature": theirs };
    assert.deepEqual(standardScheme.create([secretInput(secret)]).verify(received(headers, body), { now, toleranceSeconds: 300 }), { valid: true });
  });

  it("rejects secrets that are not whsec_ base64, without quoting them", () => {
    for (const bad of ["hunter2-plain-password", "whsec_", "whsec_not*base64!", "sk_live_abcdefgh"]) {
      assert.throws(
        () => parseStandardSecret({ value: bad, source: "(VWH_SECRET)" }),
        (error: Error) => error.message === "secret (VWH_SECRET) is not a Standard Webhooks secret: expected whsec_ followed by base64",
      );
    }
    assert.equal(parseStandardSecret(secretInput(vector.secret)).length, 24);
  });

  it("hashes the body bytes exactly as given", () => {
    const key = parseStandardSecret(secretInput(vector.secret));
    assert.notEqual(standardSignature(key, "a", 1, Buffer.from("{}")), standardSignature(key, "a", 1, Buffer.from("{} ")));
  });
});

describe("resolveSecrets", () => {
  it("prefers --secret (repeatable) and otherwise splits VWH_SECRET on whitespace", () => {
    assert.deepEqual(resolveSecrets(["a", "b"], { VWH_SECRET: "c" }).map((s) => s.value), ["a", "b"]);
    assert.deepEqual(resolveSecrets(undefined, { VWH_SECRET: " c  d " }), [
      { value: "c", source: "#1 (VWH_SECRET)" },
      { value: "d", source: "#2 (VWH_SECRET)" },
    ]);
    assert.deepEqual(resolveSecrets([], {}), []);
  });
});
