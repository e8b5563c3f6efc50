/**
 * What each scheme would have put on a received request (the inspector's "expected vs received", issue 26):
 * the header its signature travels in, and, where the scheme lets it be made again, the signature computed
 * over a given URL. Scheme knowledge lives here, beside the schemes, so the tunnel names none.
 */
import { plivoSignature } from "./plivo.js";
import { twilioSignature } from "./twilio.js";
import type { SchemeSettings, Signer } from "./types.js";

export interface ReceivedForExpectation {
  method: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

export interface ExpectedSignature {
  /** The header the signature travels in (undefined: the scheme's is not known here). */
  header: string | undefined;
  /** The signature the scheme would have made over `url`; undefined where it cannot be made again. */
  at(url: string): string | undefined;
  /**
   * Whether the received signature was made over exactly `url`, where the verifier itself is more forgiving
   * (Twilio's accepts the URL with or without its port); undefined: ask the verifier.
   */
  exactly?: (url: string) => boolean;
}

const isForm = (contentType: string | undefined) => /^application\/x-www-form-urlencoded\b/i.test(contentType ?? "");
const wholeNumber = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);

/** Where a scheme that signs `{id}.{timestamp}.{body}`-like content keeps the id and timestamp of a received request. */
function signedFields(
  scheme: string,
  settings: SchemeSettings,
  headers: Readonly<Record<string, string>>,
): { header: string; id?: string | undefined; timestamp: number | undefined } | undefined {
  if (scheme === "standard") return { header: "webhook-signature", id: headers["webhook-id"], timestamp: wholeNumber(headers["webhook-timestamp"]) };
  if (scheme === "stripe") return { header: "stripe-signature", timestamp: wholeNumber(/(?:^|,)t=(\d+)/.exec(headers["stripe-signature"] ?? "")?.[1]) };
  if (scheme === "retell") {
    const ms = wholeNumber(/^v=(\d+),/i.exec(headers["x-retell-signature"] ?? "")?.[1]);
    return { header: "x-retell-signature", timestamp: ms !== undefined && ms % 1000 === 0 ? ms / 1000 : undefined };
  }
  if (scheme === "hmac" && settings.hmac)
    return { header: settings.hmac.header, id: headers[settings.hmac.idHeader], timestamp: wholeNumber(headers[settings.hmac.timestampHeader]) ?? 0 };
  return undefined;
}

const otherHeaders: Record<string, string> = { telnyx: "telnyx-signature-ed25519", vonage: "authorization" };

/**
 * The expected signature of `request` under `scheme`: `secrets` are the configured ones (the first signs), `signer`
 * signs with it (undefined: a verify-only key). Shared-secret schemes get nothing: their "signature" is the secret.
 */
export function expectedSignature(
  scheme: string,
  settings: SchemeSettings,
  secrets: readonly string[],
  signer: Signer | undefined,
  request: ReceivedForExpectation,
): ExpectedSignature {
  const { headers } = request;
  const primary = secrets[0];
  if (scheme === "twilio") {
    const header = "x-twilio-signature";
    // Per URL: the body's parameters, or none for a bodySHA256 URL (a JSON body).
    const params = (url: string) =>
      URL.canParse(url) && new URL(url).searchParams.has("bodySHA256")
        ? undefined
        : new URLSearchParams(request.method === "GET" ? "" : request.body.toString("utf8"));
    const received = headers[header];
    return {
      header,
      at: (url) => (primary === undefined ? undefined : twilioSignature(primary, url, params(url))),
      exactly: (url) => received !== undefined && secrets.some((token) => twilioSignature(token, url, params(url)) === received),
    };
  }
  if (scheme === "plivo") {
    const nonce = headers["x-plivo-signature-v3-nonce"];
    const method = request.method.toUpperCase();
    const form = isForm(headers["content-type"]) ? new URLSearchParams(request.body.toString("utf8")) : undefined;
    return {
      header: "x-plivo-signature-v3",
      at: (url) =>
        primary !== undefined && nonce !== undefined && URL.canParse(url)
          ? plivoSignature(primary, method, url, method === "POST" ? form : undefined, nonce)
          : undefined,
    };
  }
  const fields = signedFields(scheme, settings, headers);
  if (!fields) return { header: otherHeaders[scheme], at: () => undefined };
  const { timestamp } = fields;
  return {
    header: fields.header,
    at: (url) =>
      signer === undefined || timestamp === undefined
        ? undefined
        : signer.sign({ id: fields.id ?? "", timestamp, body: request.body, method: request.method, url, contentType: headers["content-type"] ?? "" }).headers[
            fields.header
          ],
  };
}
