/**
 * --redact-pii as a property (issue 30): over generated JSON bodies (objects in arrays in objects, arrays
 * of arrays of numbers, several numbers in one string), form bodies and query strings, with every
 * platform's own PII fields, no phone number and no transcript that went in comes out — whatever the
 * case of the field names (Twilio's From, Vonage's dtmfAnswer, Vapi's twilioPhoneNumber: these properties
 * failed, as todo, until issue 26's case-insensitive matching landed). Each generated piece carries what
 * must not survive it, so the test needs no second implementation of the rules.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadPlatform, platformIds } from "../../src/platforms/registry.js";
import type { FieldPattern, RedactionFields } from "../../src/platforms/types.js";
import {
  credentialHeaders,
  defaultRedactionFields,
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

interface Piece {
  value: unknown;
  /** Text that must not appear anywhere in the redacted output. */
  secrets: string[];
}

/**
 * Country code and subscriber digits whose mask differs from the number: the first digit it zeroes is never 0 (a
 * filter through maskNumber would hang the generator on a mutant of it that masks nothing).
 */
const digits = fc
  .tuple(fc.constantFrom("1", "44", "49", "33", "91", "61", "353"), fc.stringMatching(/^[1-9][0-9]{7,9}$/))
  .map(([country, rest]) => `${country}${rest}`);
const e164 = digits.map((number) => `+${number}`);

/** A number in a phone field: +E.164 or bare digits, a JSON number, or lists of them nested. */
const phoneValue: fc.Arbitrary<Piece> = fc.letrec<{ value: Piece }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 2, withCrossShrink: true },
    e164.map((number) => ({ value: number, secrets: [number.slice(1)] })),
    digits.map((number) => ({ value: number, secrets: [number] })),
    digits.filter((number) => number.length <= 15).map((number) => ({ value: Number(number), secrets: [number] })),
    fc
      .array(tie("value"), { minLength: 1, maxLength: 3 })
      .map((items) => ({ value: items.map((item) => item.value), secrets: items.flatMap((item) => item.secrets) })),
  ),
})).value;

/** What the caller said: unique words, so finding any of them in the output is a leak. */
const utterance = fc.stringMatching(/^[a-z]{8,12}$/).map((word) => `my pin is ${word} thanks`);
const textValue: fc.Arbitrary<Piece> = fc.oneof(
  utterance.map((text) => ({ value: text, secrets: [text] })),
  fc.array(utterance, { minLength: 1, maxLength: 3 }).map((texts) => ({ value: texts, secrets: texts })),
  fc.array(fc.array(utterance, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }).map((texts) => ({ value: texts, secrets: texts.flat() })),
);

/** Free text in any other field with one to four +E.164 numbers in it: each is masked where it stands. */
const separators = fc.constantFrom(" or ", ", ", "; ", " / ", " (", ") ", "\n", " - ", ":");
const freeText: fc.Arbitrary<Piece> = fc.array(fc.tuple(e164, separators), { minLength: 1, maxLength: 4 }).map((parts) => ({
  value: `call ${parts.map(([number, separator]) => `${number}${separator}`).join("")}end`,
  secrets: parts.map(([number]) => number.slice(1)),
}));

/** Keys no platform lists (in any case). */
const neutralKeys = ["id", "note", "meta", "items", "info", "extra", "payload_data"];

/** A key as the platform spells it, or in upper or lower case: a header-like key must match in any case. */
function keysFor(patterns: readonly FieldPattern[]): fc.Arbitrary<string> {
  const named = patterns.flatMap((pattern) =>
    typeof pattern === "string"
      ? [pattern]
      : ["from_number", "to_number", "caller_number", "forwarded_number", "called_number"].filter((name) => pattern.test(name)),
  );
  return fc
    .tuple(fc.constantFrom(...named), fc.constantFrom("as spelled", "upper", "lower"))
    .map(([name, spelling]) => (spelling === "upper" ? name.toUpperCase() : spelling === "lower" ? name.toLowerCase() : name));
}

/** A JSON object mixing phone fields, transcript fields, free text and nested objects and arrays of objects. */
function objects(fields: RedactionFields): fc.Arbitrary<Piece> {
  const phoneEntry = fc.tuple(keysFor(fields.phone), phoneValue);
  const textEntry = fields.text.length > 0 ? fc.tuple(keysFor(fields.text), textValue) : phoneEntry;
  const freeEntry = fc.tuple(fc.constantFrom(...neutralKeys), freeText);
  return fc.letrec<{ object: Piece }>((tie) => {
    const nested = fc.tuple(fc.constantFrom(...neutralKeys), tie("object"));
    const nestedList = fc.tuple(
      fc.constantFrom(...neutralKeys),
      fc
        .array(tie("object"), { minLength: 1, maxLength: 3 })
        .map((items) => ({ value: items.map((item) => item.value), secrets: items.flatMap((item) => item.secrets) })),
    );
    const entry = fc.oneof({ maxDepth: 3, withCrossShrink: true }, phoneEntry, textEntry, freeEntry, nested, nestedList);
    return {
      object: fc.uniqueArray(entry, { minLength: 1, maxLength: 5, selector: ([key]) => key.toLowerCase() }).map((entries) => ({
        value: Object.fromEntries(entries.map(([key, piece]) => [key, piece.value])),
        secrets: entries.flatMap(([, piece]) => piece.secrets),
      })),
    };
  }).object;
}

/** Flat `key=value` pairs, for form bodies and query strings. */
function pairs(fields: RedactionFields): fc.Arbitrary<{ params: URLSearchParams; secrets: string[] }> {
  const phone = fc.tuple(
    keysFor(fields.phone),
    fc.oneof(
      e164.map((n) => ({ value: n, secret: n.slice(1) })),
      digits.map((n) => ({ value: n, secret: n })),
    ),
  );
  const text =
    fields.text.length > 0
      ? fc.tuple(
          keysFor(fields.text),
          utterance.map((t) => ({ value: t, secret: t })),
        )
      : phone;
  const free = fc.tuple(
    fc.constantFrom(...neutralKeys),
    e164.map((n) => ({ value: `call ${n} now`, secret: n.slice(1) })),
  );
  return fc.uniqueArray(fc.oneof(phone, text, free), { minLength: 1, maxLength: 6, selector: ([key]) => key.toLowerCase() }).map((entries) => ({
    params: new URLSearchParams(entries.map(([key, item]): [string, string] => [key, item.value])),
    secrets: entries.map(([, item]) => item.secret),
  }));
}

function assertNoLeak(output: string, secrets: readonly string[], input: string): void {
  const leaked = secrets.filter((secret) => output.includes(secret));
  assert.deepEqual(leaked, [], `leaked ${leaked.join(", ")}\n  in:  ${input}\n  out: ${output}`);
}

// Under `npm run test:mutation` (which sets VWH_MUTATION) a failure is all that counts: shrinking it
// would only turn a killed mutant into a slow timeout.
const runs = { numRuns: 100, endOnFailure: process.env["VWH_MUTATION"] === "1" };
const platforms = await Promise.all(platformIds.map(async (id) => [id, await loadPlatform(id)] as const));

/** The three properties for one field list. */
function properties(fields: RedactionFields): { json(): void; form(): void; query(): void } {
  return {
    json: () =>
      fc.assert(
        fc.property(objects(fields), fc.boolean(), ({ value, secrets }, asList) => {
          const input = JSON.stringify(asList ? [value, [value]] : value);
          const output = redactBody(Buffer.from(input), "application/json", fields).toString();
          assertNoLeak(output, secrets, input);
          // Still the same JSON shape: the same keys in the same places.
          const keys = (json: string) =>
            JSON.stringify(JSON.parse(json), (_key, item: unknown) => (typeof item === "string" || typeof item === "number" ? 0 : item));
          assert.equal(keys(output), keys(input));
        }),
        runs,
      ),
    form: () =>
      fc.assert(
        fc.property(pairs(fields), ({ params, secrets }) => {
          const input = params.toString();
          const output = redactBody(Buffer.from(input), "application/x-www-form-urlencoded", fields).toString();
          assertNoLeak([...new URLSearchParams(output).values()].join("\n"), secrets, input);
        }),
        runs,
      ),
    query: () =>
      fc.assert(
        fc.property(pairs(fields), ({ params, secrets }) => {
          const input = `/webhooks/voice?${params.toString()}`;
          const output = redactPath(input, fields);
          assert.ok(output.startsWith("/webhooks/voice?"), output);
          assertNoLeak([...new URLSearchParams(output.slice(output.indexOf("?") + 1)).values()].join("\n"), secrets, input);
        }),
        runs,
      ),
  };
}

describe("--redact-pii as a property over generated bodies", () => {
  describe("without a --platform (vwh's default fields)", () => {
    const checks = properties(defaultRedactionFields);
    it("JSON bodies: nested objects and arrays, arrays of numbers, several numbers per string", checks.json);
    it("form bodies", checks.form);
    it("query strings", checks.query);
  });

  for (const [id, platform] of platforms) {
    describe(`${id}'s own PII fields`, () => {
      const checks = properties(platform.redaction);
      it("JSON bodies", checks.json);
      it("form bodies", checks.form);
      it("query strings", checks.query);
    });
  }

  it("every platform's fields together (--redact-pii without --platform on a mixed recording)", () => {
    properties(mergeRedactionFields(platforms.map(([, platform]) => platform.redaction))).json();
  });
});

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
    assert.equal(merged.phone.length, 2);
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
