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
import { expectedSignature } from "../signing/expected-signature.js";

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

export function createSignatureExplainer(options: ExplainerOptions): SignatureExplainer {
  const { scheme, settings, secrets } = options;
  const signsUrl = scheme.signsUrl?.(settings) === true;
  const sharedSecret = scheme.probes(settings).signsBody === false;
  return (request, expectedUrl, receivedAt) => {
    const { headers } = request;
    const verifyAt = (url: string) =>
      options.verifier.verify(
        { headers, body: request.body, method: request.method, url },
        { now: Math.floor(receivedAt.getTime() / 1000), toleranceSeconds: options.toleranceSeconds },
      ).valid;
    const reproduced = expectedSignature(scheme.name, settings, secrets, options.signer, request);
    const { header } = reproduced;
    const matches = reproduced.exactly ?? verifyAt;
    const expected = sharedSecret ? undefined : reproduced.at(expectedUrl);
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
