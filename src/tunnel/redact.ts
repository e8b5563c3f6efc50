/**
 * `--redact-pii`: masks phone numbers and transcript text in recorded bodies, so recordings can be
 * shared. Phone numbers keep their length and last two digits (`+15550100001` → `+10000000001`) so
 * handlers that validate E.164 still accept the replay; transcripts become "[redacted]". A redacted body
 * no longer matches its recorded signature: replay it re-signed.
 */
const phonePattern = /\+[1-9]\d{6,14}\b/g;
const transcriptKeys = new Set(["text", "transcript", "utterance", "speechresult", "unstablespeechresult", "transcriptiontext"]);

export function maskPhoneNumbers(text: string): string {
  return text.replace(phonePattern, (number) => `+1${"0".repeat(Math.max(0, number.length - 4))}${number.slice(-2)}`);
}

function redactValue(key: string | undefined, value: unknown): unknown {
  if (typeof value === "string") return key && transcriptKeys.has(key.toLowerCase()) ? "[redacted]" : maskPhoneNumbers(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(undefined, item));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(k, v)]));
  return value;
}

/** Redacts a JSON or form body; anything else gets its phone numbers masked as text. */
export function redactBody(body: Buffer, contentType: string | undefined): Buffer {
  const text = body.toString("utf8");
  if (/json/i.test(contentType ?? "") || /^\s*[{[]/.test(text)) {
    try {
      return Buffer.from(JSON.stringify(redactValue(undefined, JSON.parse(text))));
    } catch {
      // not JSON after all: fall through to text masking
    }
  }
  if (/x-www-form-urlencoded/i.test(contentType ?? "")) {
    const params = new URLSearchParams(text);
    const redacted = new URLSearchParams();
    for (const [key, value] of params) redacted.append(key, redactValue(key, value) as string);
    return Buffer.from(redacted.toString());
  }
  return Buffer.from(maskPhoneNumbers(text));
}

/** Masks phone numbers in header values too (Twilio-style From/To headers, caller id). */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, maskPhoneNumbers(value)]));
}
