/**
 * Why a signature was refused, the way a developer needs it (issue 26): for schemes that sign the URL
 * (Twilio, Plivo, an hmac template with {url}), the URL vwh checked against and the URLs the platform
 * may have signed instead — http and https, with and without the port, the Host the request came with —
 * and which of them the signature matches; for every scheme it can reproduce, the expected signature
 * beside the received one. Both are masked (first and last 4 characters): a whole signature of a
 * forged request would let whoever sees the page send it. The secret itself is never part of it, and
 * shared-secret schemes (Vapi, bearer), whose "signature" is the secret, show neither value.
 */
import type { SchemeSettings, SignatureScheme, Signer } from "../signing/types.js";
import { plivoSignature } from "../signing/plivo.js";
import { twilioSignature } from "../signing/twilio.js";

export interface UrlCandidate {
  url: string;
  matches: boolean;
}

export interface SignatureExplanation {
  scheme: string;
  /** The URL vwh checked the signature against (public URL + path + query); undefined when the scheme does not sign it. */
  expectedUrl: string | undefined;
  /** URLs the platform may have signed, the expected one first, each with whether the signature matches it. */
  candidates: UrlCandidate[];
  /** The header the signature came in. */
  header: string | undefined;
  /** Masked: the signature vwh computed (for the expected URL), when the scheme lets it be reproduced. */
  expected: string | undefined;
  /** Masked: the signature received. */
  received: string | undefined;
  /** One sentence: what most likely went wrong and what to do. */
  hint: string;
}

export interface ExplainableRequest {
  method: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

export interface ExplainerOptions {
  scheme: SignatureScheme;
  settings: SchemeSettings;
  /** The configured secrets, in order (used here, never returned). */
  secrets: readonly string[];
  verifier: Signer;
  /** Signs with the primary secret (undefined: a verify-only key, nothing to reproduce). */
  signer: Signer | undefined;
  toleranceSeconds: number;
}

export type SignatureExplainer = (request: ExplainableRequest, expectedUrl: string, receivedAt: Date) => SignatureExplanation;

/** `abcd…wxyz`: enough to compare two signatures by eye, not enough to use one. */
export function maskSignature(value: string): string {
  return value.length <= 12 ? "…" : `${value.slice(0, 4)}…${value.slice(-4)}`;
}

const isForm = (contentType: string | undefined) => /^application\/x-www-form-urlencoded\b/i.test(contentType ?? "");
const defaultPort = (protocol: string) => (protocol === "https:" ? "443" : "80");

/** The expected URL first, then http/https × no port / the default port / its own port, on each Host seen. */
export function candidateUrls(expectedUrl: string, headers: Readonly<Record<string, string>>): string[] {
  if (!URL.canParse(expectedUrl)) return [expectedUrl];
  const parsed = new URL(expectedUrl);
  // The path and query as given (URL would normalise them); the URL was built as origin + path.
  const rest = expectedUrl.slice(parsed.origin.length);
  const hosts = new Set([parsed.hostname]);
  for (const name of ["host", "x-forwarded-host"]) {
    const value = headers[name]?.split(",")[0]?.trim();
    if (value && URL.canParse(`http://${value}/`)) hosts.add(new URL(`http://${value}/`).hostname);
  }
  const urls = [expectedUrl];
  for (const host of hosts)
    for (const protocol of [parsed.protocol, parsed.protocol === "https:" ? "http:" : "https:"])
      for (const port of ["", defaultPort(protocol), parsed.port]) urls.push(`${protocol}//${host}${port ? `:${port}` : ""}${rest}`);
  return [...new Set(urls)];
}

/** Where the timestamp and id of a received request are, for schemes whose signature can be made again from them. */
function reproduction(
  scheme: string,
  settings: SchemeSettings,
  headers: Readonly<Record<string, string>>,
): { header: string; id: string; timestamp: number } | undefined {
  const number = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);
  let found: { header: string; id?: string | undefined; timestamp: number | undefined } | undefined;
  if (scheme === "standard") found = { header: "webhook-signature", id: headers["webhook-id"], timestamp: number(headers["webhook-timestamp"]) };
  else if (scheme === "stripe") found = { header: "stripe-signature", timestamp: number(/(?:^|,)t=(\d+)/.exec(headers["stripe-signature"] ?? "")?.[1]) };
  else if (scheme === "retell") {
    const ms = number(/^v=(\d+),/i.exec(headers["x-retell-signature"] ?? "")?.[1]);
    found = { header: "x-retell-signature", timestamp: ms !== undefined && ms % 1000 === 0 ? ms / 1000 : undefined };
  } else if (scheme === "hmac" && settings.hmac)
    found = { header: settings.hmac.header, id: headers[settings.hmac.idHeader], timestamp: number(headers[settings.hmac.timestampHeader]) ?? 0 };
  if (!found || found.timestamp === undefined) return undefined;
  return { header: found.header, id: found.id ?? "", timestamp: found.timestamp };
}

const mainHeader: Record<string, string> = {
  twilio: "x-twilio-signature",
  plivo: "x-plivo-signature-v3",
  telnyx: "telnyx-signature-ed25519",
  vonage: "authorization",
};

export function createSignatureExplainer(options: ExplainerOptions): SignatureExplainer {
  const { scheme, settings, secrets } = options;
  const signsUrl = scheme.signsUrl?.(settings) === true;
  const sharedSecret = scheme.probes(settings).signsBody === false;
  return (request, expectedUrl, receivedAt) => {
    const { headers } = request;
    const contentType = headers["content-type"];
    const form = isForm(contentType) ? new URLSearchParams(request.body.toString("utf8")) : undefined;
    const verifyAt = (url: string) =>
      options.verifier.verify(
        { headers, body: request.body, method: request.method, url },
        { now: Math.floor(receivedAt.getTime() / 1000), toleranceSeconds: options.toleranceSeconds },
      ).valid;
    let header: string | undefined = mainHeader[scheme.name];
    let expected: string | undefined;
    let matches = verifyAt;
    if (scheme.name === "twilio") {
      // Exactly per URL (the verifier itself forgives the port): the body's parameters, or none for a bodySHA256 URL.
      const params = (url: string) =>
        URL.canParse(url) && new URL(url).searchParams.has("bodySHA256")
          ? undefined
          : new URLSearchParams(request.method === "GET" ? "" : request.body.toString("utf8"));
      const received = headers[header!];
      matches = (url) => received !== undefined && secrets.some((token) => twilioSignature(token, url, params(url)) === received);
      if (secrets[0] !== undefined) expected = twilioSignature(secrets[0], expectedUrl, params(expectedUrl));
    } else if (scheme.name === "plivo") {
      const nonce = headers["x-plivo-signature-v3-nonce"];
      if (secrets[0] !== undefined && nonce !== undefined && URL.canParse(expectedUrl))
        expected = plivoSignature(secrets[0], request.method.toUpperCase(), expectedUrl, request.method.toUpperCase() === "POST" ? form : undefined, nonce);
    } else if (options.signer && !sharedSecret) {
      const again = reproduction(scheme.name, settings, headers);
      if (again) {
        header = again.header;
        const signed = options.signer.sign({
          id: again.id,
          timestamp: again.timestamp,
          body: request.body,
          method: request.method,
          url: expectedUrl,
          contentType: contentType ?? "",
        });
        expected = signed.headers[again.header];
      }
    }
    const received = header !== undefined && !sharedSecret ? headers[header] : undefined;
    const candidates = signsUrl ? candidateUrls(expectedUrl, headers).map((url) => ({ url, matches: matches(url) })) : [];
    const signedElsewhere = candidates.find((candidate) => candidate.matches && candidate.url !== expectedUrl);
    let hint: string;
    if (expected !== undefined && received !== undefined && received.split(" ").some((part) => expected!.split(" ").includes(part)))
      hint = "the signature itself is right: the request was refused for the reason above (its timestamp, a header)";
    else if (sharedSecret) hint = `the ${scheme.name} header does not equal the configured secret (compare the secret your platform dashboard shows)`;
    else if (signedElsewhere)
      hint = `the platform signed ${signedElsewhere.url}, vwh checked ${expectedUrl}: configure the webhook URL exactly as your handler rebuilds it (scheme, host, port), or have the handler use the URL the platform was given`;
    else if (signsUrl) hint = "no URL tried matches: the signature was made with another secret (check the auth token), or the body was changed on the way";
    else hint = "the signature was made with another secret, or the body or its timestamp changed on the way";
    return {
      scheme: scheme.name,
      expectedUrl: signsUrl ? expectedUrl : undefined,
      candidates,
      header: received === undefined && expected === undefined ? undefined : header,
      expected: expected === undefined ? undefined : maskSignature(expected),
      received: received === undefined ? undefined : maskSignature(received),
      hint,
    };
  };
}
