/**
 * What Twilio sends (docs/platforms/twilio.md): form-encoded parameters, all strings, and the headers of
 * its webhook client. The base set goes on every request of a call; each trigger adds its own.
 */
import { createHash } from "node:crypto";
import type { CallInfo, WebhookRequest } from "../types.js";

export const formContentType = "application/x-www-form-urlencoded; charset=UTF-8";
export const apiVersion = "2010-04-01";

export type Params = Record<string, string>;

/** A Twilio SID: two letters and 32 hex digits, derived from a seed so a call id always maps to the same SID. */
export function sid(prefix: "AC" | "CA" | "RE" | "MZ" | "CF" | "TR", seed: string): string {
  return `${prefix}${createHash("sha256").update(`${prefix}:${seed}`).digest("hex").slice(0, 32)}`;
}

const sidPattern = /^CA[0-9a-f]{32}$/;

/** The CallSid of a call: its id when it already is one, else one derived from it. */
export function callSidFor(callId: string): string {
  return sidPattern.test(callId) ? callId : sid("CA", callId);
}

/** Where a number is, as Twilio's geo lookup fills it (settings from_city …); absent data is sent as "" (handlers index these keys). */
export interface Place {
  city?: string | undefined;
  state?: string | undefined;
  zip?: string | undefined;
  country?: string | undefined;
}

function geo(prefix: "From" | "To" | "Caller" | "Called", number: string, place: Place): Params {
  return {
    [`${prefix}City`]: place.city ?? "",
    [`${prefix}State`]: place.state ?? "",
    [`${prefix}Zip`]: place.zip ?? "",
    [`${prefix}Country`]: place.country ?? (number.startsWith("+1") ? "US" : ""),
  };
}

export interface CallParamsInput {
  call: CallInfo;
  accountSid: string;
  callSid: string;
  callStatus: string;
  /** From the script's settings (twilio/settings.ts). */
  callToken?: string | undefined;
  from?: Place | undefined;
  to?: Place | undefined;
}

/** The parameters of every voice request of a call (docs/platforms/twilio.md), in Twilio's order of appearance; Caller* is From*, Called* is To*. */
export function baseParams(input: CallParamsInput): Params {
  const from = input.call.from ?? "+15550100001";
  const to = input.call.to ?? "+15550100002";
  const fromPlace = input.from ?? {};
  const toPlace = input.to ?? {};
  return {
    AccountSid: input.accountSid,
    ApiVersion: apiVersion,
    CallSid: input.callSid,
    CallStatus: input.callStatus,
    CallToken: input.callToken ?? "",
    Called: to,
    ...geo("Called", to, toPlace),
    Caller: from,
    ...geo("Caller", from, fromPlace),
    Direction: input.call.direction === "outbound" ? "outbound-api" : "inbound",
    From: from,
    ...geo("From", from, fromPlace),
    To: to,
    ...geo("To", to, toPlace),
  };
}

/** Twilio's webhook client headers (docs/platforms/twilio.md); the signature is added by the engine. */
export function twilioHeaders(idempotencyToken: string, cookies: string | undefined): Record<string, string> {
  return {
    accept: "*/*",
    "accept-encoding": "gzip",
    "i-twilio-idempotency-token": idempotencyToken,
    "user-agent": "TwilioProxy/1.1",
    "x-home-region": "us1",
    ...(cookies && { cookie: cookies }),
  };
}

/** A POST carries the parameters as the form body; a GET carries them in the query string. */
export function formRequest(method: "GET" | "POST", url: URL, params: Params, headers: Record<string, string>): WebhookRequest {
  const encoded = new URLSearchParams(params).toString();
  if (method === "GET") {
    const target = new URL(url.href);
    for (const [name, value] of Object.entries(params)) target.searchParams.append(name, value);
    return { method, url: target, body: Buffer.alloc(0), contentType: undefined, headers };
  }
  return { method, url, body: Buffer.from(encoded), contentType: formContentType, headers };
}

/** RFC 2822 dates, as Twilio's Timestamp: `Sun, 25 Mar 2018 09:53:19 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}
