/**
 * --redact-pii as a property (issue 30): over generated JSON bodies (objects in arrays in objects, arrays
 * of arrays of numbers, several numbers in one string), form bodies and query strings, with every
 * platform's own PII fields, no phone number and no transcript that went in comes out — whatever the
 * case of the field names (Twilio's From, Vonage's dtmfAnswer, Vapi's twilioPhoneNumber: these properties
 * failed, as todo, until issue 26's case-insensitive matching landed). Each generated piece carries what
 * must not survive it, so the test needs no second implementation of the rules. The same cases spelled
 * out, and the edges no generator reaches, are in redaction-cases.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadPlatform, platformIds } from "../../src/platforms/registry.js";
import type { FieldPattern, RedactionFields } from "../../src/platforms/types.js";
import { defaultRedactionFields, mergeRedactionFields, redactBody, redactPath } from "../../src/tunnel/redact.js";

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
