/**
 * The load-mode transport (issue 15): persistent HTTP/1.1 connections per origin on raw net/tls
 * sockets, each request written as one buffer, replies parsed by llhttp, timeouts from one
 * shared deadline queue. It implements delivery.ts's Transport contract exactly, so the engine's
 * retries, duplicates and checks run unchanged on top of it. Without pipelining a connection carries
 * one request at a time, so a slow reply never holds up another request.
 */
import type { ConnectionOptions } from "node:tls";
import { interruptedFailure, networkFailure, type DeliveryRequest, type DeliveryResult, type Transport } from "../undici.js";
import { Connection, type ConnectionOwner, type Origin, type PendingRequest } from "./connection.js";
import { DeadlineQueue, type Scheduler } from "./deadlines.js";

export interface FastClientOptions {
  /** Connections per origin, at most. */
  connections: number;
  /** Requests in flight on one connection (1, the default: no pipelining). */
  pipelining?: number;
  /** Extra TLS options for https targets (tests pass the CA of a self-signed server). */
  tls?: ConnectionOptions;
  scheduler?: Scheduler;
}

export interface FastClient {
  deliver: Transport;
  close(): Promise<void>;
}

// Set by the client itself, never taken from the request's headers.
const ownHeaders = new Set(["host", "content-length", "connection", "transfer-encoding", "keep-alive"]);
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const invalidHeaderValue = /[^\t\x20-\x7e\x80-\xff]/;

class OriginPool implements ConnectionOwner {
  private readonly connections = new Set<Connection>();
  /** Connections that can take another request (most recently freed last). */
  private readonly ready: Connection[] = [];
  private waiting: PendingRequest[] = [];
  private shut = false;

  constructor(
    private readonly origin: Origin,
    private readonly maxConnections: number,
    private readonly pipelining: number,
    readonly deadlines: DeadlineQueue,
  ) {}

  dispatch(request: PendingRequest): void {
    const connection = this.pick();
    if (connection) this.sendOn(connection, request);
    else this.waiting.push(request);
  }

  available(connection: Connection): void {
    if (!connection.inReadyList) {
      connection.inReadyList = true;
      this.ready.push(connection);
    }
    this.drain();
  }

  closed(connection: Connection, unsent: PendingRequest[]): void {
    this.connections.delete(connection);
    if (unsent.length) this.waiting.unshift(...unsent);
    if (this.shut) this.close();
    else this.drain();
  }

  close(): void {
    this.shut = true;
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
    for (const request of this.waiting.splice(0)) request.settle(networkFailure(new Error("the client was closed"), request.address, 0));
  }

  private drain(): void {
    while (this.waiting.length) {
      const connection = this.pick();
      if (!connection) return;
      this.sendOn(connection, this.waiting.shift()!);
    }
  }

  private pick(): Connection | undefined {
    while (this.ready.length) {
      const connection = this.ready.pop()!;
      connection.inReadyList = false;
      if (connection.usable && connection.inflight.length < this.pipelining) return connection;
      if (connection.inflight.length === 0) connection.destroy();
    }
    if (this.connections.size >= this.maxConnections) return undefined;
    const connection = new Connection(this.origin, this);
    this.connections.add(connection);
    return connection;
  }

  private sendOn(connection: Connection, request: PendingRequest): void {
    connection.send(request);
    if (connection.inflight.length < this.pipelining && !connection.inReadyList) {
      connection.inReadyList = true;
      this.ready.push(connection);
    }
  }
}

/** `POST /path HTTP/1.1` and `host`, the part of a request head that only depends on the target. */
class HeadPrefixes {
  private readonly cache = new Map<string, string>();

  get(method: string, url: URL): string {
    const key = `${method} ${url.href}`;
    let prefix = this.cache.get(key);
    if (prefix === undefined) {
      // Schemes that sign the URL (Twilio's bodySHA256) make one per request: keep the cache small.
      if (this.cache.size >= 256) this.cache.clear();
      prefix = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
      this.cache.set(key, prefix);
    }
    return prefix;
  }
}

/** Header names already checked (a run sends the same few names millions of times). */
const checkedNames = new Set<string>();

/** Whether the client sends the header as given (false: it sets that one itself), or why it can't. */
function sendsHeader(name: string): boolean | string {
  if (checkedNames.has(name)) return true;
  if (ownHeaders.has(name.toLowerCase())) return false;
  if (!headerName.test(name)) return `invalid header name ${JSON.stringify(name)}`;
  if (checkedNames.size < 1024) checkedNames.add(name);
  return true;
}

/**
 * Each header's last line, by name: most values repeat from one request to the next (content type,
 * user agent, attempt 1, the signature's second), and a repeat is neither checked nor formatted again.
 */
const lastLines = new Map<string, { value: string; line: string }>();

/** `name: value\r\n`, or why it can't be sent. */
function headerLine(name: string, value: string): string {
  const last = lastLines.get(name);
  if (last !== undefined && last.value === value) return last.line;
  if (invalidHeaderValue.test(value)) return "";
  const line = `${name}: ${value}\r\n`;
  if (last !== undefined) {
    last.value = value;
    last.line = line;
  } else if (lastLines.size < 1024) {
    lastLines.set(name, { value, line });
  }
  return line;
}

function requestBytes(prefix: string, headers: Readonly<Record<string, string>>, body: Buffer, method: string): Buffer | string {
  let head = prefix;
  for (const name in headers) {
    const sends = sendsHeader(name);
    if (sends === false) continue;
    if (typeof sends === "string") return sends;
    const line = headerLine(name, headers[name]!);
    if (line === "") return `invalid value of header ${name}`;
    head += line;
  }
  if (body.length > 0 || (method !== "GET" && method !== "HEAD")) head += `content-length: ${body.length}\r\n`;
  head += "\r\n";
  const bytes = Buffer.allocUnsafe(head.length + body.length);
  bytes.write(head, 0, "latin1");
  body.copy(bytes, head.length);
  return bytes;
}

export function createFastClient(options: FastClientOptions): FastClient {
  const deadlines = new DeadlineQueue(options.scheduler);
  const pools = new Map<string, OriginPool>();
  const prefixes = new HeadPrefixes();
  const pipelining = Math.max(1, options.pipelining ?? 1);

  const poolFor = (url: URL): OriginPool | undefined => {
    let pool = pools.get(url.origin);
    if (pool) return pool;
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    const origin: Origin = {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(url.port) || (url.protocol === "https:" ? 443 : 80),
      tls: options.tls,
    };
    pool = new OriginPool(origin, Math.max(1, options.connections), pipelining, deadlines);
    pools.set(url.origin, pool);
    return pool;
  };

  // The engine passes the run's own URL object for nearly every request: its pool and request-line
  // prefix are looked up once per URL object, not rebuilt from url.origin and url.href each time.
  // (A URL object can be changed in place: the cached entry is checked against its href.)
  let targets = new WeakMap<URL, { method: string; href: string; pool: OriginPool; prefix: string }>();
  const targetOf = (url: URL, method: string): { pool: OriginPool; prefix: string } | undefined => {
    const known = targets.get(url);
    const href = url.href;
    if (known?.method === method && known.href === href) return known;
    const pool = poolFor(url);
    if (!pool) return undefined;
    const target = { method, href, pool, prefix: prefixes.get(method, url) };
    targets.set(url, target);
    return target;
  };

  const deliver = (request: DeliveryRequest): Promise<DeliveryResult> => {
    const now = request.now ?? (() => performance.now());
    const started = now();
    if (request.stop?.aborted) return Promise.resolve(interruptedFailure(0));
    const method = request.method ?? "POST";
    const target = targetOf(request.url, method);
    if (!target) return Promise.resolve(networkFailure(new Error(`unsupported protocol ${request.url.protocol}`), request.url.host, 0));
    const { pool } = target;
    const bytes = requestBytes(target.prefix, request.headers, request.body, method);
    if (typeof bytes === "string") return Promise.resolve(networkFailure(Object.assign(new Error(bytes), { code: "ERR_INVALID_HEADER" }), request.url.host, 0));
    const { stop } = request;
    return new Promise((resolve) => {
      let settle = resolve;
      if (stop) {
        // Ctrl-C settles at once; a reply that still comes is read and dropped.
        let settled = false;
        const onStop = () => settle(interruptedFailure(Math.round((now() - started) * 10) / 10));
        settle = (result) => {
          if (settled) return;
          settled = true;
          stop.removeEventListener("abort", onStop);
          resolve(result);
        };
        stop.addEventListener("abort", onStop, { once: true });
      }
      pool.dispatch({ bytes, head: method === "HEAD", timeoutMs: request.timeoutMs, now, started, address: request.url.host, settle, deadline: undefined });
    });
  };

  return {
    deliver,
    async close() {
      for (const pool of pools.values()) pool.close();
      pools.clear();
      targets = new WeakMap();
      deadlines.close();
    },
  };
}
