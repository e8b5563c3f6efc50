/**
 * undici's Agent and request, required from their own modules. undici's index loads every part of
 * undici (fetch, WebSocket, EventSource, caches, mocks, interceptors): ≈0.1 s of CPU on every vwh start,
 * a sixth of `vwh simulate`'s. The modules are undici's own (test/unit/undici-core.test.ts checks that
 * they are the index's exports and behave as its request does), pinned by the lockfile.
 */
import { createRequire } from "node:module";
import type * as Undici from "undici";
import type { Dispatcher } from "undici";

const require = createRequire(import.meta.url);

export const Agent = require("undici/lib/dispatcher/agent.js") as typeof Undici.Agent;
export type Agent = Undici.Agent;

/** undici's `Dispatcher.prototype.request`, which only its index installs on the prototype. */
const dispatcherRequest = require("undici/lib/api/api-request.js") as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;
const { getGlobalDispatcher } = require("undici/lib/global.js") as { getGlobalDispatcher: typeof Undici.getGlobalDispatcher };

/** undici's Set-Cookie parser over these header values (Twilio's cookies); loaded on first use, as fetch's Headers come with it. */
export function parseSetCookies(values: readonly string[]): Undici.Cookie[] {
  const { Headers } = require("undici/lib/web/fetch/headers.js") as { Headers: typeof Undici.Headers };
  const { getSetCookies } = require("undici/lib/web/cookies/index.js") as { getSetCookies: typeof Undici.getSetCookies };
  const headers = new Headers();
  for (const value of values) headers.append("set-cookie", value);
  return getSetCookies(headers);
}

export type RequestOptions = Omit<Dispatcher.RequestOptions, "origin" | "path" | "method"> & { method: Dispatcher.HttpMethod; dispatcher?: Dispatcher };

/** `dispatcher.request(options)`: one request to `options.origin` + `options.path`. */
export function dispatch(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return dispatcherRequest.call(dispatcher, options);
}

/** undici's `request(url, options)`, through `options.dispatcher` or the global one. */
export function request(url: URL, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher = getGlobalDispatcher(), ...rest } = options;
  return dispatch(dispatcher, { ...rest, origin: url.origin, path: `${url.pathname}${url.search}` });
}
