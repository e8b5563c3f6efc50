/** Every signature scheme: the SPEC §3 vectors, the providers' own libraries both ways, and properties. */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as retell from "retell-sdk";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { TelnyxWebhook } from "telnyx/lib/webhooks";
import twilio from "twilio";
import { getScheme, resolveSecrets, schemeNames } from "../../src/signing/index.js";
import { defaultHmacSettings } from "../../src/signing/hmac.js";
import { parseStandardSecret } from "../../src/signing/standard.js";
import { rawPublicKeyBase64, parseTelnyxPrivateKey } from "../../src/signing/telnyx.js";
import type { ReceivedRequest, SchemeSettings, SignableRequest } from "../../src/signing/types.js";
import { newSecret } from "../helpers.js";

const asSecret = (value: string) => ({ value, source: "(test)" });
const signSettings: SchemeSettings = { purpose: "sign", hmac: defaultHmacSettings };
const verifySettings: SchemeSettings = { purpose: "verify", hmac: defaultHmacSettings };
const url = "https://agent.example.com/webhooks/voice";

function signer(scheme: string, secrets: string[], settings: SchemeSettings = signSettings) {
  return getScheme(scheme).create(secrets.map(asSecret), settings);
}

function toSign(body: string | Buffer, overrides: Partial<SignableRequest> = {}): SignableRequest {
  return { id: "evt_1", timestamp: Math.floor(Date.now() / 1000), body: Buffer.from(body), method: "POST", url, contentType: "application/json", ...overrides };
}

function received(headers: Record<string, string>, body: string | Buffer, requestUrl = url): ReceivedRequest {
  return { headers, body: Buffer.from(body), method: "POST", url: requestUrl };
}

describe("standard (Standard Webhooks v1)", () => {
  const vector = {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };
  const headers = { "webhook-id": vector.id, "webhook-timestamp": String(vector.timestamp), "webhook-signature": vector.signature };
  const at = { now: vector.timestamp, toleranceSeconds: 300 };

  it("matches the SPEC §3 test vector", () => {
    const signed = signer("standard", [vector.secret]).sign(toSign(vector.body, { id: vector.id, timestamp: vector.timestamp }));
    assert.deepEqual(signed.headers, headers);
    assert.equal(signed.url, url);
  });

  it("names each failure precisely", () => {
    const verify = (h: Record<string, string>, body = vector.body, options = at) => signer("standard", [vector.secret]).verify(received(h, body), options);
    assert.deepEqual(verify(headers), { valid: true });
    assert.deepEqual(verify(headers, '{"test": 2432232315}'), { valid: false, reason: "no matching signature" });
    assert.deepEqual(verify(headers, vector.body, { now: vector.timestamp + 412, toleranceSeconds: 300 }), {
      valid: false,
      reason: "timestamp too old (412 s > 300 s tolerance)",
    });
    assert.deepEqual(verify(headers, vector.body, { now: vector.timestamp - 301, toleranceSeconds: 300 }), {
      valid: false,
      reason: "timestamp too far in the future (301 s > 300 s tolerance)",
    });
    const { "webhook-id": _id, ...withoutId } = headers;
    assert.deepEqual(verify(withoutId), { valid: false, reason: "missing header webhook-id" });
    assert.deepEqual(verify({ ...headers, "webhook-signature": "v2,abc" }), { valid: false, reason: "no v1 signature (only unknown versions)" });
    assert.deepEqual(verify({ ...headers, "webhook-signature": "garbage" }), { valid: false, reason: "malformed webhook-signature (expected v1,<base64>)" });
    assert.deepEqual(verify({ ...headers, "webhook-timestamp": "soon" }), { valid: false, reason: "invalid webhook-timestamp (expected unix seconds)" });
  });

  it("signs with every secret for rotation, and accepts the valid signature anywhere in the list", () => {
    const [oldSecret, currentSecret] = [newSecret(), newSecret()];
    const signed = signer("standard", [oldSecret, currentSecret]).sign(toSign("{}", { timestamp: 1000 }));
    const parts = signed.headers["webhook-signature"]!.split(" ");
    assert.equal(parts.length, 2);
    const verifier = signer("standard", [currentSecret], verifySettings);
    assert.deepEqual(verifier.verify(received(signed.headers, "{}"), { now: 1000, toleranceSeconds: 300 }), { valid: true });
    const rotated = { ...signed.headers, "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")} v2,xyz ${parts[1]}` };
    assert.deepEqual(verifier.verify(received(rotated, "{}"), { now: 1000, toleranceSeconds: 300 }), { valid: true });
  });

  it("agrees with the official standardwebhooks library both ways", () => {
    const secret = newSecret();
    const body = Buffer.from('{"event_type":"call.started","text":"héllo ☎"}');
    const now = Math.floor(Date.now() / 1000);
    const ours = signer("standard", [secret]).sign(toSign(body, { id: "evt_abc", timestamp: now }));
    assert.doesNotThrow(() => new Webhook(secret).verify(body, ours.headers));
    const theirs = new Webhook(secret).sign("evt_xyz", new Date(now * 1000), body);
    const headers = { "webhook-id": "evt_xyz", "webhook-timestamp": String(now), "webhook-signature": theirs };
    assert.deepEqual(signer("standard", [secret], verifySettings).verify(received(headers, body), { now, toleranceSeconds: 300 }), { valid: true });
  });

  it("rejects secrets that are not whsec_ base64, without quoting them", () => {
    for (const bad of ["hunter2-plain-password", "whsec_", "whsec_not*base64!", "sk_live_abcdefgh"]) {
      assert.throws(() => parseStandardSecret({ value: bad, source: "(VWH_SECRET)" }), {
        message: "secret (VWH_SECRET) is not a Standard Webhooks secret: expected whsec_ followed by base64",
      });
    }
  });
});

describe("stripe", () => {
  it("agrees with the official stripe library both ways", () => {
    const secret = "whsec_test_secret_for_vwh";
    const body = '{"event_type":"call.started","event_id":"evt_1"}';
    const now = Math.floor(Date.now() / 1000);
    const ours = signer("stripe", [secret]).sign(toSign(body, { timestamp: now }));
    assert.match(ours.headers["stripe-signature"]!, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.doesNotThrow(() => Stripe.webhooks.constructEvent(body, ours.headers["stripe-signature"]!, secret, 300));
    const theirs = Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: now });
    assert.deepEqual(signer("stripe", [secret], verifySettings).verify(received({ "stripe-signature": theirs }, body), { now, toleranceSeconds: 300 }), {
      valid: true,
    });
  });

  it("explains stale, unknown-version and malformed headers", () => {
    const stripe = signer("stripe", ["whsec_x"]);
    const signed = stripe.sign(toSign("{}", { timestamp: 1000 }));
    const verify = (value: string, now = 1000) => stripe.verify(received({ "stripe-signature": value }, "{}"), { now, toleranceSeconds: 300 });
    assert.deepEqual(verify(signed.headers["stripe-signature"]!, 1400), { valid: false, reason: "timestamp too old (400 s > 300 s tolerance)" });
    assert.deepEqual(verify(signed.headers["stripe-signature"]!.replace("v1=", "v0=")), { valid: false, reason: "no v1 signature (only unknown versions)" });
    assert.deepEqual(verify("v1=abcd"), { valid: false, reason: "malformed stripe-signature (expected t=<unix>,v1=<hex>)" });
  });
});

describe("twilio", () => {
  const token = "12345";
  const vectorUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const params = { CallSid: "CA1234567890ABCDE", Caller: "+12349013030", Digits: "1234", From: "+12349013030", To: "+18005551212" };
  const form = new URLSearchParams(params).toString();

  it("matches the SPEC §3 vector and the official twilio library (form bodies)", () => {
    const signed = signer("twilio", [token]).sign(toSign(form, { url: vectorUrl, contentType: "application/x-www-form-urlencoded" }));
    assert.equal(signed.headers["x-twilio-signature"], "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    assert.equal(twilio.validateRequest(token, signed.headers["x-twilio-signature"]!, vectorUrl, params), true);
    const theirs = twilio.getExpectedTwilioSignature(token, vectorUrl, params);
    assert.deepEqual(
      signer("twilio", [token], verifySettings).verify(received({ "x-twilio-signature": theirs }, form, vectorUrl), { now: 0, toleranceSeconds: 300 }),
      { valid: true },
    );
  });

  it("signs JSON bodies with bodySHA256 in the URL, as twilio's validateRequestWithBody expects", () => {
    const body = '{"event_type":"call.started"}';
    const signed = signer("twilio", [token]).sign(toSign(body, { url: "https://example.com/hook" }));
    assert.equal(signed.url, `https://example.com/hook?bodySHA256=${createHash("sha256").update(body).digest("hex")}`);
    assert.equal(twilio.validateRequestWithBody(token, signed.headers["x-twilio-signature"]!, signed.url, body), true);
    const verifier = signer("twilio", [token], verifySettings);
    assert.deepEqual(verifier.verify(received(signed.headers, body, signed.url), { now: 0, toleranceSeconds: 300 }), { valid: true });
    assert.deepEqual(verifier.verify(received(signed.headers, body.replace("started", "startex"), signed.url), { now: 0, toleranceSeconds: 300 }), {
      valid: false,
      reason: "body does not match the URL's bodySHA256",
    });
  });

  it("re-signs a recorded JSON request's URL with the new body's bodySHA256 only (the old hash is dropped, other parameters kept)", () => {
    const body = '{"event_type":"call.ended"}';
    const hash = createHash("sha256").update(body).digest("hex");
    const signed = signer("twilio", [token]).sign(toSign(body, { url: `https://example.com/hook?a=1&bodySHA256=${"0".repeat(64)}&b=2` }));
    assert.equal(signed.url, `https://example.com/hook?a=1&b=2&bodySHA256=${hash}`);
    assert.equal(twilio.validateRequestWithBody(token, signed.headers["x-twilio-signature"]!, signed.url, body), true);
  });

  it("accepts the URL with or without the port, as Twilio may sign either", () => {
    const signed = signer("twilio", [token]).sign(toSign(form, { url: "https://example.com/hook", contentType: "application/x-www-form-urlencoded" }));
    const verifier = signer("twilio", [token], verifySettings);
    assert.deepEqual(verifier.verify(received(signed.headers, form, "https://example.com:443/hook"), { now: 0, toleranceSeconds: 300 }), { valid: true });
  });
});

describe("telnyx", () => {
  it("signs with a private key so that the official telnyx library verifies with the public key", async () => {
    const privateKey = getScheme("telnyx").randomSecret();
    const publicKey = rawPublicKeyBase64(parseTelnyxPrivateKey(asSecret(privateKey)));
    const body = '{"data":{"event_type":"call.initiated"}}';
    const signed = signer("telnyx", [privateKey]).sign(toSign(body));
    await assert.doesNotReject(new TelnyxWebhook(publicKey).verify(body, signed.headers));
    const verifier = signer("telnyx", [publicKey], verifySettings);
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(verifier.verify(received(signed.headers, body), { now, toleranceSeconds: 300 }), { valid: true });
    assert.deepEqual(verifier.verify(received(signed.headers, `${body} `), { now, toleranceSeconds: 300 }), { valid: false, reason: "no matching signature" });
    assert.deepEqual(verifier.verify(received({ ...signed.headers, "telnyx-signature-ed25519": "abc" }, body), { now, toleranceSeconds: 300 }), {
      valid: false,
      reason: "malformed telnyx-signature-ed25519 (expected a base64 Ed25519 signature)",
    });
  });

  it("rejects keys that are not Ed25519, naming only the source", () => {
    assert.throws(() => signer("telnyx", ["not a key"]), { message: "secret (test) is not an Ed25519 private key: expected base64 of 32 bytes, or PEM" });
    assert.throws(() => signer("telnyx", ["c2hvcnQ="], verifySettings), {
      message: "secret (test) is not an Ed25519 public key: expected base64 of 32 bytes, or PEM",
    });
  });
});

describe("retell", () => {
  it("agrees with the official retell-sdk both ways", async () => {
    const apiKey = "key_test_0123456789abcdef";
    const body = '{"event":"call_started","call":{"call_id":"abc"}}';
    const ours = signer("retell", [apiKey]).sign(toSign(body));
    assert.match(ours.headers["x-retell-signature"]!, /^v=\d+,d=[0-9a-f]{64}$/);
    assert.equal(await retell.verify(body, apiKey, ours.headers["x-retell-signature"]!), true);
    const theirs = await retell.sign(body, apiKey);
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(signer("retell", [apiKey], verifySettings).verify(received({ "x-retell-signature": theirs }, body), { now, toleranceSeconds: 300 }), {
      valid: true,
    });
  });
});

describe("hmac (generic)", () => {
  it("produces GitHub-style signatures when configured so", () => {
    const settings: SchemeSettings = {
      purpose: "sign",
      hmac: { ...defaultHmacSettings, header: "x-hub-signature-256", template: "{body}", prefix: "sha256=" },
    };
    const body = '{"zen":"Keep it logically awesome."}';
    const signed = signer("hmac", ["It's a Secret to Everybody"], settings).sign(toSign(body));
    assert.deepEqual(signed.headers, { "x-hub-signature-256": `sha256=${createHmac("sha256", "It's a Secret to Everybody").update(body).digest("hex")}` });
  });

  it("signs METHOD+URL+body for FreJun-style templates, and checks the timestamp when the template has one", () => {
    const settings: SchemeSettings = {
      purpose: "sign",
      hmac: { ...defaultHmacSettings, template: "{method}{url}{body}", encoding: "base64", algorithm: "sha512" },
    };
    const signed = signer("hmac", ["s3cret"], settings).sign(toSign("{}"));
    assert.equal(signed.headers["x-signature"], createHmac("sha512", "s3cret").update(`POST${url}{}`).digest("base64"));
    assert.equal(signed.headers["x-timestamp"], undefined);
    const timestamped = signer("hmac", ["s3cret"]);
    const stale = timestamped.sign(toSign("{}", { timestamp: 1000 }));
    assert.deepEqual(timestamped.verify(received(stale.headers, "{}"), { now: 2000, toleranceSeconds: 300 }), {
      valid: false,
      reason: "timestamp too old (1000 s > 300 s tolerance)",
    });
    assert.deepEqual(timestamped.verify(received({ ...stale.headers, "x-signature": "zz" }, "{}"), { now: 1000, toleranceSeconds: 300 }), {
      valid: false,
      reason: "malformed x-signature (expected <hex>)",
    });
  });
});

describe("properties (fast-check)", () => {
  const secretFor: Record<string, fc.Arbitrary<string>> = {
    standard: fc.uint8Array({ minLength: 16, maxLength: 64 }).map((bytes) => `whsec_${Buffer.from(bytes).toString("base64")}`),
    stripe: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    hmac: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    twilio: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    retell: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    telnyx: fc.constant(null).map(() => getScheme("telnyx").randomSecret()),
    vonage: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    plivo: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    // Shared secrets travel in a header, which HTTP trims: no surrounding whitespace.
    vapi: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && s !== ""),
    bearer: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && s !== ""),
  };
  /** Schemes that send the secret itself: nothing binds the body, so a changed body still passes. */
  const bodyUnsigned = new Set(["vapi", "bearer"]);
  const timestamped = new Set(["standard", "stripe", "hmac", "telnyx", "retell"]);
  // Plivo signs the URL and the decoded form parameters, not the bytes ("a+b" and "a b" are one form):
  // its one change is an added parameter.
  const formSigned = new Set(["plivo"]);
  const signsId = new Set(["standard"]);

  for (const name of schemeNames) {
    it(`${name}: sign → verify holds; ${bodyUnsigned.has(name) ? "the body is not signed" : "any one-byte change to body, id or timestamp fails"}`, () => {
      fc.assert(
        fc.property(
          secretFor[name]!,
          fc.uint8Array({ minLength: 1, maxLength: 300 }),
          fc.string({ minLength: 1, maxLength: 30 }).filter((id) => !/[\s,]/.test(id)),
          fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (secret, bytes, id, timestamp, position, flip) => {
            const body = Buffer.from(bytes);
            const scheme = getScheme(name);
            const signing = scheme.create([asSecret(secret)], signSettings);
            // Telnyx verifies with the public half of the signing key; the others share one secret.
            const verifyingSecret = name === "telnyx" ? rawPublicKeyBase64(parseTelnyxPrivateKey(asSecret(secret))) : secret;
            const verifying = scheme.create([asSecret(verifyingSecret)], verifySettings);
            const form = formSigned.has(name);
            const signed = signing.sign({
              id,
              timestamp,
              body,
              method: "POST",
              url,
              contentType: form ? "application/x-www-form-urlencoded" : "application/octet-stream",
            });
            const headers = form ? { ...signed.headers, "content-type": "application/x-www-form-urlencoded" } : signed.headers;
            const at = { now: timestamp, toleranceSeconds: 300 };
            assert.deepEqual(verifying.verify(received(headers, body, signed.url), at), { valid: true });

            const tampered = form ? Buffer.concat([body, Buffer.from("&vwh=1")]) : Buffer.from(body);
            const at0 = position % body.length;
            if (!form) tampered[at0] = tampered[at0]! ^ flip;
            assert.equal(verifying.verify(received(headers, tampered, signed.url), at).valid, bodyUnsigned.has(name));

            if (timestamped.has(name)) {
              const header = Object.keys(signed.headers).find((key) => signed.headers[key] === String(timestamp));
              if (header) {
                const shifted = { ...signed.headers, [header]: String(timestamp + 1) };
                assert.equal(verifying.verify(received(shifted, body, signed.url), { now: timestamp + 1, toleranceSeconds: 300 }).valid, false);
              }
            }
            if (signsId.has(name)) {
              const otherId = `${id.slice(0, -1)}${id.endsWith("x") ? "y" : "x"}`;
              assert.equal(verifying.verify(received({ ...signed.headers, "webhook-id": otherId }, body, signed.url), at).valid, false);
            }
          },
        ),
        { numRuns: name === "telnyx" ? 40 : 100 },
      );
    });
  }
});

describe("resolveSecrets", () => {
  it("prefers --secret (repeatable) and otherwise splits VWH_SECRET on whitespace", () => {
    assert.deepEqual(
      resolveSecrets(["a", "b"], { VWH_SECRET: "c" }).map((s) => s.value),
      ["a", "b"],
    );
    assert.deepEqual(resolveSecrets(undefined, { VWH_SECRET: " c  d " }), [
      { value: "c", source: "#1 (VWH_SECRET)" },
      { value: "d", source: "#2 (VWH_SECRET)" },
    ]);
    assert.deepEqual(resolveSecrets([], {}), []);
  });
});
