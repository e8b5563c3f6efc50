/**
 * Probing a live handler's signature checking (`verify-signature --url`): one valid request it must
 * accept, then forged, tampered, stale, future, malformed and replayed ones it must refuse.
 */
import type { Dispatcher } from "undici";
import { deliver } from "../transport/undici.js";
import { randomId } from "../core/ids.js";
import type { Platform, WebhookRequest } from "../platforms/types.js";
import { deliveryUrl } from "./address.js";
import type { SchemeSettings, SignatureScheme, Signer } from "../signing/types.js";
import { vwhVersion } from "../core/version.js";

/** `dedup`: the same request again must be refused or answered exactly as the first time (not processed twice). */
export type ProbeExpectation = "accept" | "reject" | "dedup";

export interface ProbeCaseResult {
  name: string;
  expect: ProbeExpectation;
  /** The handler's status; undefined when skipped or when no reply came. */
  status: number | undefined;
  outcome: "as-expected" | "wrongly-accepted" | "wrongly-refused" | "no-reply" | "skipped";
  note: string | undefined;
}

export interface ProbeOptions {
  target: URL;
  /** The URL the platform is configured with and signs (a tunnel's public URL); requests still go to target. */
  publicUrl?: URL;
  /** Whose wire format the probe speaks. */
  platform: Platform;
  scheme: SignatureScheme;
  settings: SchemeSettings;
  signer: Signer;
  toleranceSeconds: number;
  timeoutMs: number;
  dispatcher: Dispatcher;
  now?: () => number;
}

interface ProbeRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface ProbeCase {
  name: string;
  expect: ProbeExpectation;
  /** Returns the request, or a reason the case does not apply to this scheme. */
  build(): ProbeRequest | string;
  /** The case whose reply a 2xx reply must equal (a replayed id must not be processed again). */
  sameReplyAs?: string;
}

/**
 * The same JSON in other bytes (indented): what a platform may send, and what a verifier that hashes
 * `JSON.stringify(req.body)` instead of the raw body gets wrong. Undefined when the body is not JSON.
 */
export function reformatJson(body: Buffer): Buffer | undefined {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    const indented = Buffer.from(JSON.stringify(value, null, 2));
    return indented.equals(body) ? undefined : indented;
  } catch {
    return undefined;
  }
}

/** The platform's first webhook of a call (vwh's call.started, Twilio's incoming-call form post), in its own wire format. */
function probeRequest(platform: Platform, eventId: string, callId: string, url: URL): WebhookRequest {
  const eventType = Object.entries(platform.events).find(([, spec]) => spec.waits)?.[0] ?? Object.keys(platform.events)[0] ?? "probe";
  return platform.encode({
    eventType,
    eventId,
    sequence: 1,
    timestamp: new Date(),
    payload: {},
    call: { callId, from: "+15550100001", to: "+15550100002", direction: "inbound" },
    url,
  });
}

/** The last character of the call id changed: one byte, the text still well-formed. */
function changeCallId(text: string, callId: string): string {
  const at = callId ? text.indexOf(callId) + callId.length - 1 : text.length - 1;
  const last = text[at] === "x" ? "y" : "x";
  return text.slice(0, at) + last + text.slice(at + 1);
}

/**
 * One byte changed where the platform carries the call: the body, or for a GET (Vonage's answer
 * webhook) the query string, which is what such a request signs.
 */
function tamper(request: WebhookRequest, platform: Platform): { body: Buffer; search: string | undefined } {
  const callId =
    platform.identify({ method: request.method, path: `${request.url.pathname}${request.url.search}`, headers: request.headers, body: request.body }).callId ??
    "";
  if (request.method === "GET" && request.url.search) return { body: request.body, search: changeCallId(request.url.search, encodeURIComponent(callId)) };
  return { body: Buffer.from(changeCallId(request.body.toString("utf8"), callId)), search: undefined };
}

export function buildProbeCases(options: ProbeOptions): ProbeCase[] {
  const { scheme, settings, signer, toleranceSeconds } = options;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  const variants = scheme.probes(settings);
  const wrongSigner = scheme.create([{ value: scheme.randomSecret(), source: "(probe)" }], { ...settings, purpose: "sign" });
  const signatureHeaders = new Set(scheme.headers(settings));
  const noTimestamp = `${scheme.name} signatures carry no timestamp`;

  const signedUrl = options.publicUrl ?? options.target;
  const fresh = (url = signedUrl) => {
    const eventId = randomId("evt_probe");
    return { eventId, request: probeRequest(options.platform, eventId, randomId("call_probe"), url) };
  };
  /** Signed over the URL the platform addresses; sent where vwh sends (--url), as `simulate` does. */
  const signWith = (with_: Signer, request: WebhookRequest, eventId: string, timestamp = nowSeconds): ProbeRequest => {
    const signature = with_.sign({
      id: eventId,
      timestamp,
      body: request.body,
      method: request.method,
      url: request.url.href,
      contentType: request.contentType ?? "application/octet-stream",
    });
    const url = deliveryUrl(request.url, options) ?? new URL(options.target.href);
    if (signature.url !== request.url.href) url.search = new URL(signature.url).search;
    const headers = { ...request.headers, ...(request.contentType && { "content-type": request.contentType }), ...signature.headers };
    return { method: request.method, url: url.href, headers, body: request.body };
  };
  const signed = (timestamp = nowSeconds): ProbeRequest => {
    const { eventId, request } = fresh();
    return signWith(signer, request, eventId, timestamp);
  };

  // The valid request, kept so the last cases can replay it (past the tolerance, and within it).
  const captured = fresh();
  const validName = `valid signature${options.publicUrl ? " for the public URL" : ""}`;
  const notBodySigned = variants.signsBody === false ? `${scheme.name} sends a shared secret: it does not sign the body` : undefined;
  /** The body sent indented, signed over the indented bytes or over the compact ones. */
  const reindented = (signedOver: "indented" | "compact"): ProbeRequest | string => {
    if (notBodySigned) return notBodySigned;
    const { eventId, request } = fresh();
    const indented = reformatJson(request.body);
    if (!indented) return "the body is not JSON";
    return { ...signWith(signer, signedOver === "indented" ? { ...request, body: indented } : request, eventId), body: indented };
  };

  return [
    { name: validName, expect: "accept", build: () => signWith(signer, captured.request, captured.eventId) },
    {
      name: "no signature headers",
      expect: "reject",
      build: () => {
        const request = signed();
        return { ...request, headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => !signatureHeaders.has(name))) };
      },
    },
    {
      name: "wrong secret",
      expect: "reject",
      build: () => {
        const { eventId, request } = fresh();
        return signWith(wrongSigner, request, eventId);
      },
    },
    {
      name: "body changed by one byte",
      expect: "reject",
      build: () => {
        if (notBodySigned) return notBodySigned;
        const { eventId, request } = fresh();
        const signed = signWith(signer, request, eventId);
        const { body, search } = tamper(request, options.platform);
        if (search === undefined) return { ...signed, body };
        const url = new URL(signed.url);
        url.search = search;
        return { ...signed, url: url.href };
      },
    },
    {
      name: "signed for the local --url, not the public URL",
      expect: "reject",
      build: () => {
        if (!options.publicUrl || options.publicUrl.href === options.target.href) return "no --public-url given";
        const local = fresh(options.target);
        const request = signWith(signer, local.request, local.eventId);
        const overPublic = signWith(signer, { ...local.request, url: options.publicUrl }, local.eventId);
        if (JSON.stringify(request.headers) === JSON.stringify(overPublic.headers)) return `${scheme.name} signatures do not cover the URL`;
        return request;
      },
    },
    {
      name: `timestamp older than the tolerance (${toleranceSeconds + 60} s)`,
      expect: "reject",
      build: () => (variants.timestamped ? signed(nowSeconds - toleranceSeconds - 60) : noTimestamp),
    },
    {
      name: `timestamp in the future (+${toleranceSeconds + 60} s)`,
      expect: "reject",
      build: () => (variants.timestamped ? signed(nowSeconds + toleranceSeconds + 60) : noTimestamp),
    },
    {
      name: "only an unknown signature version",
      expect: "reject",
      build: () => {
        if (!variants.unknownVersion) return `${scheme.name} signatures have no versions`;
        const request = signed();
        return { ...request, headers: { ...request.headers, ...variants.unknownVersion(request.headers) } };
      },
    },
    {
      name: "valid signature last in a rotated list",
      expect: "accept",
      build: () => {
        if (!variants.rotatedList) return `${scheme.name} sends a single signature`;
        const { eventId, request } = fresh();
        const good = signWith(signer, request, eventId);
        const bad = signWith(wrongSigner, request, eventId);
        return { ...good, headers: { ...good.headers, ...variants.rotatedList(good.headers, bad.headers) } };
      },
    },
    {
      name: "malformed signature header",
      expect: "reject",
      build: () => {
        const request = signed();
        return { ...request, headers: { ...request.headers, ...variants.malformed(request.headers) } };
      },
    },
    {
      name: "valid request replayed after the tolerance",
      expect: "reject",
      build: () => {
        if (!variants.timestamped) return `${noTimestamp}: only dedup on event_id can stop a replay`;
        // The captured request's id and body, as it would look signed one tolerance window ago.
        return signWith(signer, captured.request, captured.eventId, nowSeconds - toleranceSeconds - 1);
      },
    },
    // Verifiers that hash JSON.stringify(req.body) instead of the raw bytes: they refuse the first and accept the second.
    { name: "valid signature, JSON re-indented", expect: "accept", build: () => reindented("indented") },
    { name: "compact JSON's signature, body re-indented", expect: "reject", build: () => reindented("compact") },
    {
      name: "same id replayed inside the tolerance",
      expect: "dedup",
      sameReplyAs: validName,
      build: () => signWith(signer, captured.request, captured.eventId),
    },
  ];
}

export interface ProbeReport {
  cases: ProbeCaseResult[];
  /** Set when the endpoint could not be reached at all. */
  unreachable: string | undefined;
}

/** The probe's cases that tell a wrong URL from a wrong secret: the valid request, and one signed for the local --url. */
export const urlCases = (name: string) => name.startsWith("valid signature") || name.startsWith("signed for the local --url");

/** Runs the probe's cases (`only`: those whose name it accepts; the first, valid one must be among them). */
export async function runProbe(options: ProbeOptions, only: (name: string) => boolean = () => true): Promise<ProbeReport> {
  const results: ProbeCaseResult[] = [];
  const replies = new Map<string, Buffer>();
  for (const probeCase of buildProbeCases(options).filter((candidate) => only(candidate.name))) {
    const request = probeCase.build();
    if (typeof request === "string") {
      results.push({ name: probeCase.name, expect: probeCase.expect, status: undefined, outcome: "skipped", note: request });
      continue;
    }
    const outcome = await deliver({
      url: new URL(request.url),
      method: request.method,
      headers: { "user-agent": `vwh/${vwhVersion()} (signature probe)`, ...request.headers },
      body: request.body,
      timeoutMs: options.timeoutMs,
      dispatcher: options.dispatcher,
    });
    if (!outcome.ok) {
      if (outcome.kind === "unreachable") return { cases: results, unreachable: outcome.message };
      results.push({ name: probeCase.name, expect: probeCase.expect, status: undefined, outcome: "no-reply", note: outcome.message });
      continue;
    }
    const accepted = outcome.status >= 200 && outcome.status < 300;
    if (accepted) replies.set(probeCase.name, outcome.body);
    const first = probeCase.sameReplyAs === undefined ? undefined : replies.get(probeCase.sameReplyAs);
    const processedTwice = accepted && first !== undefined && !first.equals(outcome.body);
    const asExpected = probeCase.expect === "dedup" ? !processedTwice : accepted === (probeCase.expect === "accept");
    const note = processedTwice
      ? "the same id got a different reply: processed twice (keep the reply per id and send it again)"
      : asExpected && !accepted && outcome.status >= 500
        ? "refused with a server error: answer 401 so the platform does not retry"
        : undefined;
    results.push({
      name: probeCase.name,
      expect: probeCase.expect,
      status: outcome.status,
      outcome: asExpected ? "as-expected" : accepted ? "wrongly-accepted" : "wrongly-refused",
      note,
    });
  }
  return { cases: results, unreachable: undefined };
}
