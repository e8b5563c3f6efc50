/**
 * Every signature scheme, exactly as strict as it should be (issue 30): a signature off by one byte, a
 * timestamp one second outside the tolerance, each malformed header named, key rotation both ways, and the
 * verdict the official SDK gives on the same request where one exists (twilio, stripe, standardwebhooks,
 * plivo, @vonage/jwt, telnyx, retell-sdk). Comparisons stay constant-time: timingSafeEqual is watched (the
 * real one, counted) while each scheme checks a wrong signature.
 */
import assert from "node:assert/strict";
import { createHash, createHmac, generateKeyPairSync, sign as edSign } from "node:crypto";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { before, describe, it, mock } from "node:test";
import { UsageError } from "../../src/core/errors.js";
import { anyMatches, checkTimestamp, constantTimeEqual, requireHeader, requireNonEmpty } from "../../src/signing/common.js";
import { defaultHmacSettings, hmacScheme, renderTemplate } from "../../src/signing/hmac.js";
import { getScheme, requireSecrets, resolveSecrets, schemeNames } from "../../src/signing/index.js";
import { pickSigningOptions, resolveSigning, schemeSettings, secretFlagWarning, secretSource, type SigningOptions } from "../../src/signing/options.js";
import { plivoSignedBase } from "../../src/signing/plivo.js";
import { parseStandardSecret } from "../../src/signing/standard.js";
import { parseTelnyxPrivateKey, parseTelnyxPublicKey, rawPublicKeyBase64 } from "../../src/signing/telnyx.js";
import { twilioSignedData } from "../../src/signing/twilio.js";
import type { HmacSettings, ReceivedRequest, SchemeSettings, SignableRequest, Verdict } from "../../src/signing/types.js";
import { signVonageJwt, vonagePayloadHash } from "../../src/signing/vonage.js";

// Each SDK loads in a `before` of the scheme's describe: a run that fails earlier (a mutant killed by the
// common cases) never pays for loading them all.
let Stripe: typeof import("stripe").default;
let Webhook: typeof import("standardwebhooks").Webhook;
let retell: typeof import("retell-sdk");
const loadTwilio = async () => (await import("twilio")).default;
const loadPlivo = async () => (await import("plivo")).default;
let twilio: Awaited<ReturnType<typeof loadTwilio>>;
let plivo: Awaited<ReturnType<typeof loadPlivo>>;
let TelnyxWebhook: typeof import("telnyx/lib/webhooks").TelnyxWebhook;
let vonageVerify: typeof import("@vonage/jwt").verifySignature;
let jwt: { sign(payload: object, secret: string, options: object): string };
const asSecret = (value: string) => ({ value, source: "(test)" });
const url = "https://agent.example.com/webhooks/voice";
const T = 1_700_000_000;
const ok: Verdict = { valid: true };
const bad = (reason: string): Verdict => ({ valid: false, reason });

function signerOf(scheme: string, secrets: string[], purpose: SchemeSettings["purpose"] = "sign", hmac: HmacSettings = defaultHmacSettings) {
  return getScheme(scheme).create(secrets.map(asSecret), { purpose, hmac });
}
function toSign(body: string | Buffer, overrides: Partial<SignableRequest> = {}): SignableRequest {
  return { id: "evt_1", timestamp: T, body: Buffer.from(body), method: "POST", url, contentType: "application/json", ...overrides };
}
function received(headers: Record<string, string>, body: string | Buffer = "{}", overrides: Partial<ReceivedRequest> = {}): ReceivedRequest {
  return { headers, body: Buffer.from(body), method: "POST", url, ...overrides };
}
const at = (now: number, toleranceSeconds = 300) => ({ now, toleranceSeconds });
/** The same text with its last character changed (a signature off by one character). */
const offByOne = (text: string, alphabet = "0123456789abcdef") => text.slice(0, -1) + (text.endsWith(alphabet[0]!) ? alphabet[1] : alphabet[0]);

/** How many times the real timingSafeEqual runs during `run` (node:crypto's ESM binding is synced to the spy). */
function timingSafeCalls(run: () => void): number {
  const crypto = createRequire(import.meta.url)("node:crypto") as { timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => boolean };
  const spy = mock.method(crypto, "timingSafeEqual");
  syncBuiltinESMExports();
  try {
    run();
    return spy.mock.callCount();
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
}

describe("common pieces", () => {
  it("the timestamp window: exactly the tolerance passes, one second more fails, in the past and in the future", () => {
    assert.equal(checkTimestamp(T, T + 300, 300), undefined);
    assert.equal(checkTimestamp(T, T + 301, 300), "timestamp too old (301 s > 300 s tolerance)");
    assert.equal(checkTimestamp(T + 300, T, 300), undefined);
    assert.equal(checkTimestamp(T + 301, T, 300), "timestamp too far in the future (301 s > 300 s tolerance)");
    assert.equal(checkTimestamp(T, T, 0), undefined);
    assert.equal(checkTimestamp(T, T + 1, 0), "timestamp too old (1 s > 0 s tolerance)");
    // Ages are whole seconds (Retell's milliseconds round): 300.4 s is 300 s, 300.5 s is 301 s.
    assert.equal(checkTimestamp(T, T + 300.4, 300), undefined);
    assert.equal(checkTimestamp(T, T + 300.5, 300), "timestamp too old (301 s > 300 s tolerance)");
  });

  it("a header that is absent or empty is missing", () => {
    assert.deepEqual(requireHeader(received({}), "x-a"), bad("missing header x-a"));
    assert.deepEqual(requireHeader(received({ "x-a": "" }), "x-a"), bad("missing header x-a"));
    assert.equal(requireHeader(received({ "x-a": " " }), "x-a"), " ");
  });

  it("a blank secret is a usage error naming its source, never its value", () => {
    assert.throws(() => requireNonEmpty({ value: " \t", source: "#2 (--secret)" }, "a shared secret"), {
      name: "UsageError",
      message: "secret #2 (--secret) is empty: expected a shared secret",
    });
    assert.equal(requireNonEmpty({ value: " x ", source: "(test)" }, "a shared secret"), " x ");
    for (const name of ["stripe", "hmac", "twilio", "retell", "vonage", "plivo", "vapi", "bearer"]) {
      assert.throws(() => signerOf(name, ["  "]), UsageError, name);
    }
  });

  it("comparison: unequal lengths are unequal without throwing; every pair is compared, whichever matches", () => {
    assert.equal(constantTimeEqual(Buffer.from("ab"), Buffer.from("abc")), false);
    assert.equal(constantTimeEqual(Buffer.from("abc"), Buffer.from("abc")), true);
    assert.equal(constantTimeEqual(Buffer.from("abc"), Buffer.from("abd")), false);
    const [a, b, c] = [Buffer.from("aa"), Buffer.from("bb"), Buffer.from("cc")];
    assert.equal(anyMatches([a, b], [c, b]), true);
    assert.equal(anyMatches([a, b], [b, c]), true);
    assert.equal(anyMatches([a], [c, Buffer.from("a")]), false);
    assert.equal(anyMatches([], [a]), false);
    assert.equal(
      timingSafeCalls(() => anyMatches([a, b], [a, c, b])),
      6,
    );
  });

  it("each scheme compares a wrong signature in constant time (timingSafeEqual runs)", () => {
    for (const name of schemeNames.filter((scheme) => scheme !== "telnyx")) {
      // A wrong secret of the same length: shared secrets of another length are unequal without a comparison.
      const [secret, wrong] =
        name === "standard" ? ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_d3JvbmcgZm9yIGV2ZXJ5b25lISEh"] : ["s3cret-token", "s3cret-tokem"];
      const verifier = signerOf(name, [secret], "verify");
      const signed = signerOf(name, [secret]).sign(toSign("{}"));
      assert.deepEqual(verifier.verify(received(signed.headers, "{}", { url: signed.url }), at(T)), ok, name);
      const forged = signerOf(name, [wrong]).sign(toSign("{}"));
      const calls = timingSafeCalls(() => assert.equal(verifier.verify(received(forged.headers, "{}", { url: forged.url }), at(T)).valid, false, name));
      assert.ok(calls > 0, `${name} compared without timingSafeEqual`);
    }
  });
});

describe("what each scheme tells the probes, the recorder and vwh init", () => {
  const sign: SchemeSettings = { purpose: "sign" };

  it("its signature headers, whether it signs the URL, and a summary", () => {
    const expected: Record<string, [string[], boolean]> = {
      standard: [["webhook-id", "webhook-timestamp", "webhook-signature"], false],
      stripe: [["stripe-signature"], false],
      hmac: [["x-signature", "x-timestamp", "x-webhook-id"], false],
      twilio: [["x-twilio-signature"], true],
      telnyx: [["telnyx-signature-ed25519", "telnyx-timestamp"], false],
      retell: [["x-retell-signature"], false],
      vonage: [["authorization"], false],
      plivo: [["x-plivo-signature-v3", "x-plivo-signature-v3-nonce", "x-plivo-signature-ma-v3"], true],
      vapi: [["x-vapi-secret"], false],
      bearer: [["authorization"], false],
    };
    assert.deepEqual([...schemeNames].sort(), Object.keys(expected).sort());
    for (const name of schemeNames) {
      const scheme = getScheme(name);
      assert.deepEqual([scheme.headers(sign), scheme.signsUrl?.(sign) ?? false], expected[name], name);
      assert.match(scheme.summary, /^\S.{20,}$/, name);
    }
  });

  it("a random secret of the scheme's own form, fresh each time, that signs and verifies", () => {
    const forms: Record<string, RegExp> = {
      standard: /^whsec_[A-Za-z0-9+/]{32}$/,
      stripe: /^whsec_[0-9a-f]{48}$/,
      hmac: /^[0-9a-f]{48}$/,
      twilio: /^[0-9a-f]{32}$/,
      telnyx: /^[A-Za-z0-9+/]{43}=$/,
      retell: /^key_[0-9a-f]{32}$/,
      vonage: /^[A-Za-z0-9_-]{32}$/,
      plivo: /^[A-Za-z0-9_-]{27}$/,
      vapi: /^[0-9a-f]{48}$/,
      bearer: /^[0-9a-f]{48}$/,
    };
    for (const name of schemeNames) {
      const scheme = getScheme(name);
      const secret = scheme.randomSecret();
      assert.match(secret, forms[name]!, name);
      assert.notEqual(scheme.randomSecret(), secret, name);
      const signed = signerOf(name, [secret]).sign(toSign("{}"));
      assert.deepEqual(signerOf(name, [secret]).verify(received(signed.headers, "{}", { url: signed.url }), at(T)), ok, name);
    }
  });

  it("the probes' variants: a version no verifier knows, a rotated list, a malformed header — each refused as it should be", () => {
    const probe = (name: string) => getScheme(name).probes(sign);
    assert.deepEqual(
      schemeNames.map((name) => [name, probe(name).timestamped]),
      schemeNames.map((name) => [name, ["standard", "stripe", "hmac", "telnyx", "retell", "vonage"].includes(name)]),
    );
    const standard = probe("standard");
    const h = { "webhook-id": "a", "webhook-signature": "v1,abc" };
    assert.deepEqual(standard.unknownVersion?.(h), { "webhook-id": "a", "webhook-signature": "v2,abc" });
    assert.deepEqual(standard.rotatedList?.(h, { "webhook-signature": "v1,bad" }), { "webhook-id": "a", "webhook-signature": "v1,bad v1,abc" });
    assert.deepEqual(standard.malformed(h), { "webhook-id": "a", "webhook-signature": "abc" });
    const stripe = probe("stripe");
    assert.deepEqual(stripe.unknownVersion?.({ "stripe-signature": "t=1,v1=a,v1=b" }), { "stripe-signature": "t=1,v0=a,v0=b" });
    assert.deepEqual(stripe.rotatedList?.({ "stripe-signature": "t=1,v1=good" }, { "stripe-signature": "t=2,v1=bad,v1=worse" }), {
      "stripe-signature": "t=1,v1=bad,v1=worse,v1=good",
    });
    assert.deepEqual(stripe.malformed({ "stripe-signature": "t=12,v1=a" }), { "stripe-signature": "v1=a" });
    assert.deepEqual(probe("twilio").malformed({ x: "1" }), { "x-twilio-signature": "sha1=not-base64" });
    assert.deepEqual(probe("retell").malformed({ x: "1" }), { "x-retell-signature": "d=not-hex" });
    assert.deepEqual(probe("vonage").malformed({ x: "1" }), { authorization: "Bearer not-a-jwt" });
    assert.deepEqual(probe("telnyx").malformed({ "telnyx-timestamp": "1" }), { "telnyx-timestamp": "1", "telnyx-signature-ed25519": "not-a-signature" });
    // Every scheme refuses its own malformed variant of a valid request.
    for (const name of schemeNames) {
      const secret = name === "standard" ? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" : name === "telnyx" ? getScheme("telnyx").randomSecret() : "s3cret-token";
      const signed = signerOf(name, [secret]).sign(toSign("{}"));
      const verdict = signerOf(name, [secret]).verify(received(probe(name).malformed(signed.headers), "{}", { url: signed.url }), at(T));
      assert.equal(verdict.valid, false, name);
    }
  });
});

describe("stripe", () => {
  before(async () => void (Stripe = (await import("stripe")).default));
  const secret = "whsec_test_secret_for_vwh";
  const body = '{"event_type":"call.started"}';
  const sig = (t: number | string, secretValue = secret, payload = body) => createHmac("sha256", secretValue).update(`${t}.${payload}`).digest("hex");
  const verify = (value: string, now = T, payload = body) =>
    signerOf("stripe", [secret], "verify").verify(received({ "stripe-signature": value }, payload), at(now));
  const sdk = (value: string, now = T, payload = body) => {
    try {
      Stripe.webhooks.constructEvent(payload, value, secret, 300, undefined, now * 1000);
      return true;
    } catch {
      return false;
    }
  };

  it("signs t then one v1 per secret, in order", () => {
    const signed = signerOf("stripe", [secret, "whsec_second"]).sign(toSign(body));
    assert.deepEqual(signed, { url, headers: { "stripe-signature": `t=${T},v1=${sig(T)},v1=${sig(T, "whsec_second")}` } });
  });

  it("agrees with the stripe library on valid, tampered, off-by-one, stale and rotated headers", () => {
    const cases: [string, number, string, Verdict][] = [
      [`t=${T},v1=${sig(T)}`, T, body, ok],
      [`t=${T},v1=${sig(T)}`, T + 300, body, ok],
      [`t=${T},v1=${sig(T)}`, T + 301, body, bad("timestamp too old (301 s > 300 s tolerance)")],
      [`t=${T},v1=${sig(T)}`, T, `${body} `, bad("no matching signature")],
      [`t=${T},v1=${offByOne(sig(T))}`, T, body, bad("no matching signature")],
      [`t=${T},v1=${sig(T).toUpperCase()}`, T, body, bad("no matching signature")],
      [`t=${T},v1=${"0".repeat(64)},v1=${sig(T)}`, T, body, ok],
      [`t=${T},v1=${sig(T)},v1=${"0".repeat(64)}`, T, body, ok],
      [`t=${T + 1},t=${T},v1=${sig(T)}`, T, body, ok],
      [`t=${T},t=${T + 1},v1=${sig(T)}`, T, body, bad("no matching signature")],
      [`t=${T}, v1=${sig(T)}`, T, body, bad("malformed stripe-signature (expected t=<unix>,v1=<hex>)")],
      [`t=${T},v1`, T, body, bad("no matching signature")],
      [`t=${T},v1=${sig(T)}x`, T, body, bad("no matching signature")],
    ];
    for (const [value, now, payload, verdict] of cases) {
      assert.deepEqual(verify(value, now, payload), verdict, value);
      assert.equal(sdk(value, now, payload), verdict.valid, `stripe: ${value}`);
    }
  });

  it("names what is malformed, unknown or in the future", () => {
    const malformed = bad("malformed stripe-signature (expected t=<unix>,v1=<hex>)");
    assert.deepEqual(verify(`v1=${sig(T)}`), malformed);
    assert.deepEqual(verify(`t=12a,v1=${sig(T)}`), malformed);
    assert.deepEqual(verify(`t=,v1=${sig(T)}`), malformed);
    assert.deepEqual(verify(`t=${T},x=1`), malformed);
    assert.deepEqual(verify(`t=${T},xv0=1`), malformed);
    assert.deepEqual(verify(`t=${T},v0x=1`), malformed);
    assert.deepEqual(verify(`t=${T},v0=${sig(T)}`), bad("no v1 signature (only unknown versions)"));
    assert.deepEqual(verify(`t=${T},v1=${sig(T)}`, T - 301), bad("timestamp too far in the future (301 s > 300 s tolerance)"));
    assert.deepEqual(verify(`t=${T},v1=${sig(T)}`, T - 300), ok);
    assert.deepEqual(signerOf("stripe", [secret], "verify").verify(received({}), at(T)), bad("missing header stripe-signature"));
  });
});

describe("standard (Standard Webhooks v1)", () => {
  before(async () => void ({ Webhook } = await import("standardwebhooks")));
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const body = '{"test": 2432232314}';
  const valid = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  const headers = { "webhook-id": id, "webhook-timestamp": "1614265330", "webhook-signature": `v1,${valid}` };
  const now = 1614265330;
  const verify = (h: Record<string, string>, when = now) => signerOf("standard", [secret], "verify").verify(received(h, body), at(when));
  const library = (h: Record<string, string>) => {
    // standardwebhooks reads Date.now(): the vector's time, on node:test's fake clock.
    mock.timers.enable({ apis: ["Date"], now: now * 1000 });
    try {
      new Webhook(secret).verify(body, h);
      return true;
    } catch {
      return false;
    } finally {
      mock.timers.reset();
    }
  };

  it("a secret is whsec_ and canonical base64", () => {
    for (const good of ["whsec_YWJj", "whsec_YWI=", "whsec_YQ==", "whsec_YWJjZA=="]) assert.ok(parseStandardSecret(asSecret(good)).length > 0, good);
    assert.deepEqual(parseStandardSecret(asSecret("whsec_YWJj")), Buffer.from("abc"));
    for (const wrong of ["whsec_YWJ", "whsec_YQ=", "whsec_Y===", "xwhsec_YWJj", "WHSEC_YWJj", "whsec_YW Jj", "YWJj", "whsec_YWJj\n"]) {
      assert.throws(() => parseStandardSecret(asSecret(wrong)), UsageError, wrong);
    }
  });

  it("signs one v1 per key, separated by one space", () => {
    const second = "whsec_c2Vjb25kIGtleQ==";
    const signed = signerOf("standard", [secret, second]).sign(toSign(body, { id, timestamp: now }));
    const other = createHmac("sha256", Buffer.from("second key")).update(`${id}.${now}.${body}`).digest("base64");
    assert.deepEqual(signed, { url, headers: { "webhook-id": id, "webhook-timestamp": String(now), "webhook-signature": `v1,${valid} v1,${other}` } });
  });

  it("agrees with standardwebhooks on signature lists and non-canonical spellings", () => {
    const cases: [string, Verdict][] = [
      [`v1,${valid}`, ok],
      [`v1,${"A".repeat(43)}= v1,${valid}`, ok],
      [`v1,${valid}  v2,abc`, ok],
      [`v1,${valid.replace("1OE=", "1OF=")}`, bad("no matching signature")],
      [`v1,${valid.slice(0, -1)}`, bad("no matching signature")],
      [`v1,${valid},x`, ok],
      ["v1", bad("no matching signature")],
      [`v1a,${valid}`, bad("no v1 signature (only unknown versions)")],
    ];
    for (const [signature, verdict] of cases) {
      assert.deepEqual(verify({ ...headers, "webhook-signature": signature }), verdict, signature);
      assert.equal(library({ ...headers, "webhook-signature": signature }), verdict.valid, `standardwebhooks: ${signature}`);
    }
  });

  it("names each missing or malformed header, checked in order", () => {
    const { "webhook-timestamp": _t, ...noTimestamp } = headers;
    const { "webhook-signature": _s, ...noSignature } = headers;
    assert.deepEqual(verify(noTimestamp), bad("missing header webhook-timestamp"));
    assert.deepEqual(verify(noSignature), bad("missing header webhook-signature"));
    assert.deepEqual(verify({ ...headers, "webhook-timestamp": "-1" }), bad("invalid webhook-timestamp (expected unix seconds)"));
    assert.deepEqual(verify({ ...headers, "webhook-timestamp": "1614265330 " }), bad("invalid webhook-timestamp (expected unix seconds)"));
    assert.deepEqual(verify({ ...headers, "webhook-signature": "xv2,abc" }), bad("malformed webhook-signature (expected v1,<base64>)"));
    assert.deepEqual(verify({ ...headers, "webhook-signature": "v2abc" }), bad("malformed webhook-signature (expected v1,<base64>)"));
    assert.deepEqual(verify(headers, now + 300), ok);
    assert.deepEqual(verify(headers, now + 301), bad("timestamp too old (301 s > 300 s tolerance)"));
    assert.deepEqual(verify(headers, now - 301), bad("timestamp too far in the future (301 s > 300 s tolerance)"));
    assert.deepEqual(verify({ ...headers, "webhook-id": `${id}x` }), bad("no matching signature"));
  });
});

describe("hmac (generic)", () => {
  const settings = (overrides: Partial<HmacSettings>): HmacSettings => ({ ...defaultHmacSettings, ...overrides });
  const mac = (content: string | Buffer, key = "k3y", algorithm = "sha256") => createHmac(algorithm, key).update(content);

  it("renders every placeholder, the method upper-cased and the body byte for byte", () => {
    const body = Buffer.from([0xff, 0x00, 0x7b]);
    const rendered = renderTemplate("{method} {url}|{id}|{timestamp}|{body}|{other}", { timestamp: "12", body, method: "post", url, id: "evt" });
    assert.deepEqual(rendered, Buffer.concat([Buffer.from(`POST ${url}|evt|12|`), body, Buffer.from("|{other}")]));
    assert.deepEqual(renderTemplate("{body}{body}", { timestamp: "", body: Buffer.from("ab"), method: "", url: "", id: "" }), Buffer.from("abab"));
  });

  it("signs with the settings: header, algorithm, encoding, prefix, and the timestamp and id headers only when the template uses them", () => {
    const all = signerOf("hmac", ["k3y"], "sign", settings({ template: "{id}.{timestamp}.{body}", prefix: "v1=", encoding: "base64", algorithm: "sha512" }));
    assert.deepEqual(all.sign(toSign("{}")).headers, {
      "x-signature": `v1=${mac(`evt_1.${T}.{}`, "k3y", "sha512").digest("base64")}`,
      "x-timestamp": String(T),
      "x-webhook-id": "evt_1",
    });
    const bodyOnly = signerOf("hmac", ["k3y", "k2"], "sign", settings({ template: "{body}", header: "x-hub", algorithm: "sha1" }));
    assert.deepEqual(bodyOnly.sign(toSign("{}")), {
      url,
      headers: { "x-hub": `${mac("{}", "k3y", "sha1").digest("hex")}, ${mac("{}", "k2", "sha1").digest("hex")}` },
    });
  });

  it("verifies: the timestamp window, the id, the prefix, the encoding's shape, lists and rotation", () => {
    const s = settings({ template: "{id}:{timestamp}:{body}", prefix: "sha256=" });
    const verifier = signerOf("hmac", ["old", "k3y"], "verify", s);
    const good = `sha256=${mac(`evt_1:${T}:{}`).digest("hex")}`;
    const h = { "x-signature": good, "x-timestamp": String(T), "x-webhook-id": "evt_1" };
    const verify = (headers: Record<string, string>, now = T) => verifier.verify(received(headers), at(now));
    assert.deepEqual(verify(h), ok);
    assert.deepEqual(verify(h, T + 300), ok);
    assert.deepEqual(verify(h, T + 301), bad("timestamp too old (301 s > 300 s tolerance)"));
    assert.deepEqual(verify(h, T - 301), bad("timestamp too far in the future (301 s > 300 s tolerance)"));
    assert.deepEqual(verify({ ...h, "x-timestamp": `${T}.0` }), bad("invalid x-timestamp (expected unix seconds)"));
    assert.deepEqual(verify({ ...h, "x-timestamp": `a${T}` }), bad("invalid x-timestamp (expected unix seconds)"));
    assert.deepEqual(verify({ ...h, "x-timestamp": "" }), bad("missing header x-timestamp"));
    assert.deepEqual(verify({ ...h, "x-webhook-id": "" }), bad("missing header x-webhook-id"));
    assert.deepEqual(verify({ ...h, "x-webhook-id": "evt_2" }), bad("no matching signature"));
    assert.deepEqual(verify({ ...h, "x-signature": "" }), bad("missing header x-signature"));
    assert.deepEqual(verify({ ...h, "x-signature": offByOne(good) }), bad("no matching signature"));
    assert.deepEqual(verify({ ...h, "x-signature": good.toUpperCase().replace("SHA256=", "sha256=") }), bad("no matching signature"));
    assert.deepEqual(verify({ ...h, "x-signature": good.slice("sha256=".length) }), bad("malformed x-signature (expected sha256=<hex>)"));
    assert.deepEqual(verify({ ...h, "x-signature": `${good}z` }), bad("malformed x-signature (expected sha256=<hex>)"));
    assert.deepEqual(verify({ ...h, "x-signature": `z${good}` }), bad("malformed x-signature (expected sha256=<hex>)"));
    assert.deepEqual(verify({ ...h, "x-signature": `sha256=zz, ,${good}` }), ok);
    assert.deepEqual(verify({ ...h, "x-signature": `${good},sha256=${"0".repeat(64)}` }), ok);
    assert.deepEqual(verify({ ...h, "x-signature": ` , ` }), bad("malformed x-signature (expected sha256=<hex>)"));
  });

  it("base64 signatures: canonical text only, padding at the end", () => {
    const s = settings({ template: "{body}", encoding: "base64" });
    const verifier = signerOf("hmac", ["k3y"], "verify", s);
    const good = mac("{}").digest("base64");
    const verify = (signature: string) => verifier.verify(received({ "x-signature": signature }), at(T));
    assert.deepEqual(verify(good), ok);
    assert.deepEqual(verify(good.replace(/=$/, "")), bad("no matching signature"));
    assert.deepEqual(verify(`${good}=`), bad("no matching signature"));
    assert.deepEqual(verify(`${good}==`), bad("malformed x-signature (expected <base64>)"));
    assert.deepEqual(verify(`=${good}`), bad("malformed x-signature (expected <base64>)"));
    assert.deepEqual(verify(`${good}-`), bad("malformed x-signature (expected <base64>)"));
    // No timestamp in the template: the header is neither needed nor checked.
    assert.deepEqual(verifier.verify(received({ "x-signature": good, "x-timestamp": "garbage" }), at(0)), ok);
  });

  it("what the probes and the recorder need: the URL signed or not, the header names, rotated and malformed variants", () => {
    const withUrl: SchemeSettings = { purpose: "sign", hmac: settings({ template: "{method}{url}{body}" }) };
    assert.equal(hmacScheme.signsUrl?.(withUrl), true);
    assert.equal(hmacScheme.signsUrl?.({ purpose: "sign" }), false);
    assert.deepEqual(hmacScheme.headers({ purpose: "sign" }), ["x-signature", "x-timestamp", "x-webhook-id"]);
    assert.equal(hmacScheme.probes({ purpose: "sign" }).timestamped, true);
    assert.equal(hmacScheme.probes(withUrl).timestamped, false);
    const probes = hmacScheme.probes({ purpose: "sign", hmac: settings({ header: "x-hub" }) });
    assert.deepEqual(probes.rotatedList?.({ "x-hub": "good", "x-timestamp": "1" }, { "x-hub": "bad", "x-timestamp": "1" }), {
      "x-hub": "bad, good",
      "x-timestamp": "1",
    });
    assert.deepEqual(probes.rotatedList?.({ "x-hub": "good" }, { "x-hub": "good" }), { "x-hub": "good" });
    assert.deepEqual(probes.malformed({ "content-type": "a", "x-hub": "good" }), { "content-type": "a", "x-hub": "not a signature!" });
    assert.match(hmacScheme.randomSecret(), /^[0-9a-f]{48}$/);
  });
});

describe("retell", () => {
  before(async () => void (retell = await import("retell-sdk")));
  const apiKey = "key_test_0123456789abcdef";
  const body = '{"event":"call_started"}';
  const ms = T * 1000;
  const digest = (stamp: number | string, key = apiKey) => createHmac("sha256", key).update(`${body}${stamp}`).digest("hex");
  const verify = (value: string, now = T) => signerOf("retell", [apiKey], "verify").verify(received({ "x-retell-signature": value }, body), at(now));

  it("signs v=<ms>,d=<hex> with the first key", () => {
    assert.deepEqual(signerOf("retell", [apiKey, "key_other"]).sign(toSign(body)), { url, headers: { "x-retell-signature": `v=${ms},d=${digest(ms)}` } });
  });

  it("agrees with retell-sdk: case-insensitive header, exact digest, leading zeros in the timestamp", async () => {
    const now = Math.floor(Date.now() / 1000);
    const stamp = now * 1000;
    const cases: [string, boolean][] = [
      [`v=${stamp},d=${digest(stamp)}`, true],
      [`V=${stamp},D=${digest(stamp).toUpperCase()}`, true],
      [`v=${stamp},d=${offByOne(digest(stamp))}`, false],
      [`v=${stamp},d=${digest(stamp).slice(1)}`, false],
      [`v=${stamp},d=${digest(stamp)}0`, false],
      [`v=${stamp + 1},d=${digest(stamp)}`, false],
      [`v=0${stamp},d=${digest(stamp)}`, true],
      [`v=0${stamp},d=${digest(`0${stamp}`)}`, false],
      [`v=${stamp},d=${digest(stamp, "key_other")}`, false],
    ];
    for (const [value, expected] of cases) {
      assert.equal(await retell.verify(body, apiKey, value), expected, `retell-sdk: ${value}`);
      assert.equal(verify(value, now).valid, expected, value);
    }
  });

  it("names a malformed header and checks the window in seconds", () => {
    const malformed = bad("malformed x-retell-signature (expected v=<unix ms>,d=<hex>)");
    assert.deepEqual(verify(`d=${digest(ms)}`), malformed);
    assert.deepEqual(verify(`v=${ms},d=${digest(ms)},x`), malformed);
    assert.deepEqual(verify(` v=${ms},d=${digest(ms)}`), malformed);
    assert.deepEqual(verify(`v=${"9".repeat(17)},d=${digest(ms)}`), malformed);
    assert.deepEqual(verify(`v=${ms},d=${digest(ms)}`, T + 300), ok);
    assert.deepEqual(verify(`v=${ms},d=${digest(ms)}`, T + 301), bad("timestamp too old (301 s > 300 s tolerance)"));
    assert.deepEqual(verify(`v=${ms + 499},d=${digest(ms + 499)}`, T + 300), ok);
    assert.deepEqual(verify(`v=${ms},d=${digest(ms)}`, T - 301), bad("timestamp too far in the future (301 s > 300 s tolerance)"));
    assert.deepEqual(
      signerOf("retell", ["key_other", apiKey], "verify").verify(received({ "x-retell-signature": `v=${ms},d=${digest(ms)}` }, body), at(T)),
      ok,
    );
  });
});

describe("shared secrets (vapi, bearer)", () => {
  it("X-Vapi-Secret: the secret itself, exactly; any configured secret passes", () => {
    assert.deepEqual(signerOf("vapi", ["s3cret", "other"]).sign(toSign("{}")), { url, headers: { "x-vapi-secret": "s3cret" } });
    const verifier = signerOf("vapi", ["old", "s3cret"], "verify");
    const verify = (value: string) => verifier.verify(received({ "x-vapi-secret": value }), at(0));
    assert.deepEqual(verify("s3cret"), ok);
    assert.deepEqual(verify("old"), ok);
    assert.deepEqual(verify("s3cre"), bad("wrong x-vapi-secret"));
    assert.deepEqual(verify("s3cret "), bad("wrong x-vapi-secret"));
    assert.deepEqual(verify("S3CRET"), bad("wrong x-vapi-secret"));
    assert.deepEqual(verify(""), bad("missing header x-vapi-secret"));
  });

  it("Authorization: Bearer, the scheme word in any case, the token exact", () => {
    assert.deepEqual(signerOf("bearer", ["tok-1"]).sign(toSign("{}")), { url, headers: { authorization: "Bearer tok-1" } });
    const verifier = signerOf("bearer", ["tok-1"], "verify");
    const verify = (value: string) => verifier.verify(received({ authorization: value }), at(0));
    assert.deepEqual(verify("Bearer tok-1"), ok);
    assert.deepEqual(verify("bearer tok-1"), ok);
    assert.deepEqual(verify("BEARER tok-1"), ok);
    assert.deepEqual(verify("Bearer tok-2"), bad("wrong authorization"));
    assert.deepEqual(verify("Bearer  tok-1"), bad("wrong authorization"));
    assert.deepEqual(verify("Bearer tok-1x"), bad("wrong authorization"));
    assert.deepEqual(verify("Bearertok-1"), bad("malformed authorization (expected Bearer <token>)"));
    assert.deepEqual(verify("Basic tok-1"), bad("malformed authorization (expected Bearer <token>)"));
    assert.deepEqual(verify("tok-1"), bad("malformed authorization (expected Bearer <token>)"));
  });

  it("their probes: no body signed, no timestamp, malformed values", () => {
    for (const [name, header, malformed] of [
      ["vapi", "x-vapi-secret", ""],
      ["bearer", "authorization", "Basic dXNlcjpwYXNz"],
    ] as const) {
      const scheme = getScheme(name);
      assert.deepEqual(scheme.headers({ purpose: "sign" }), [header]);
      const probes = scheme.probes({ purpose: "sign" });
      assert.equal(probes.signsBody, false);
      assert.equal(probes.timestamped, false);
      assert.deepEqual(probes.malformed({}), { [header]: malformed });
      assert.match(scheme.randomSecret(), /^[0-9a-f]{48}$/);
    }
  });
});

describe("twilio", () => {
  before(async () => void (twilio = await loadTwilio()));
  const token = "12345";
  const formType = "application/x-www-form-urlencoded";
  const verifier = signerOf("twilio", ["secondary", token], "verify");
  const verify = (signature: string, body: string, requestUrl: string) =>
    verifier.verify(received({ "x-twilio-signature": signature }, body, { url: requestUrl }), at(0));

  it("the signed data: URL, then names sorted, each distinct value sorted (as twilio-node)", () => {
    const params = new URLSearchParams([
      ["b", "2"],
      ["a", "z"],
      ["a", "y"],
      ["a", "z"],
    ]);
    assert.equal(twilioSignedData(url, params), `${url}ayazb2`);
    assert.equal(twilioSignedData(url, undefined), url);
    const signed = signerOf("twilio", [token]).sign(toSign(params.toString(), { contentType: `${formType}; charset=utf-8` }));
    assert.equal(signed.headers["x-twilio-signature"], twilio.getExpectedTwilioSignature(token, url, { b: "2", a: ["z", "y", "z"] }));
    assert.equal(signed.url, url);
  });

  it("a form content type in any case; anything else is signed with bodySHA256 added to the URL", () => {
    const upper = signerOf("twilio", [token]).sign(toSign("a=1", { contentType: "Application/X-WWW-Form-Urlencoded" }));
    assert.equal(upper.url, url);
    for (const contentType of ["text/plain; application/x-www-form-urlencoded", "application/x-www-form-urlencodedx", "application/json"]) {
      const signed = signerOf("twilio", [token]).sign(toSign("a=1", { contentType }));
      assert.equal(signed.url, `${url}?bodySHA256=${createHash("sha256").update("a=1").digest("hex")}`, contentType);
      assert.equal(twilio.validateRequestWithBody(token, signed.headers["x-twilio-signature"]!, signed.url, "a=1"), true);
    }
    const withQuery = signerOf("twilio", [token]).sign(toSign("{}", { url: `${url}?x=1` }));
    assert.equal(withQuery.url, `${url}?x=1&bodySHA256=${createHash("sha256").update("{}").digest("hex")}`);
    assert.deepEqual(verify(withQuery.headers["x-twilio-signature"]!, "{}", withQuery.url), ok);
  });

  it("a GET signs its URL only, whatever its body", () => {
    const getUrl = `${url}?From=%2B15550100001&CallSid=CA1`;
    const signed = signerOf("twilio", [token]).sign(toSign("ignored=1", { method: "GET", url: getUrl, contentType: "" }));
    assert.equal(signed.url, getUrl);
    assert.equal(twilio.validateRequest(token, signed.headers["x-twilio-signature"]!, getUrl, {}), true);
  });

  it("agrees with twilio.validateRequest on ports, tokens and one changed character", () => {
    const form = "CallSid=CA1&From=%2B15550100001";
    const params = { CallSid: "CA1", From: "+15550100001" };
    const cases: [string, string, string][] = [
      ["https://example.com/hook", "https://example.com:443/hook", token],
      ["https://example.com:443/hook", "https://example.com/hook", token],
      ["http://example.com/hook", "http://example.com:80/hook", token],
      ["http://example.com:80/hook", "http://example.com/hook", token],
      ["https://example.com:8443/hook", "https://example.com/hook", token],
      ["https://example.com/hook", "https://example.com:80/hook", token],
      ["https://example.com/hook", "https://example.com/hook", "secondary"],
      ["https://example.com/hook", "https://example.com/hook", "67890"],
      ["https://example.com/hook", "https://example.com/hooK", token],
      ["HTTPS://example.com:443/hook", "HTTPS://example.com/hook", token],
      ["HTTP://example.com:80/hook", "HTTP://example.com/hook", token],
    ];
    for (const [signedUrl, requestUrl, signingToken] of cases) {
      const signature = twilio.getExpectedTwilioSignature(signingToken, signedUrl, params);
      const expected = twilio.validateRequest(token, signature, requestUrl, params) || twilio.validateRequest("secondary", signature, requestUrl, params);
      assert.equal(verify(signature, form, requestUrl).valid, expected, `${signedUrl} → ${requestUrl} (${signingToken})`);
    }
    const signature = twilio.getExpectedTwilioSignature(token, url, params);
    assert.deepEqual(verify(signature, `${form}&To=1`, url), bad("no matching signature"));
    assert.deepEqual(verify(offByOne(signature.slice(0, -1), "AB") + "=", form, url), bad("no matching signature"));
  });

  it("names a malformed signature, a missing URL and a body that does not match bodySHA256", () => {
    const good = twilio.getExpectedTwilioSignature(token, url, {});
    const malformed = bad("malformed x-twilio-signature (expected a base64 HMAC-SHA1)");
    assert.deepEqual(verify(good.slice(1), "", url), malformed);
    assert.deepEqual(verify(`${good}=`, "", url), malformed);
    assert.deepEqual(verify(`x${good}`, "", url), malformed);
    assert.deepEqual(verify(`${good.slice(0, 26)}==`, "", url), malformed);
    assert.deepEqual(verify(good, "", ""), bad("the request URL is needed to check a Twilio signature (--request-url)"));
    // A URL that is not absolute is checked as it is, without port variants.
    assert.deepEqual(verify(twilio.getExpectedTwilioSignature(token, "/hook", {}), "", "/hook"), ok);
    assert.deepEqual(verifier.verify(received({}), at(0)), bad("missing header x-twilio-signature"));
    const hash = createHash("sha256").update("{}").digest("hex");
    const hashed = `${url}?bodySHA256=${hash.toUpperCase()}`;
    assert.deepEqual(verify(twilio.getExpectedTwilioSignature(token, hashed, {}), "{}", hashed), bad("body does not match the URL's bodySHA256"));
  });
});

describe("plivo", () => {
  before(async () => void (plivo = await loadPlivo()));
  const token = "MAXXXXXXXXXXXXXXXXXX";
  const formType = "application/x-www-form-urlencoded";
  const verifier = signerOf("plivo", ["other-token", token], "verify");
  const verify = (headers: Record<string, string>, body: string, overrides: Partial<ReceivedRequest> = {}) =>
    verifier.verify(received(headers, body, overrides), at(0));

  it("agrees with plivo's validateV3Signature on every base: GET and POST, with and without a query and form parameters", () => {
    const cases: [string, string, string, Record<string, string | string[]>][] = [
      ["POST", "https://a.example/answer?b=2&a=1&a=0", "To=2&From=1&From=0", { To: "2", From: ["1", "0"] }],
      ["POST", "https://a.example/answer?b=2&a=1", "", {}],
      ["POST", "https://a.example/answer", "To=2&From=1", { To: "2", From: "1" }],
      ["POST", "https://a.example/answer", "", {}],
      ["GET", "https://a.example/answer?b=2&a=1", "", {}],
      ["GET", "https://a.example:8443/answer", "", {}],
    ];
    for (const [method, requestUrl, body, params] of cases) {
      const signed = signerOf("plivo", [token]).sign(toSign(body, { method, url: requestUrl, contentType: formType }));
      const headers = signed.headers;
      assert.match(headers["x-plivo-signature-v3-nonce"]!, /^\d{1,20}$/);
      assert.equal(headers["x-plivo-signature-ma-v3"], headers["x-plivo-signature-v3"]);
      const n = headers["x-plivo-signature-v3-nonce"]!;
      assert.equal(plivo.validateV3Signature(method, requestUrl, n, token, headers["x-plivo-signature-v3"]!, params), true, `${method} ${requestUrl} ${body}`);
      assert.deepEqual(verify({ ...headers, "content-type": formType }, body, { method, url: requestUrl }), ok, `${method} ${requestUrl} ${body}`);
      assert.deepEqual(verify({ ...headers, "content-type": formType }, `${body}&x=1`, { method: "POST", url: `${requestUrl}#` }).valid, false);
    }
  });

  it("the base string, spelled out", () => {
    const form = new URLSearchParams("b=2&a=1");
    assert.equal(plivoSignedBase("POST", "https://a.example/x?z=1&y=2", form), "https://a.example/x?y=2&z=1.a1b2");
    assert.equal(plivoSignedBase("POST", "https://a.example/x?z=1", undefined), "https://a.example/x?z=1");
    assert.equal(plivoSignedBase("POST", "https://a.example/x", form), "https://a.example/x?a1b2");
    assert.equal(plivoSignedBase("POST", "https://a.example/x", undefined), "https://a.example/x");
    assert.equal(plivoSignedBase("post", "https://a.example/x", form), "https://a.example/x?a1b2");
    assert.equal(plivoSignedBase("GET", "https://a.example/x?z=1&y=2", form), "https://a.example/x?y=2&z=1");
    assert.equal(plivoSignedBase("GET", "https://a.example/x", undefined), "https://a.example/x");
  });

  it("a JSON POST signs no form parameters; a lower-case method is the same method", () => {
    const signed = signerOf("plivo", [token]).sign(toSign('{"a":"1"}', { url: "https://a.example/x" }));
    assert.deepEqual(verify({ ...signed.headers, "content-type": "application/json" }, '{"a":"2"}', { url: "https://a.example/x" }), ok);
    const form = signerOf("plivo", [token]).sign(toSign("a=1", { url: "https://a.example/x", contentType: formType }));
    assert.deepEqual(verify({ ...form.headers, "content-type": formType }, "a=1", { url: "https://a.example/x", method: "post" }), ok);
    assert.deepEqual(verify({ ...form.headers, "content-type": "text/plain" }, "a=1", { url: "https://a.example/x" }), bad("no matching signature"));
  });

  it("a comma-separated list passes on any match; each entry must be base64 HMAC-SHA256; headers and URL are required", () => {
    const good = signerOf("plivo", [token]).sign(toSign("", { url: "https://a.example/x", contentType: formType })).headers;
    const sig = good["x-plivo-signature-v3"]!;
    const n = good["x-plivo-signature-v3-nonce"]!;
    const check = (signature: string, nonceValue = n, requestUrl = "https://a.example/x") =>
      verify({ "x-plivo-signature-v3": signature, "x-plivo-signature-v3-nonce": nonceValue }, "", { url: requestUrl });
    const other = Buffer.alloc(32, 1).toString("base64");
    assert.deepEqual(check(`${other}, ${sig}`), ok);
    assert.deepEqual(check(`${sig},${other}`), ok);
    assert.deepEqual(check(other), bad("no matching signature"));
    assert.deepEqual(check(sig, `${n}0`), bad("no matching signature"));
    const malformed = bad("malformed x-plivo-signature-v3 (expected base64 HMAC-SHA256 signatures, comma-separated)");
    assert.deepEqual(check(`${sig},nope`), malformed);
    assert.deepEqual(check(sig.slice(1)), malformed);
    assert.deepEqual(check(`${sig}=`), malformed);
    assert.deepEqual(check(`-${sig.slice(1)}`), malformed);
    assert.deepEqual(check(sig, n, ""), bad("the request URL is needed to check a Plivo signature (--request-url)"));
    assert.deepEqual(check(sig, n, "/x"), bad("the request URL is needed to check a Plivo signature (--request-url)"));
    assert.deepEqual(verify({ "x-plivo-signature-v3": sig }, ""), bad("missing header x-plivo-signature-v3-nonce"));
    assert.deepEqual(verify({ "x-plivo-signature-v3-nonce": n }, ""), bad("missing header x-plivo-signature-v3"));
    const probes = getScheme("plivo").probes({ purpose: "sign" });
    assert.deepEqual(probes.rotatedList?.(good, { ...good, "x-plivo-signature-v3": "bad" }), { ...good, "x-plivo-signature-v3": `bad,${sig}` });
    assert.deepEqual(probes.malformed(good), { ...good, "x-plivo-signature-v3": "not-a-signature" });
  });
});

describe("vonage", () => {
  before(async () => {
    vonageVerify = (await import("@vonage/jwt")).verifySignature;
    jwt = createRequire(import.meta.url)("jsonwebtoken") as typeof jwt;
  });
  const secret = "vonage-signature-secret-0123456789";
  const body = '{"status":"answered"}';
  const hash = createHash("sha256").update(body).digest("hex");
  /** jsonwebtoken's token (it keeps the claims' iat); one it refuses to make (no iat, a time claim as a string) is built by hand. */
  const token = (claims: Record<string, unknown>, key = secret) =>
    ["exp", "nbf"].every((name) => typeof claims[name] !== "string") && typeof claims["iat"] === "number"
      ? jwt.sign(claims, key, { algorithm: "HS256" })
      : signVonageJwt(key, claims);
  const claims = { iat: T, jti: "a", iss: "Vonage", payload_hash: hash };
  const verifier = signerOf("vonage", ["old-secret", secret], "verify");
  const verify = (value: string, now = T, overrides: Partial<ReceivedRequest> = {}) =>
    verifier.verify(received({ authorization: value }, body, overrides), at(now));
  const note = "@vonage/jwt's verifySignature does not check this; vwh does";

  it("signs an HS256 JWT that @vonage/jwt verifies, with iat, jti, iss and payload_hash", () => {
    const signed = signerOf("vonage", [secret, "other"]).sign(toSign(body));
    const value = signed.headers["authorization"]!;
    assert.match(value, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const jwtPart = value.slice("Bearer ".length);
    assert.equal(vonageVerify(jwtPart, secret), true);
    assert.equal(vonageVerify(jwtPart, "other"), false);
    const payload = JSON.parse(Buffer.from(jwtPart.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    assert.deepEqual({ ...payload, jti: typeof payload["jti"] }, { iat: T, jti: "string", iss: "Vonage", payload_hash: hash });
    assert.deepEqual(verify(value), ok);
  });

  it("agrees with @vonage/jwt on the token's signature: right, other secret, one byte off, another alg", () => {
    const good = token(claims);
    const hs512 = jwt.sign(claims, secret, { algorithm: "HS512" });
    const cases: [string, Verdict][] = [
      [good, ok],
      [token(claims, "old-secret"), ok],
      [token(claims, "third"), bad("no matching signature")],
      [`${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`, bad("no matching signature")],
      [hs512, bad('unsupported JWT alg "HS512" (Vonage signs callbacks with HS256)')],
    ];
    for (const [value, verdict] of cases) {
      assert.deepEqual(verify(`Bearer ${value}`), verdict, value);
      if (value !== hs512) assert.equal(vonageVerify(value, secret) || vonageVerify(value, "old-secret"), verdict.valid, `@vonage/jwt: ${value}`);
    }
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    assert.deepEqual(verify(`Bearer ${none}`), bad('unsupported JWT alg "none" (Vonage signs callbacks with HS256)'));
    assert.equal(vonageVerify(none, secret), false);
  });

  it("the Authorization header: Bearer in any case, one JWT of three base64url parts with JSON objects", () => {
    const good = token(claims);
    const malformedHeader = bad('malformed authorization (expected "Bearer <JWT>")');
    const malformedJwt = bad("malformed JWT (expected three base64url parts, header and claims JSON objects)");
    assert.deepEqual(verify(`bearer ${good}`), ok);
    assert.deepEqual(verify(`Bearer\t${good}`), ok);
    assert.deepEqual(verify(`Bearer  ${good}`), ok);
    assert.deepEqual(verify(good), malformedHeader);
    assert.deepEqual(verify(`Basic ${good}`), malformedHeader);
    assert.deepEqual(verify(`Bearer ${good} x`), malformedHeader);
    assert.deepEqual(verify(`Bearer ${good}.x`), malformedHeader);
    assert.deepEqual(verify(`Bearer ${good.split(".").slice(0, 2).join(".")}`), malformedHeader);
    const [h, p, s] = good.split(".") as [string, string, string];
    assert.deepEqual(verify(`Bearer ${h}.${p}.${s}+`), malformedJwt);
    assert.deepEqual(verify(`Bearer ${h}=.${p}.${s}`), malformedJwt);
    assert.deepEqual(verify(`Bearer ${h}.${Buffer.from("[1]").toString("base64url")}.${s}`), malformedJwt);
    assert.deepEqual(verify(`Bearer ${h}.${Buffer.from("null").toString("base64url")}.${s}`), malformedJwt);
    assert.deepEqual(verify(`Bearer ${h}.${Buffer.from('"claims"').toString("base64url")}.${s}`), malformedJwt);
    assert.deepEqual(verify(`Bearer ${h}.${Buffer.from("7").toString("base64url")}.${s}`), malformedJwt);
    assert.deepEqual(verify(`Bearer ${h}.${Buffer.from("{nope").toString("base64url")}.${s}`), malformedJwt);
    assert.deepEqual(verify(`Bearer .${p}.${s}`), malformedJwt);
    assert.deepEqual(verifier.verify(received({}), at(T)), bad("missing header authorization"));
  });

  it("time claims: exp and nbf as jsonwebtoken applies them, iat within the tolerance", () => {
    assert.deepEqual(verify(`Bearer ${token({ ...claims, exp: T + 1 })}`), ok);
    assert.deepEqual(verify(`Bearer ${token({ ...claims, exp: T })}`), bad(`token expired (exp ${T})`));
    assert.deepEqual(verify(`Bearer ${token({ ...claims, exp: String(T - 10) })}`), ok);
    assert.deepEqual(verify(`Bearer ${token({ ...claims, nbf: T })}`), ok);
    assert.deepEqual(verify(`Bearer ${token({ ...claims, nbf: T + 1 })}`), bad(`token not yet valid (nbf ${T + 1})`));
    assert.deepEqual(verify(`Bearer ${token({ ...claims, nbf: String(T + 10) })}`), ok);
    const { iat: _iat, ...noIat } = claims;
    assert.deepEqual(verify(`Bearer ${token(noIat)}`), bad(`missing iat claim (${note})`));
    assert.deepEqual(verify(`Bearer ${token({ ...claims, iat: String(T) })}`), bad(`missing iat claim (${note})`));
    assert.deepEqual(verify(`Bearer ${token(claims)}`, T + 300), ok);
    assert.deepEqual(verify(`Bearer ${token(claims)}`, T + 301), bad(`iat timestamp too old (301 s > 300 s tolerance) (${note})`));
    assert.deepEqual(verify(`Bearer ${token(claims)}`, T - 301), bad(`iat timestamp too far in the future (301 s > 300 s tolerance) (${note})`));
  });

  it("payload_hash: present, of these bytes (hex in any case), or of the query for a GET", () => {
    const { payload_hash: _hash, ...noHash } = claims;
    assert.deepEqual(verify(`Bearer ${token(noHash)}`), bad(`missing payload_hash claim (${note})`));
    assert.deepEqual(verify(`Bearer ${token({ ...claims, payload_hash: 1 })}`), bad(`missing payload_hash claim (${note})`));
    assert.deepEqual(verify(`Bearer ${token({ ...claims, payload_hash: hash.toUpperCase() })}`), ok);
    assert.deepEqual(verify(`Bearer ${token({ ...claims, payload_hash: offByOne(hash) })}`), bad(`payload_hash does not match the body (${note})`));
    assert.equal(vonageVerify(token({ ...claims, payload_hash: offByOne(hash) }), secret), true);
    const getUrl = `${url}?b=2&a=%C3%A9`;
    const queryHash = createHash("sha256").update('{"b":"2","a":"é"}').digest("hex");
    assert.equal(vonagePayloadHash("get", getUrl, Buffer.from("ignored")), queryHash);
    assert.equal(vonagePayloadHash("GET", "/relative?a=1", Buffer.alloc(0)), createHash("sha256").update("{}").digest("hex"));
    assert.equal(vonagePayloadHash("POST", getUrl, Buffer.from(body)), hash);
    const get = (value: string) => verifier.verify({ headers: { authorization: value }, body: Buffer.from(body), method: "GET", url: getUrl }, at(T));
    assert.deepEqual(get(`Bearer ${token({ ...claims, payload_hash: queryHash })}`), ok);
    assert.deepEqual(get(`Bearer ${token(claims)}`), bad(`payload_hash does not match the query (${note})`));
    assert.equal(signVonageJwt(secret, { a: 1 }).split(".").length, 3);
  });
});

describe("telnyx", () => {
  before(async () => void ({ TelnyxWebhook } = await import("telnyx/lib/webhooks")));
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privatePem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const publicPem = publicKey.export({ format: "pem", type: "spki" }).toString();
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(16);
  const rawPublic = rawPublicKeyBase64(publicKey);
  const body = '{"data":{"event_type":"call.initiated"}}';
  const signature = (timestamp: number | string, payload = body) => edSign(null, Buffer.from(`${timestamp}|${payload}`), privateKey).toString("base64");
  const headers = (timestamp: number | string, sig = signature(timestamp)) => ({ "telnyx-signature-ed25519": sig, "telnyx-timestamp": String(timestamp) });

  it("keys: raw base64 (a 32-byte seed or libsodium's 64 bytes), PEM, and a public key from a private PEM", () => {
    const libsodium = Buffer.concat([seed, Buffer.from(rawPublic, "base64")]).toString("base64");
    for (const value of [seed.toString("base64"), libsodium, privatePem, ` ${seed.toString("base64")}\n`]) {
      assert.equal(rawPublicKeyBase64(parseTelnyxPrivateKey(asSecret(value))), rawPublic, value);
    }
    for (const value of [rawPublic, libsodium, publicPem, privatePem])
      assert.equal(rawPublicKeyBase64(parseTelnyxPublicKey(asSecret(value))), rawPublic, value);
    const privateError = { name: "UsageError", message: "secret (test) is not an Ed25519 private key: expected base64 of 32 bytes, or PEM" };
    const publicError = { name: "UsageError", message: "secret (test) is not an Ed25519 public key: expected base64 of 32 bytes, or PEM" };
    for (const value of [
      Buffer.alloc(31).toString("base64"),
      Buffer.alloc(33).toString("base64"),
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
      "a b",
    ]) {
      assert.throws(() => parseTelnyxPrivateKey(asSecret(value)), privateError, value);
    }
    for (const value of [Buffer.alloc(48).toString("base64"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", `x${rawPublic}`]) {
      assert.throws(() => parseTelnyxPublicKey(asSecret(value)), publicError, value);
    }
    assert.throws(() => signerOf("telnyx", [rawPublic], "verify").sign(toSign(body)), {
      name: "UsageError",
      message: "signing with --scheme telnyx needs a private key",
    });
  });

  it("agrees with the telnyx library: signed by vwh, by the key itself, tampered and one byte off", async () => {
    const signed = signerOf("telnyx", [privatePem]).sign(toSign(body));
    assert.deepEqual(signed.headers, headers(T, signed.headers["telnyx-signature-ed25519"]));
    const now = Math.floor(Date.now() / 1000);
    const verifier = signerOf("telnyx", [Buffer.alloc(32, 7).toString("base64"), rawPublic], "verify");
    const flipped = Buffer.from(signature(now), "base64");
    flipped[10] = flipped[10]! ^ 1;
    const cases: [Record<string, string>, string, boolean][] = [
      [headers(now), body, true],
      [headers(now), `${body} `, false],
      [headers(now, flipped.toString("base64")), body, false],
      [headers(now + 1, signature(now)), body, false],
    ];
    for (const [h, payload, expected] of cases) {
      assert.equal(verifier.verify(received(h, payload), at(now)).valid, expected, JSON.stringify(h));
      const library = await new TelnyxWebhook(rawPublic).verify(payload, h).then(
        () => true,
        () => false,
      );
      assert.equal(library, expected, `telnyx: ${JSON.stringify(h)}`);
    }
  });

  it("names malformed signatures and timestamps, and checks the window", () => {
    const verifier = signerOf("telnyx", [privatePem]);
    const verify = (h: Record<string, string>, now = T) => verifier.verify(received(h, body), at(now));
    const good = signature(T);
    const malformed = bad("malformed telnyx-signature-ed25519 (expected a base64 Ed25519 signature)");
    assert.deepEqual(verify(headers(T)), ok);
    assert.deepEqual(verify(headers(T), T + 300), ok);
    assert.deepEqual(verify(headers(T), T + 301), bad("timestamp too old (301 s > 300 s tolerance)"));
    assert.deepEqual(verify(headers(T), T - 301), bad("timestamp too far in the future (301 s > 300 s tolerance)"));
    assert.deepEqual(verify(headers(`${T}.5`, good)), bad("invalid telnyx-timestamp (expected unix seconds)"));
    assert.deepEqual(verify({ "telnyx-signature-ed25519": good }), bad("missing header telnyx-timestamp"));
    assert.deepEqual(verify({ "telnyx-timestamp": String(T) }), bad("missing header telnyx-signature-ed25519"));
    assert.deepEqual(verify(headers(T, good.replace(/==$/, ""))), malformed);
    assert.deepEqual(verify(headers(T, `${good}AAAA`)), malformed);
    assert.deepEqual(verify(headers(T, `${good.slice(0, -2)}A=`)), malformed);
    assert.deepEqual(verify(headers(T, `${good}=`)), malformed);
    assert.deepEqual(verify(headers(T, `-${good.slice(1)}`)), malformed);
    assert.deepEqual(verify(headers(T, Buffer.alloc(64).toString("base64"))), bad("no matching signature"));
  });
});

describe("secrets and options", () => {
  it("--secret: as given, named by position when repeated; VWH_SECRET or --secret-env split on whitespace; PEM keys on blank lines", () => {
    assert.deepEqual(resolveSecrets([" a "], {}), [{ value: " a ", source: "(--secret)" }]);
    assert.deepEqual(resolveSecrets(["a", "b"], {}), [
      { value: "a", source: "#1 (--secret)" },
      { value: "b", source: "#2 (--secret)" },
    ]);
    assert.deepEqual(resolveSecrets(undefined, { MY_KEY: "x y", VWH_SECRET: "z" }, "MY_KEY"), [
      { value: "x", source: "#1 (MY_KEY)" },
      { value: "y", source: "#2 (MY_KEY)" },
    ]);
    assert.deepEqual(resolveSecrets(undefined, { MY_KEY: "", VWH_SECRET: "z" }, "MY_KEY"), [{ value: "z", source: "(VWH_SECRET)" }]);
    assert.deepEqual(resolveSecrets(undefined, { VWH_SECRET: "z" }, "UNSET"), [{ value: "z", source: "(VWH_SECRET)" }]);
    const pem = "-----BEGIN PRIVATE KEY-----\nAAA BBB\n-----END PRIVATE KEY-----";
    assert.deepEqual(
      resolveSecrets(undefined, { VWH_SECRET: `\n${pem}\n \n${pem}\n\n` }).map((s) => s.value),
      [pem, pem],
    );
    assert.deepEqual(resolveSecrets(undefined, { VWH_SECRET: pem }), [{ value: pem, source: "(VWH_SECRET)" }]);
    assert.deepEqual(
      resolveSecrets(undefined, { VWH_SECRET: "a\tb\nc" }).map((s) => s.value),
      ["a", "b", "c"],
    );
    assert.deepEqual(resolveSecrets([], { VWH_SECRET: "  " }), []);
    assert.deepEqual(resolveSecrets([], { VWH_SECRET: "z" }), [{ value: "z", source: "(VWH_SECRET)" }]);
  });

  it("no secret: a usage error naming the variables to set; an unknown scheme names the known ones", () => {
    assert.throws(() => requireSecrets([], "MY_KEY"), { name: "UsageError", message: "no signing secret: pass --secret or set MY_KEY or VWH_SECRET" });
    assert.throws(() => requireSecrets([], "VWH_SECRET"), { message: "no signing secret: pass --secret or set VWH_SECRET" });
    assert.throws(() => requireSecrets([]), { message: "no signing secret: pass --secret or set VWH_SECRET" });
    assert.doesNotThrow(() => requireSecrets([asSecret("a")]));
    assert.throws(() => getScheme("toString"), {
      name: "UsageError",
      message: `--scheme: unknown scheme "toString" (expected one of ${schemeNames.join(", ")})`,
    });
    for (const name of schemeNames) assert.equal(getScheme(name).name, name);
  });

  const options: SigningOptions = {
    secret: undefined,
    secretEnv: undefined,
    scheme: "hmac",
    hmacHeader: "x-h",
    hmacAlgorithm: "sha1",
    hmacTemplate: "{body}",
    hmacTimestampHeader: "x-t",
    hmacIdHeader: "x-i",
    hmacEncoding: "base64",
    hmacPrefix: "p=",
  };

  it("flags to a signer: the hmac settings, secrets from flags, the environment or a platform's fallback", () => {
    assert.deepEqual(schemeSettings(options, "verify"), {
      purpose: "verify",
      hmac: { header: "x-h", algorithm: "sha1", template: "{body}", timestampHeader: "x-t", idHeader: "x-i", encoding: "base64", prefix: "p=" },
    });
    assert.deepEqual(pickSigningOptions({ ...options, extra: 1 } as SigningOptions), options);
    const fromEnv = resolveSigning({ ...options, scheme: "hmac" }, { VWH_SECRET: "k" }, "sign");
    assert.equal(fromEnv.scheme.name, "hmac");
    assert.equal(fromEnv.settings.purpose, "sign");
    assert.deepEqual(fromEnv.signer.sign(toSign("{}")).headers, { "x-h": `p=${createHmac("sha1", "k").update("{}").digest("base64")}` });
    const flag = resolveSigning({ ...options, scheme: "hmac", secret: ["f"] }, { VWH_SECRET: "k" }, "sign", [asSecret("fallback")]);
    assert.deepEqual(flag.signer.sign(toSign("{}")).headers, { "x-h": `p=${createHmac("sha1", "f").update("{}").digest("base64")}` });
    const fallback = resolveSigning({ ...options, scheme: "hmac" }, {}, "sign", [asSecret("fb")]);
    assert.deepEqual(fallback.signer.sign(toSign("{}")).headers, { "x-h": `p=${createHmac("sha1", "fb").update("{}").digest("base64")}` });
    assert.throws(() => resolveSigning({ ...options, scheme: "hmac", secretEnv: "MY_KEY" }, {}, "sign"), {
      message: "no signing secret: pass --secret or set MY_KEY or VWH_SECRET",
    });
  });

  it("where the secret came from, and the warning for --secret", () => {
    assert.equal(secretSource({ secret: ["a"], secretEnv: "X" }), "--secret");
    assert.equal(secretSource({ secret: [], secretEnv: "X" }), "$X");
    assert.equal(secretSource({ secret: undefined, secretEnv: undefined }), "VWH_SECRET");
    assert.equal(secretFlagWarning({ ...options, secret: ["a"] }), "--secret is visible in the process list and shell history; prefer VWH_SECRET");
    assert.equal(secretFlagWarning({ ...options, secret: [] }), undefined);
    assert.equal(secretFlagWarning(options), undefined);
  });
});

describe("the cases the first mutation run of this file left (issue 30)", () => {
  it("a blank secret names what each scheme expected; a missing secret and a bad Standard Webhooks secret say how to fix it", () => {
    const expected: Record<string, string> = {
      stripe: "a signing secret such as whsec_…",
      hmac: "a shared secret",
      twilio: "a Twilio auth token",
      retell: "a Retell API key",
      vonage: "a Vonage signature secret",
      plivo: "a Plivo auth token",
      vapi: "a shared secret",
      bearer: "a shared secret",
    };
    for (const [name, what] of Object.entries(expected))
      assert.throws(() => signerOf(name, [" "]), { message: `secret (test) is empty: expected ${what}` }, name);
    assert.throws(() => requireSecrets([]), { hint: "an environment variable keeps it out of the process list and shell history" });
    assert.throws(() => parseStandardSecret(asSecret("nope")), {
      hint: "generate one with: node -e \"console.log('whsec_' + require('crypto').randomBytes(24).toString('base64'))\"",
    });
  });

  it("PEM keys in VWH_SECRET split on an empty line too", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----";
    assert.deepEqual(
      resolveSecrets(undefined, { VWH_SECRET: `${pem}\n\n${pem}` }).map((secret) => secret.value),
      [pem, pem],
    );
  });

  it("hmac: a list with spaces after the commas, and no prefix: a signature of the wrong shape is malformed", () => {
    const good = createHmac("sha256", "k3y").update("{}").digest("hex");
    const verifier = signerOf("hmac", ["k3y"], "verify", { ...defaultHmacSettings, template: "{body}" });
    const verify = (signature: string) => verifier.verify(received({ "x-signature": signature }), at(T));
    assert.deepEqual(verify(`${"0".repeat(64)}, ${good}`), ok);
    assert.deepEqual(verify(`zz${good}`), bad("malformed x-signature (expected <hex>)"));
  });

  it("stripe and standard: a timestamp that only ends in digits, versions past 9, unknown versions beside garbage", () => {
    const stripe = (value: string) => signerOf("stripe", ["whsec_x"], "verify").verify(received({ "stripe-signature": value }), at(T));
    assert.deepEqual(stripe(`t=a${T},v1=abc`), bad("malformed stripe-signature (expected t=<unix>,v1=<hex>)"));
    assert.deepEqual(stripe(`t=${T},v10=abc`), bad("no v1 signature (only unknown versions)"));
    const standard = signerOf("standard", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "verify");
    const headers = { "webhook-id": "a", "webhook-timestamp": String(T), "webhook-signature": "v2,abc garbage" };
    assert.deepEqual(standard.verify(received(headers), at(T)), bad("no v1 signature (only unknown versions)"));
  });

  it("plivo: a form content type only at the start; a signature with anything before it", () => {
    const form = "a=1";
    const signed = signerOf("plivo", ["tok"]).sign(toSign(form, { url: "https://a.example/x", contentType: "application/x-www-form-urlencoded" })).headers;
    const verifier = signerOf("plivo", ["tok"], "verify");
    const verify = (headers: Record<string, string>) => verifier.verify(received(headers, form, { url: "https://a.example/x" }), at(0));
    assert.deepEqual(verify({ ...signed, "content-type": "application/x-www-form-urlencoded" }), ok);
    assert.deepEqual(verify({ ...signed, "content-type": "text/plain; application/x-www-form-urlencoded" }), bad("no matching signature"));
    assert.deepEqual(
      verify({ ...signed, "x-plivo-signature-v3": `x${signed["x-plivo-signature-v3"]}` }),
      bad("malformed x-plivo-signature-v3 (expected base64 HMAC-SHA256 signatures, comma-separated)"),
    );
  });

  it("retell: a missing header and a wrong digest, by their messages", () => {
    const verifier = signerOf("retell", ["key_a"], "verify");
    assert.deepEqual(verifier.verify(received({}), at(T)), bad("missing header x-retell-signature"));
    assert.deepEqual(verifier.verify(received({ "x-retell-signature": `v=${T * 1000},d=${"0".repeat(64)}` }), at(T)), bad("no matching signature"));
  });

  it("telnyx: a key with a character base64 does not have is no key, wherever it is", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(16).toString("base64");
    const rawPublic = rawPublicKeyBase64(privateKey);
    for (const bad of [`!${seed}`, `${seed.slice(0, 10)}!${seed.slice(10)}`, `${seed}!`])
      assert.throws(() => parseTelnyxPrivateKey(asSecret(bad)), UsageError, bad);
    for (const bad of [`!${rawPublic}`, `${rawPublic}!`]) assert.throws(() => parseTelnyxPublicKey(asSecret(bad)), UsageError, bad);
  });

  it("vonage: the JWT header vwh signs, and Bearer only at the start of the header", () => {
    const value = signerOf("vonage", ["sec"]).sign(toSign("{}")).headers["authorization"]!;
    const [header] = value.slice("Bearer ".length).split(".");
    assert.deepEqual(JSON.parse(Buffer.from(header!, "base64url").toString()), { alg: "HS256", typ: "JWT" });
    const verifier = signerOf("vonage", ["sec"], "verify");
    const malformed = bad('malformed authorization (expected "Bearer <JWT>")');
    assert.deepEqual(verifier.verify(received({ authorization: `Basic ${value}` }, "{}"), at(T)), malformed);
    const [h, p, sig] = value.slice("Bearer ".length).split(".");
    assert.deepEqual(
      verifier.verify(received({ authorization: `Bearer !${h}.${p}.${sig}` }, "{}"), at(T)),
      bad("malformed JWT (expected three base64url parts, header and claims JSON objects)"),
    );
  });
});
