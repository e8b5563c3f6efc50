/**
 * Where and how one attempt goes: the URL (the public URL signed, --url reached), the headers and a fresh signature.
 */
import { type PlannedEvent } from "./expand-flow.js";
import { attemptHeader } from "../platforms/types.js";
import { vwhVersion } from "../core/version.js";
import { type SimulationOptions } from "./options.js";

export const hopByHop = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-connection",
  "expect",
]);

export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
}

export type DeliveryTarget = Pick<SimulationOptions, "signer" | "signatureHeaders" | "keepSignatures" | "target" | "publicUrl">;

/** Recorded headers less hop-by-hop ones and (unless kept) the old signature; or the platform's own. */
export function forwardedHeaders(planned: PlannedEvent, options: DeliveryTarget): Record<string, string> {
  if (planned.origin.kind === "built") return copyHeaders({}, planned.origin.request.headers);
  const headers: Record<string, string> = {};
  const keep = options.keepSignatures === true;
  for (const [name, value] of Object.entries(planned.origin.headers)) {
    if (hopByHop.has(name) || (!keep && options.signatureHeaders.includes(name))) continue;
    headers[name] = value;
  }
  return headers;
}

/**
 * Where a request the platform addresses to `addressed` really goes. The platform knows the public URL
 * (what the handler behind a tunnel sees, and what it signs); vwh sends to --url. The configured URL maps
 * onto --url, another path on the public origin onto the same path at --url's origin, and any other
 * origin is not followed: vwh only ever talks to the handler it was pointed at.
 */
export function deliveryUrl(addressed: URL, options: Pick<SimulationOptions, "target" | "publicUrl">): URL | undefined {
  const publicUrl = options.publicUrl ?? options.target;
  if (addressed.href === publicUrl.href) return new URL(options.target.href);
  if (addressed.origin !== publicUrl.origin && addressed.origin !== options.target.origin) return undefined;
  return new URL(`${addressed.pathname}${addressed.search}`, options.target.origin);
}

/**
 * Where a recorded request is replayed (issue 11, defect 4): its recorded path and query on --url's
 * origin, unless --url has a path (or query) of its own, which then wins. Only an origin-form path is
 * kept, and it is appended to the origin as text, so a recording can never send a replay elsewhere.
 */
export function replayUrl(target: URL, recordedPath: string | undefined): URL {
  const targetHasPath = target.pathname !== "/" || target.search !== "";
  if (targetHasPath || recordedPath === undefined || !recordedPath.startsWith("/")) return target;
  return new URL(`${target.origin}${recordedPath}`);
}

/** Where one webhook goes (`url`, on --url) and the URL the platform addressed and signs (`addressed`). */
export function deliveryAddress(planned: PlannedEvent, options: Pick<SimulationOptions, "target" | "publicUrl">): { url: URL; addressed: URL } {
  // Built requests go where the platform addressed them; recorded ones to their recorded path (issue 11).
  const { origin } = planned;
  const addressed = origin.kind === "built" ? origin.request.url : replayUrl(options.publicUrl ?? options.target, origin.path);
  // The configured URL itself (nearly every webhook) is sent to --url as is: no URL to build per request.
  const url =
    origin.kind === "built"
      ? addressed.href === (options.publicUrl ?? options.target).href
        ? options.target
        : (deliveryUrl(addressed, options) ?? options.target)
      : replayUrl(options.target, origin.path);
  return { url, addressed };
}

/** Headers and URL of one attempt: a fresh signature and timestamp each time, the same body. */
export function prepareDelivery(planned: PlannedEvent, options: DeliveryTarget, attempt: number, nowMs: number): OutgoingRequest {
  const headers = forwardedHeaders(planned, options);
  // A GET carries no body, so no content type (Twilio's GET webhooks put their parameters in the query).
  if (planned.method !== "GET" || planned.body.length > 0) headers["content-type"] = planned.contentType;
  headers["user-agent"] ??= userAgent();
  // The attempt counter goes only where the platform sends one (the vwh envelope; a replay of one).
  if (Object.hasOwn(headers, attemptHeader)) headers[attemptHeader] = String(attempt);
  let { url, addressed } = deliveryAddress(planned, options);
  if (options.keepSignatures && planned.origin.kind === "recorded") return { url, headers };
  const signed = options.signer!.sign({
    id: planned.eventId,
    timestamp: Math.floor(nowMs / 1000),
    body: planned.body,
    method: planned.method,
    url: addressed.href,
    contentType: planned.contentType,
  });
  // Schemes that put signature material in the URL (Twilio's bodySHA256) change its query (on a copy:
  // the URL above may be the run's own).
  if (signed.url !== addressed.href) {
    url = new URL(url.href);
    url.search = new URL(signed.url).search;
  }
  return { url, headers: copyHeaders(headers, signed.headers) };
}

/**
 * Copies headers into `target` property by property. On the hot path (every attempt) this replaces `{ ...headers }` and
 * `Object.assign`: on node 20, adding properties to a spread clone costs ≈0.6 µs each (V8 gives the clone a map outside
 * the transition tree), which made building one request's headers ≈5 µs of the engine's ≈16 µs per event.
 */
export function copyHeaders(target: Record<string, string>, source: Readonly<Record<string, string>>): Record<string, string> {
  for (const name in source) target[name] = source[name]!;
  return target;
}

export let cachedUserAgent: string | undefined;
export const userAgent = () => (cachedUserAgent ??= `vwh/${vwhVersion()}`);
