/**
 * Delivering one signed webhook over HTTP with undici (keep-alive), measuring latency to the last
 * byte of the reply. Failures are classified, not thrown, so the caller decides what to retry.
 */
import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import { withoutTrailingWhitespace } from "../lib/field-value.js";
import { Agent, request } from "./undici-core.js";

export interface DeliveryRequest {
  url: URL;
  method?: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Aborts the request at once (Ctrl-C); the result is then a failure with code INTERRUPTED. */
  stop?: AbortSignal | undefined;
  /** The clock latency is measured with, in ms (default: performance.now; the engine passes its injected one). */
  now?: () => number;
}

export interface DeliveryResponse {
  ok: true;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  latencyMs: number;
}

export type DeliveryFailureKind = "timeout" | "unreachable" | "network";

export interface DeliveryFailure {
  ok: false;
  kind: DeliveryFailureKind;
  /** One line, e.g. `connection refused (ECONNREFUSED) at 127.0.0.1:3000`. */
  message: string;
  code: string | undefined;
  latencyMs: number;
}

export type DeliveryResult = DeliveryResponse | DeliveryFailure;

/** How an attempt goes out: `deliver` (undici) by default, the fast client in load mode. */
export type Transport = (request: DeliveryRequest) => Promise<DeliveryResult>;

/** A keep-alive agent for a run: one connection pool reused across every event. */
export function createDispatcher(connections = 64): Agent {
  return new Agent({ keepAliveTimeout: 10_000, connections, pipelining: 1 });
}

// Codes that mean nothing answered at the address: the whole run cannot go on (exit 3).
const unreachableCodes: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connect timeout",
};

/** Lower-case names, repeated values joined with ", ", trailing whitespace dropped (undici keeps it). */
function flattenHeaders(headers: Dispatcher.ResponseData["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      flat[name.toLowerCase()] = Array.isArray(value) ? value.map(withoutTrailingWhitespace).join(", ") : withoutTrailingWhitespace(value);
  }
  return flat;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR_SOCKET") return code;
    const nested = (current as { errors?: unknown[] }).errors?.[0];
    current = nested ?? (current as { cause?: unknown }).cause;
  }
  return (error as { code?: string }).code;
}

/**
 * The most of a reply vwh reads (16 MiB). A handler's reply is hostile input: one that streams without
 * end would otherwise fill memory until the timeout. No platform reads replies anywhere near this size.
 */
export const maxReplyBytes = 16 * 1024 * 1024;

/** An undici reply body, read up to maxReplyBytes; undefined (and the body destroyed) past that. */
export async function readReplyBody(body: Dispatcher.ResponseData["body"]): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxReplyBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function replyTooLargeFailure(latencyMs: number): DeliveryFailure {
  return { ok: false, kind: "network", message: `reply over ${maxReplyBytes / 1024 / 1024} MiB: vwh stopped reading it`, code: "REPLY_TOO_LARGE", latencyMs };
}

export function interruptedFailure(latencyMs: number): DeliveryFailure {
  return { ok: false, kind: "network", message: "interrupted", code: "INTERRUPTED", latencyMs };
}

export function timeoutFailure(timeoutMs: number, latencyMs: number): DeliveryFailure {
  return { ok: false, kind: "timeout", message: `no reply within ${timeoutMs} ms`, code: "TIMEOUT", latencyMs };
}

/** A connection error as one line: "unreachable" when nothing answered at the address, else "network". */
export function networkFailure(error: unknown, address: string, latencyMs: number): DeliveryFailure {
  const code = errorCode(error);
  const known = code ? unreachableCodes[code] : undefined;
  if (known) return { ok: false, kind: "unreachable", message: `${known} (${code}) at ${address}`, code, latencyMs };
  const reason = code === "ECONNRESET" || code === "UND_ERR_SOCKET" ? "connection reset by the handler" : (error as Error).message;
  return { ok: false, kind: "network", message: `${reason}${code ? ` (${code})` : ""}`, code, latencyMs };
}

export async function deliver(delivery: DeliveryRequest): Promise<DeliveryResult> {
  const now = delivery.now ?? (() => performance.now());
  const started = now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), delivery.timeoutMs);
  const onStop = () => abort.abort();
  if (delivery.stop?.aborted) abort.abort();
  delivery.stop?.addEventListener("abort", onStop, { once: true });
  const elapsed = () => Math.round((now() - started) * 10) / 10;
  try {
    const response = await request(delivery.url, {
      method: (delivery.method ?? "POST") as Dispatcher.HttpMethod,
      headers: delivery.headers,
      body: delivery.body,
      dispatcher: delivery.dispatcher,
      signal: abort.signal,
    });
    const body = await readReplyBody(response.body);
    if (body === undefined) return replyTooLargeFailure(elapsed());
    return { ok: true, status: response.statusCode, headers: flattenHeaders(response.headers), body, latencyMs: elapsed() };
  } catch (error) {
    const latencyMs = elapsed();
    if (delivery.stop?.aborted) return interruptedFailure(latencyMs);
    if (abort.signal.aborted) return timeoutFailure(delivery.timeoutMs, latencyMs);
    return networkFailure(error, delivery.url.host, latencyMs);
  } finally {
    clearTimeout(timer);
    delivery.stop?.removeEventListener("abort", onStop);
  }
}
