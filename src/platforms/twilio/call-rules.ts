/** How Twilio runs a call, as the driver needs it: redirects it follows, platform times, cookies, small readers of TwiML values. */
import { getSetCookies, Headers } from "undici";
import type { Action, RedirectRule } from "../types.js";
import type { DialOutcome } from "./settings.js";

/**
 * Twilio follows 301, 302, 303 and 307 ("Twilio will only follow redirects for status codes 301, 302, 303,
 * and 307", error 11216, twilio.com/docs/api/errors/11216). It does not say which method the next request
 * uses; it says it follows redirects "just like a normal web browser" (twilio.com/docs/api/2008-08-01/twiml/
 * your_response), and a browser (the Fetch standard's HTTP-redirect fetch, RFC 9110 §15.4) turns a POST
 * into a GET without a body after 301, 302 and 303, and repeats method and body after 307.
 */
export const twilioRedirects: RedirectRule = {
  statuses: [301, 302, 303, 307],
  method: (status, sent) => (status === 307 ? sent : "GET"),
};

/** What the call waits on the caller for. */
export type Listening = { kind: "gather"; action: Action; heardOverPrompt: boolean } | { kind: "record"; action: Action };

export const maxRedirects = 10;
/** How long Twilio waits after speech ends before it posts a speech result (speechTimeout auto). */
export const speechEndMs = 1000;
/** Platform time of a dialled call that an action URL hears about. */
export const dialedCallSeconds = 30;
/** Platform time before a <Dial> that does not connect gives up: busy and failed come back at once, no-answer after Dial@timeout. */
export const unansweredDialMs = (outcome: DialOutcome, timeoutSeconds: number) => (outcome === "no-answer" ? timeoutSeconds * 1000 : outcome === "canceled" ? 0 : 2000);

export const has = (list: unknown, item: string) => Array.isArray(list) && list.includes(item);
export const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
export const seconds = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);

/** Set-Cookie headers arrive joined by ", " (a cookie's Expires has a comma too: split only before a name=). */
export function setCookies(joined: string) {
  const headers = new Headers();
  for (const part of joined.split(/,\s*(?=[^;=,\s]+=)/)) headers.append("set-cookie", part);
  return getSetCookies(headers);
}

