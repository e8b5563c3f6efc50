/**
 * --redact-pii and secret masking, case by case (issue 30): the cases redaction.test.ts's properties
 * generate, spelled out, and the edges they do not reach — each of vwh's default PII fields by name,
 * blank and short phone values, null, which bodies count as JSON or a form, form bodies left byte for
 * byte, secrets in request targets however they are percent-encoded. Plain functions, no generators:
 * the mutation run tries this file before the properties (test/mutation/areas.mjs).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  credentialHeaders,
  maskNumber,
  maskPhoneNumbers,
  maskSecretHeaders,
  maskSecrets,
  maskSecretsInTarget,
  mergeRedactionFields,
  redactBody,
  redactedMark,
  redactHeaders,
  redactPath,
  secretNeedles,
} from "../../src/tunnel/redact.js";
describe("--redact-pii, the cases the properties generate, spelled out", () => {
  it("every number in one string, numbers in nested arrays, numbers as JSON numbers", () => {
    const body = {
      note: "call +15550100001, +447700900123 or +4915112345678; fax +33142685300",
      to: [["+15550100002", "+15550100003"], "+15550100004"],
      from: 447700900124,
      calls: [{ from_number: "15550100005", transcript: ["yes", ["my pin is 4321"]] }],
    };
    const out = JSON.parse(redactBody(Buffer.from(JSON.stringify(body)), "application/json").toString()) as typeof body;
    assert.deepEqual(out, {
      note: "call +10000000001, +100000000023 or +1000000000078; fax +10000000000",
      to: [["+10000000002", "+10000000003"], "+10000000004"],
      from: 100000000024,
      calls: [{ from_number: "10000000005", transcript: [redactedMark, [redactedMark]] }],
    });
  });

  it("free text: every +E.164 number, kept to its length; not digits without a + or runs too long for a number", () => {
    assert.equal(maskPhoneNumbers("+15550100001+15550100002 and +447700900123."), "+10000000001+10000000002 and +100000000023.");
    assert.equal(maskPhoneNumbers("order 15550100001"), "order 15550100001");
    assert.equal(maskPhoneNumbers("id +1234567890123456789"), "id +1234567890123456789");
    assert.equal(maskNumber("12"), "12");
    assert.equal(maskNumber("123"), "123");
    assert.equal(maskNumber("1234"), "1034");
    assert.equal(maskNumber("+44 (0) 7700-900123"), "+10 (0) 0000-000023");
  });

  it("a body that is not JSON keeps its bytes unless a +E.164 number is in its text; bytes that are not UTF-8 are left as they are", () => {
    const binary = Buffer.from([0xff, 0xfe, 0x2b, 0x31, 0x35, 0x35, 0x35, 0x30, 0x31, 0x30, 0x30, 0x30, 0x30, 0x31, 0x00, 0x80]);
    assert.deepEqual(redactBody(binary, "application/octet-stream"), binary);
    assert.equal(redactBody(Buffer.from("caller +15550100001 said hi"), "text/plain").toString(), "caller +10000000001 said hi");
    assert.equal(redactBody(Buffer.from("From=+15550100001&x=1"), undefined).toString(), "From=+10000000001&x=1");
    assert.equal(redactBody(Buffer.from("{not json +15550100001"), "application/json").toString(), "{not json +10000000001");
    assert.equal(
      redactBody(Buffer.from("From=%2B15550100001&to=15550100002&Text=hello"), "application/x-www-form-urlencoded").toString(),
      "From=%2B10000000001&to=10000000002&Text=%5Bredacted%5D",
    );
    assert.equal(redactBody(Buffer.from("id=abc&note=fine"), "application/x-www-form-urlencoded").toString(), "id=abc&note=fine");
  });

  it("paths and headers: +E.164 numbers masked, the rest untouched", () => {
    assert.equal(redactPath("/calls/+15550100001/status"), "/calls/+10000000001/status");
    assert.equal(redactPath("/answer?from=447700900123&id=7"), "/answer?from=100000000023&id=7");
    assert.deepEqual(redactHeaders({ "x-caller": "+15550100001", "x-id": "abc" }), { "x-caller": "+10000000001", "x-id": "abc" });
  });

  it("merging field lists keeps every entry of each", () => {
    const merged = mergeRedactionFields([
      { phone: ["a"], text: ["b"] },
      { phone: [/c$/], text: [] },
    ]);
    assert.deepEqual(merged.phone.map(String), ["a", "/c$/"]);
    assert.deepEqual(merged.text, ["b"]);
  });
});

describe("secrets in stored and shown traffic", () => {
  it("the needles of each secret: the whole value trimmed and a whsec_ key's key part, longest first, none under 4 characters", () => {
    assert.deepEqual(secretNeedles(["  whsec_abcdefgh  ", "abc", "", "token-1234"]), ["whsec_abcdefgh", "token-1234", "abcdefgh"]);
    assert.deepEqual(secretNeedles(["whsec_abc"]), ["whsec_abc"]);
    assert.deepEqual(secretNeedles(["whsec_abcd"]), ["whsec_abcd", "abcd"]);
    assert.deepEqual(secretNeedles(["abcd", "abcd"]), ["abcd"]);
  });

  it("every occurrence of every needle is masked, a longer secret before a shorter one inside it", () => {
    const needles = secretNeedles(["whsec_abcdefgh"]);
    assert.equal(maskSecrets("a whsec_abcdefgh b abcdefgh c whsec_abcdefgh", needles), "a [redacted] b [redacted] c [redacted]");
    assert.equal(maskSecrets("nothing here", needles), "nothing here");
    assert.equal(maskSecrets("abc", []), "abc");
  });

  it("credential headers are masked whatever they hold, others where they hold a secret, and named extra headers", () => {
    const headers = {
      authorization: "Bearer x",
      cookie: "a=b",
      "x-vapi-secret": "v",
      "x-api-key": "k",
      "proxy-authorization": "p",
      "set-cookie": "s",
      "x-signature": "sig key-12345 end",
      "x-plain": "plain",
      "x-custom": "c",
    };
    assert.deepEqual(maskSecretHeaders(headers, ["key-12345"], ["x-custom"]), {
      authorization: redactedMark,
      cookie: redactedMark,
      "x-vapi-secret": redactedMark,
      "x-api-key": redactedMark,
      "proxy-authorization": redactedMark,
      "set-cookie": redactedMark,
      "x-signature": `sig ${redactedMark} end`,
      "x-plain": "plain",
      "x-custom": redactedMark,
    });
    assert.deepEqual(maskSecretHeaders({ "x-plain": "plain" }, []), { "x-plain": "plain" });
    assert.deepEqual([...credentialHeaders].sort(), ["authorization", "cookie", "proxy-authorization", "set-cookie", "x-api-key", "x-vapi-secret"]);
  });
});

describe("--redact-pii without a --platform: vwh's default fields, one by one", () => {
  // Spelled out rather than read from defaultRedactionFields: a name dropped from the list must fail here.
  const phoneFields = ["from", "to", "caller", "called", "callerid", "caller_id", "forwardedfrom", "phone", "phone_number", "msisdn", "number"];
  const textFields = ["text", "transcript", "utterance", "speechresult", "unstablespeechresult", "transcriptiontext", "digits"];

  for (const name of phoneFields) {
    it(`phone field "${name}": masked in JSON (string and number), in a form body and in a query string, in any case`, () => {
      const json = JSON.parse(
        redactBody(Buffer.from(JSON.stringify({ [name]: "447700900123", [name.toUpperCase()]: 447700900124 })), "application/json").toString(),
      );
      assert.deepEqual(json, { [name]: "100000000023", [name.toUpperCase()]: 100000000024 });
      assert.equal(redactBody(Buffer.from(`${name}=447700900123`), "application/x-www-form-urlencoded").toString(), `${name}=100000000023`);
      assert.equal(redactPath(`/a?${name}=447700900123`), `/a?${name}=100000000023`);
    });
  }
  for (const name of textFields) {
    it(`transcript field "${name}": "[redacted]" in JSON, in a form body and in a query string, in any case`, () => {
      const json = JSON.parse(
        redactBody(Buffer.from(JSON.stringify({ [name]: "my pin is 4321", [name.toUpperCase()]: ["yes"] })), "application/json").toString(),
      );
      assert.deepEqual(json, { [name]: redactedMark, [name.toUpperCase()]: [redactedMark] });
      assert.equal(redactBody(Buffer.from(`${name}=hello`), "application/x-www-form-urlencoded").toString(), `${name}=%5Bredacted%5D`);
    });
  }

  it("any field ending in _number, in any case, and no field that merely contains it", () => {
    const body = { from_number: "15550100001", CALLER_NUMBER: "15550100002", phone_number_type: "mobile", numbers: "fine", number_of_calls: 7 };
    assert.deepEqual(JSON.parse(redactBody(Buffer.from(JSON.stringify(body)), "application/json").toString()), {
      from_number: "10000000001",
      CALLER_NUMBER: "10000000002",
      phone_number_type: "mobile",
      numbers: "fine",
      number_of_calls: 7,
    });
  });

  it("neutral fields keep their words and digits without a +", () => {
    const body = { id: "447700900123", note: "said hello", count: 447700900123 };
    assert.deepEqual(JSON.parse(redactBody(Buffer.from(JSON.stringify(body)), "application/json").toString()), body);
  });
});

describe("--redact-pii, the edges of a phone field's value", () => {
  const phone = (value: unknown) =>
    (JSON.parse(redactBody(Buffer.from(JSON.stringify({ from: value })), "application/json").toString()) as { from: unknown }).from;

  it("empty and blank values stay as they are; a value with fewer than three digits is a name and becomes [redacted]", () => {
    assert.equal(phone(""), "");
    assert.equal(phone(" "), " ");
    assert.equal(phone("Jane Doe"), redactedMark);
    assert.equal(phone("12"), redactedMark);
    assert.equal(phone("Anonymous 7"), redactedMark);
  });

  it("three digits or more are masked as a number: the first becomes 1, the last two stay", () => {
    assert.equal(phone("456"), "156");
    assert.equal(phone("4567"), "1067");
    assert.equal(phone(456), 156);
    assert.equal(maskNumber("45"), "45");
    assert.equal(maskNumber("456"), "156");
    assert.equal(maskNumber(""), "");
  });

  it("null, booleans and numbers outside phone fields pass through, at any depth", () => {
    const body = { from: null, transcript: null, note: null, items: [null, true, 3, { to: null, ok: false }], nested: { a: null } };
    assert.deepEqual(JSON.parse(redactBody(Buffer.from(JSON.stringify(body)), "application/json").toString()), body);
    assert.equal(redactBody(Buffer.from("null"), "application/json").toString(), "null");
  });
});

describe("--redact-pii, which bodies are read as JSON and which as a form", () => {
  it("a body that starts with { or [ is JSON whatever its content type (even none), leading blanks allowed", () => {
    assert.equal(redactBody(Buffer.from('{"transcript":"hi"}'), "text/plain").toString(), '{"transcript":"[redacted]"}');
    assert.equal(redactBody(Buffer.from('[{"from":"447700900123"}]'), undefined).toString(), '[{"from":"100000000023"}]');
    assert.equal(redactBody(Buffer.from(' \n [ {"text" : "hi"} ]'), undefined).toString(), '[{"text":"[redacted]"}]');
  });

  it("a body that only contains a { further on is text, and a JSON content type is recognised in any case", () => {
    assert.equal(redactBody(Buffer.from('x {"transcript":"hi"}'), "text/plain").toString(), 'x {"transcript":"hi"}');
    // Valid JSON that does not start with { or [ (a string with a bracket in it) stays text: its blanks are kept.
    assert.equal(redactBody(Buffer.from(' "see [1]"'), "text/plain").toString(), ' "see [1]"');
    // A top-level JSON value that is not an object: read as JSON (re-serialised, blanks gone) only for a JSON type.
    assert.equal(redactBody(Buffer.from('  "+15550100001"'), "Application/JSON").toString(), '"+10000000001"');
    assert.equal(redactBody(Buffer.from('  "+15550100001"'), "text/plain").toString(), '  "+10000000001"');
    assert.equal(redactBody(Buffer.from("  447700900123"), "application/vnd.api+json").toString(), "447700900123");
  });

  it("a top-level array of strings is masked as JSON (no field names there)", () => {
    assert.equal(redactBody(Buffer.from('[ "+15550100001", "hello" ]'), "application/json").toString(), '["+10000000001","hello"]');
    assert.equal(redactBody(Buffer.from('[ 447700900123, [ "+15550100002" ] ]'), "application/json").toString(), '[447700900123,["+10000000002"]]');
  });

  it("a form content type in any case, with parameters", () => {
    assert.equal(redactBody(Buffer.from("From=447700900123"), "Application/X-WWW-Form-Urlencoded; charset=utf-8").toString(), "From=100000000023");
  });

  it("a form body or query with nothing to mask keeps its bytes, however it is encoded", () => {
    const form = "note=a%20b&id=x~y*z&empty=&flag&q=%7E";
    assert.equal(redactBody(Buffer.from(form), "application/x-www-form-urlencoded").toString(), form);
    assert.equal(redactPath(`/hook?${form}`), `/hook?${form}`);
    // Once something is masked the pairs are written again, each one kept.
    assert.equal(redactPath("/hook?note=a%20b&to=447700900123"), "/hook?note=a+b&to=100000000023");
  });

  it("a request target: +E.164 numbers masked in the path before the query too", () => {
    assert.equal(redactPath("/calls/+15550100001/status?id=7"), "/calls/+10000000001/status?id=7");
    assert.equal(redactPath("/calls/+15550100001?"), "/calls/+10000000001?");
  });
});

describe("secrets in request targets, however they are percent-encoded", () => {
  const needles = secretNeedles(["secret-1234"]);

  it("the needles of a secret include its form and URI encodings, in both hex cases", () => {
    assert.deepEqual(new Set(secretNeedles(["ab+c/d e"])), new Set(["ab+c/d e", "ab%2Bc%2Fd%20e", "ab%2bc%2fd%20e", "ab%2Bc%2Fd+e", "ab%2bc%2fd+e"]));
  });

  it("a whsec_ key's key part only when the secret starts with whsec_", () => {
    assert.deepEqual(secretNeedles(["my-whsec_abcdefgh"]), ["my-whsec_abcdefgh"]);
    assert.deepEqual(secretNeedles(["whsec_abcd\nefgh"]), ["whsec_abcd%0Aefgh", "whsec_abcd%0aefgh", "whsec_abcd\nefgh", "abcd\nefgh"]);
  });

  it("no needles: the target as it is", () => {
    assert.equal(maskSecretsInTarget("/a/%zz?x=%E0%A4%A&y", []), "/a/%zz?x=%E0%A4%A&y");
  });

  it("a path segment holding a secret, percent-encoded or not: masked, the mark readable and the rest encoded", () => {
    assert.equal(maskSecretsInTarget("/hooks/secret-1234/voice", needles), "/hooks/[redacted]/voice");
    assert.equal(maskSecretsInTarget("/hooks/pre%20%73ecret-1234/voice", needles), "/hooks/pre%20[redacted]/voice");
    assert.equal(maskSecretsInTarget("/hooks/%73%65cret-1234%2Fx", needles), "/hooks/[redacted]%2Fx");
  });

  it("the rest of the target is left byte for byte: + in a path, encodings, a query without a secret", () => {
    const target = "/a+b/c%2Fd/%7Ee@f?q=hello+world%20x&k&e=&t=a=b";
    assert.equal(maskSecretsInTarget(target, needles), target);
    assert.equal(maskSecretsInTarget("/plain/path", needles), "/plain/path");
  });

  it("query names and values, with + for a space in the query only", () => {
    assert.equal(maskSecretsInTarget("/v?a=1&tok%65n=%73ecret-1234&b=2", needles), "/v?a=1&tok%65n=[redacted]&b=2");
    assert.equal(maskSecretsInTarget("/v?%73ecret-1234=1", needles), "/v?[redacted]=1");
    assert.equal(maskSecretsInTarget("/v?a=b=%73ecret-1234", needles), "/v?a=b=[redacted]");
    const spaced = secretNeedles(["open sesame 42"]);
    assert.equal(maskSecretsInTarget("/v?k=open+sesame+%34%32&j=x", spaced), "/v?k=[redacted]&j=x");
    assert.equal(maskSecretsInTarget("/v?k=say+open+sesame%2042+now", spaced), "/v?k=say%20[redacted]%20now");
    // In a path + is a plus: "open+sesame 42" is not the secret.
    assert.equal(maskSecretsInTarget("/open+sesame%2042/x", spaced), "/open+sesame%2042/x");
  });

  it("malformed escapes hide nothing: the valid escapes around them are decoded (a part holding a secret is written again)", () => {
    assert.equal(maskSecretsInTarget("/%zz-%73ecret-1234/x", needles), "/%25zz-[redacted]/x");
    assert.equal(maskSecretsInTarget("/x?v=%E0%A4%A-%73ecret-1234", needles), "/x?v=%EF%BF%BD%25A-[redacted]");
    assert.equal(maskSecretsInTarget("/%zz/x?v=%E0%A4%A&w=%", needles), "/%zz/x?v=%E0%A4%A&w=%");
  });

  it("one of several secrets is enough", () => {
    const two = secretNeedles(["secret-1234", "other-5678"]);
    assert.equal(maskSecretsInTarget("/h/%73ecret-1234?x=%6Fther-5678", two), "/h/[redacted]?x=[redacted]");
  });
});
