/**
 * Keeping PII and secrets out of recordings and the inspector.
 *
 * `--redact-pii` goes through named fields — of the query string, a form body and a JSON body at any
 * depth — so a number is masked whatever its format (`447700900123`, `+44 7700 900123`), and transcript
 * fields become "[redacted]". The field list is a parameter: today's vwh list is the default, and each
 * platform can pass its own (README: Platforms and caller scripts). `+E.164` numbers are masked anywhere else too. Masked numbers
 * keep their length, a leading 1 and their last two digits (`+15550100001` → `+10000000001`) so
 * handlers that validate numbers still accept the replay. A redacted body no longer matches its
 * recorded signature: replay it re-signed.
 *
 * Secrets: headers that carry credentials, and any header (or path) holding a configured secret, are
 * masked wherever traffic is stored or shown (issue 11, defect 8).
 */
import { unescape as unescapeLeniently } from "node:querystring";
import type { FieldPattern, RedactionFields } from "../platforms/types.js";

export type { FieldPattern, RedactionFields } from "../platforms/types.js";

/** Without a --platform: vwh's own envelope fields plus the common form fields of the platforms (`_number$` covers phone_number). */
export const defaultRedactionFields: RedactionFields = {
  phone: ["from", "to", "caller", "called", "callerid", "caller_id", "forwardedfrom", "phone", "msisdn", "number", /_number$/i],
  text: ["text", "transcript", "utterance", "speechresult", "unstablespeechresult", "transcriptiontext", "digits"],
};

/** Several field lists as one (`--redact-pii` without a --platform covers every platform's). */
export function mergeRedactionFields(lists: readonly RedactionFields[]): RedactionFields {
  return { phone: lists.flatMap((list) => list.phone), text: lists.flatMap((list) => list.text) };
}

export const redactedMark = "[redacted]";

const phonePattern = /\+[1-9]\d{6,14}\b/g;

/** Field names compare without case: the platforms' lists say `SpeechResult`, `Digits`, `originalTranscript`. */
function matches(patterns: readonly FieldPattern[], key: string): boolean {
  const lower = key.toLowerCase();
  return patterns.some((pattern) => (typeof pattern === "string" ? pattern.toLowerCase() === lower : pattern.test(key)));
}

/**
 * A phone field's value: its digits masked. A value with hardly any digits is not a number at all but a
 * caller's name (Twilio's and Plivo's `CallerName`) and becomes "[redacted]".
 */
function maskPhoneField(value: string): string {
  if (value.trim() === "") return value;
  return value.replace(/\D/g, "").length < 3 ? redactedMark : maskNumber(value);
}

/** Masks the digits of one number, keeping its shape: a leading 1, zeros, the last two digits. */
export function maskNumber(value: string): string {
  const total = value.replace(/\D/g, "").length;
  if (total < 3) return value;
  let seen = 0;
  return value.replace(/\d/g, (digit) => {
    seen += 1;
    return seen === 1 ? "1" : seen > total - 2 ? digit : "0";
  });
}

/** Masks every `+E.164` number in free text. */
export function maskPhoneNumbers(text: string): string {
  return text.replace(phonePattern, maskNumber);
}

function redactValue(key: string | undefined, value: unknown, fields: RedactionFields): unknown {
  if (typeof value === "string") {
    if (key !== undefined && matches(fields.text, key)) return redactedMark;
    if (key !== undefined && matches(fields.phone, key)) return maskPhoneField(value);
    return maskPhoneNumbers(value);
  }
  if (typeof value === "number" && key !== undefined && matches(fields.phone, key)) return Number(maskNumber(String(value)));
  if (Array.isArray(value)) return value.map((item) => redactValue(key, item, fields));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(k, v, fields)]));
  return value;
}

/** Redacts `a=b&c=d` pairs; the text is left as it was when nothing needed masking. */
function redactParams(text: string, fields: RedactionFields): string {
  const params = new URLSearchParams(text);
  const redacted = new URLSearchParams();
  let changed = false;
  for (const [key, value] of params) {
    const masked = redactValue(key, value, fields) as string;
    changed ||= masked !== value;
    redacted.append(key, masked);
  }
  return changed ? redacted.toString() : text;
}

/** Redacts a JSON or form body; anything else gets its `+E.164` numbers masked as text. */
export function redactBody(body: Buffer, contentType: string | undefined, fields: RedactionFields = defaultRedactionFields): Buffer {
  const text = body.toString("utf8");
  const type = contentType ?? "";
  if (/json/i.test(type) || /^\s*[{[]/.test(text)) {
    try {
      return Buffer.from(JSON.stringify(redactValue(undefined, JSON.parse(text), fields)));
    } catch {
      // not JSON after all: fall through
    }
  }
  if (/x-www-form-urlencoded/i.test(type)) return Buffer.from(redactParams(text, fields));
  if (!Buffer.from(text).equals(body)) return body;
  return Buffer.from(maskPhoneNumbers(text));
}

/** Redacts the query string of a request target (`/answer?from=447700900123` → `…from=100000000023`). */
export function redactPath(path: string, fields: RedactionFields = defaultRedactionFields): string {
  const at = path.indexOf("?");
  if (at === -1) return maskPhoneNumbers(path);
  return `${maskPhoneNumbers(path.slice(0, at))}?${redactParams(path.slice(at + 1), fields)}`;
}

/** Masks phone numbers in header values too (Twilio-style From/To headers, caller id). */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, maskPhoneNumbers(value)]));
}

/** Headers that carry credentials whatever their value. */
export const credentialHeaders: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-vapi-secret", "x-api-key"]);

/** The strings to hide for each configured secret: the whole value and, for `whsec_…`, its key part. */
export function secretNeedles(secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const secret of secrets) {
    const trimmed = secret.trim();
    if (trimmed.length < 4) continue;
    needles.add(trimmed);
    // As a form body or query would carry it (`+` → %2B, `/` → %2F), both hex cases.
    for (const encoded of [encodeURIComponent(trimmed), new URLSearchParams({ s: trimmed }).toString().slice(2)]) {
      needles.add(encoded);
      needles.add(encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
    }
    const keyPart = trimmed.startsWith("whsec_") ? trimmed.slice("whsec_".length) : "";
    if (keyPart.length >= 4) needles.add(keyPart);
  }
  // Longest first, so a secret is never half-replaced by a shorter one inside it.
  return [...needles].sort((a, b) => b.length - a.length);
}

export function maskSecrets(text: string, needles: readonly string[]): string {
  let masked = text;
  for (const needle of needles) masked = masked.split(needle).join(redactedMark);
  return masked;
}

/** `body` with every needle's bytes masked (text or binary alike); the same buffer when none occurs. */
export function maskSecretsInBody(body: Buffer, needles: readonly string[]): Buffer {
  let masked = body;
  const mark = Buffer.from(redactedMark);
  for (const needle of needles) {
    const pattern = Buffer.from(needle);
    let at = masked.indexOf(pattern);
    if (at === -1) continue;
    const parts: Buffer[] = [];
    let from = 0;
    for (; at !== -1; at = masked.indexOf(pattern, from)) {
      parts.push(masked.subarray(from, at), mark);
      from = at + pattern.length;
    }
    parts.push(masked.subarray(from));
    masked = Buffer.concat(parts);
  }
  return masked;
}

/** Percent-decoded leniently (node's querystring.unescape): a malformed `%` escape stays as it is, the valid ones around it are decoded. */
function percentDecoded(text: string, plusIsSpace: boolean): string {
  return unescapeLeniently(plusIsSpace ? text.replace(/\+/g, " ") : text);
}

/**
 * Masks secrets in a request target however they are percent-encoded (`%2B`, `%2F`, even `%61`): each
 * path segment and each query name and value is decoded and searched — a malformed escape next to an encoded
 * secret (`%zz-%73ecret`) hides nothing — and one holding a secret is written back masked and encoded; the
 * rest of the target is left byte for byte (issue 26, defect 5).
 */
export function maskSecretsInTarget(target: string, needles: readonly string[]): string {
  if (needles.length === 0) return target;
  const holds = (decoded: string) => needles.some((needle) => decoded.includes(needle));
  // The mark itself stays readable ("[redacted]", as in every other masked place); the rest is encoded.
  const encodeMasked = (decoded: string) => maskSecrets(decoded, needles).split(redactedMark).map(encodeURIComponent).join(redactedMark);
  const at = target.indexOf("?");
  const path = (at === -1 ? target : target.slice(0, at))
    .split("/")
    .map((segment) => {
      const decoded = percentDecoded(segment, false);
      return holds(decoded) ? encodeMasked(decoded) : maskSecrets(segment, needles);
    })
    .join("/");
  if (at === -1) return path;
  const query = target
    .slice(at + 1)
    .split("&")
    .map((pair) =>
      pair
        .split("=")
        .map((part) => {
          const decoded = percentDecoded(part, true);
          return holds(decoded) ? encodeMasked(decoded) : maskSecrets(part, needles);
        })
        .join("="),
    )
    .join("&");
  return `${path}?${query}`;
}

/** Credential headers and any header carrying a configured secret get "[redacted]" as their value. */
export function maskSecretHeaders(headers: Record<string, string>, needles: readonly string[], extraNames: readonly string[] = []): Record<string, string> {
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    masked[name] = credentialHeaders.has(name) || extraNames.includes(name) ? redactedMark : maskSecrets(value, needles);
  }
  return masked;
}
