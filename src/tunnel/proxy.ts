/**
 * The inspecting proxy behind `vwh tunnel`: a node:http server on 127.0.0.1 that forwards each request
 * to the local handler with undici and hands an observation of it to a listener. It never
 * re-serialises (smee-client's lesson): method, path and query, headers and body bytes pass through
 * unchanged both ways, less the hop-by-hop headers that belong to each connection.
 *
 * It is reachable from the internet (ngrok), so it is not an open proxy: every request goes to the
 * configured handler's origin and nowhere else. Only origin-form targets (`/path?query`) are accepted;
 * absolute-form (`http://host/…`), authority-form (CONNECT `host:port`) and asterisk-form get 400
 * (issue 11, defect 1).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import { Agent, dispatch } from "../transport/undici-core.js";
import { NetworkError } from "../core/errors.js";
import { failureMessage, relayBody, ReplyCut } from "./relay.js";

// `expect` too: the proxy answers 100-continue itself, and undici refuses to send it (defect 2).
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
]);

export interface ForwardRequest {
  method: string;
  /** Origin-form path and query. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface HandlerReply {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (set-cookie kept as a list by the proxy). */
  headers: Record<string, string>;
  /** The reply's bytes, or its first `keptReplyBytes` when it was longer (`truncated`). */
  body: Buffer;
  /** Set when `body` holds only the first bytes of a longer reply; the client got all of them. */
  truncated?: { bytes: number };
}

export { keptReplyBytes } from "./relay.js";

export type ForwardOutcome =
  | {
      ok: true;
      reply: HandlerReply;
      rawHeaders: Record<string, string | string[]>;
      latencyMs: number /** The client went away before the whole reply. */;
      cut?: boolean;
    }
  | {
      ok: false;
      status: 502 | 504;
      error: string;
      message: string;
      latencyMs: number;
      /** The handler's status, when it had already reached the client before the reply was cut off. */
      sent?: number;
    };

export interface ProxiedExchange {
  /** Numbers the requests of this proxy, so a request and its reply can be matched. */
  requestId: number;
  /** When the request's last byte arrived. */
  receivedAt: Date;
  method: string;
  /** Path and query, as received. */
  path: string;
  /** Request headers as received (lower-case names; repeated ones joined with ", "). */
  headers: Record<string, string>;
  body: Buffer;
  /** What the sender saw: the handler's status, or the proxy's own 400/413/502/504. */
  status: number;
  latencyMs: number;
  /** Set when the proxy answered itself instead of the handler. */
  proxyError: string | undefined;
  /** The handler's reply, when it gave one. */
  reply: HandlerReply | undefined;
  /** Whether the request reached the handler (and so belongs in a recording). */
  forwarded: boolean;
}

export interface ProxyOptions {
  /** The handler: `http://localhost:3000`. Only its origin is used. */
  upstream: URL;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** Called as each request arrives, before forwarding (the recorder journals it here). */
  onRequest?: (exchange: Omit<ProxiedExchange, "status" | "latencyMs" | "proxyError" | "reply" | "forwarded">) => void | Promise<void>;
  /** Called once the reply has been sent. */
  onExchange?: (exchange: ProxiedExchange) => void | Promise<void>;
  dispatcher?: Dispatcher;
}

export interface RunningProxy {
  url: string;
  port: number;
  /** Sends a request to the handler as the proxy would (the inspector's Replay); the reply is kept bounded. */
  forward(request: ForwardRequest): Promise<ForwardOutcome>;
  close(): Promise<void>;
}

/** `/path?query` — the only request target the proxy forwards (RFC 9112 §3.2.1). */
export function isOriginForm(target: string): boolean {
  return target.startsWith("/");
}

function requestHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < message.rawHeaders.length; i += 2) {
    const name = message.rawHeaders[i]!.toLowerCase();
    const value = message.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

function sendJson(response: ServerResponse, status: number, error: string, message: string): void {
  const body = Buffer.from(JSON.stringify({ error, message }));
  response.writeHead(status, { "content-type": "application/json", "content-length": body.length, connection: "close" }).end(body);
}

/**
 * Reads the body up to the limit; undefined as soon as it is over — the rest is never read (an endless
 * chunked body must not keep the proxy reading until the 413: issue 26, defect 4).
 */
function readBody(message: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: Buffer | undefined) => {
      message.off("data", onData).off("end", onEnd).off("error", onError);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      message.pause();
      done(undefined);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onError = (error: Error) => {
      message.off("data", onData).off("end", onEnd);
      reject(error);
    };
    message.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

/** A 413 that closes the connection once sent, without reading the rest of the body. */
function refuseOversized(message: IncomingMessage, response: ServerResponse, limit: number): void {
  response.on("finish", () => message.socket.destroySoon());
  sendJson(response, 413, "payload_too_large", `the body is over the ${limit}-byte limit (--max-body)`);
}

const elapsedSince = (started: number) => Math.round((performance.now() - started) * 10) / 10;

/**
 * Forwarding to the handler's origin. The path goes to undici's dispatcher as the request target, so
 * no target can change the host: `//evil.example/x` is a path on the handler, not another server.
 */
export function createForwarder(
  upstream: URL,
  timeoutMs: number,
  dispatcher: Dispatcher,
): (request: ForwardRequest, sink?: ServerResponse) => Promise<ForwardOutcome> {
  const origin = upstream.origin;
  const upstreamName = upstream.host;
  return async (request, sink) => {
    const started = performance.now();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (!hopByHop.has(name)) headers[name] = value;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await dispatch(dispatcher, {
        origin,
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body: request.body.length > 0 || !["GET", "HEAD"].includes(request.method) ? request.body : null,
        signal: abort.signal,
      });
      const rawHeaders: Record<string, string | string[]> = {};
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined || hopByHop.has(name.toLowerCase())) continue;
        rawHeaders[name] = value;
        flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      // The timeout is for the handler to answer; a long reply then streams as long as it takes.
      clearTimeout(timer);
      let relayed: Awaited<ReturnType<typeof relayBody>>;
      try {
        relayed = await relayBody(response.body, sink, response.statusCode, rawHeaders);
      } catch (error) {
        if (!(error instanceof ReplyCut)) throw error;
        // Cut off after the status line went out: the client's connection goes too, so it cannot
        // take a part for the whole (ngrok can do no more either).
        sink?.destroy();
        const declared = flat["content-length"] ? ` of ${flat["content-length"]}` : "";
        return {
          ok: false,
          status: 502,
          error: "bad_gateway",
          message: `${upstreamName} closed the connection ${error.bytes} B into its ${response.statusCode} reply${declared}: the reply was cut off`,
          latencyMs: elapsedSince(started),
          ...(sink && { sent: response.statusCode }),
        };
      }
      sink?.end();
      const reply: HandlerReply = {
        status: response.statusCode,
        headers: flat,
        body: relayed.kept,
        ...(relayed.bytes > relayed.kept.length && { truncated: { bytes: relayed.bytes } }),
      };
      return { ok: true, reply, rawHeaders, latencyMs: elapsedSince(started), ...(relayed.cut && { cut: true }) };
    } catch (error) {
      if (abort.signal.aborted) {
        return {
          ok: false,
          status: 504,
          error: "upstream_timeout",
          message: `${upstreamName} did not answer within ${timeoutMs} ms`,
          latencyMs: elapsedSince(started),
        };
      }
      return { ok: false, status: 502, error: "bad_gateway", message: failureMessage(upstreamName, error), latencyMs: elapsedSince(started) };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Listens on 127.0.0.1; a busy port is exit 3 with one line (defect 9), not "unexpected error". */
export async function listenLoopback(server: Server, port: number, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE")
      throw new NetworkError(`${what}: port ${port} on 127.0.0.1 is already in use`, "choose another port, or 0 for any free one");
    if (error.code === "EACCES") throw new NetworkError(`${what}: not allowed to listen on port ${port}`, "ports below 1024 need privileges; choose another");
    throw new NetworkError(`${what}: cannot listen on 127.0.0.1:${port}: ${error.message}`);
  });
  return (server.address() as AddressInfo).port;
}

export async function startProxy(options: ProxyOptions, listenPort = 0): Promise<RunningProxy> {
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  const forward = createForwarder(options.upstream, options.upstreamTimeoutMs, dispatcher);
  let requests = 0;

  const handle = async (message: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    const headers = requestHeaders(message);
    const base = { requestId: ++requests, method: message.method ?? "GET", path: message.url ?? "/", headers };
    let receivedAt = new Date();
    let body: Buffer = Buffer.alloc(0);
    const finish = (status: number, extra: { proxyError?: string; reply?: HandlerReply; forwarded?: boolean }) =>
      options.onExchange?.({
        ...base,
        receivedAt,
        body,
        status,
        latencyMs: elapsedSince(started),
        proxyError: extra.proxyError,
        reply: extra.reply,
        forwarded: extra.forwarded ?? false,
      });

    if (!isOriginForm(base.path)) {
      message.resume();
      sendJson(
        response,
        400,
        "bad_request_target",
        "only origin-form targets (/path?query) are forwarded: this proxy forwards to the local handler and nowhere else",
      );
      return finish(400, { proxyError: `refused request target ${JSON.stringify(base.path.slice(0, 200))}` });
    }
    const declared = Number(message.headers["content-length"] ?? 0);
    const continues = /100-continue/i.test(message.headers.expect ?? "");
    if (declared > options.maxBodyBytes) {
      // Answer before reading a byte of a body we would refuse anyway (before 100 Continue, too).
      refuseOversized(message, response, options.maxBodyBytes);
      return finish(413, { proxyError: "body over --max-body" });
    }
    if (continues) response.writeContinue();

    const read = await readBody(message, options.maxBodyBytes);
    receivedAt = new Date();
    if (read === undefined) {
      refuseOversized(message, response, options.maxBodyBytes);
      return finish(413, { proxyError: "body over --max-body" });
    }
    body = read;
    await options.onRequest?.({ ...base, receivedAt, body });

    // The reply streams to the client as it comes; the exchange keeps a bounded copy.
    const outcome = await forward({ method: base.method, path: base.path, headers, body }, response);
    if (!outcome.ok) {
      if (response.headersSent) response.destroy();
      else sendJson(response, outcome.status, outcome.error, outcome.message);
      // What the sender saw: the handler's status and a cut-off body, or the proxy's own 502/504.
      return finish(outcome.sent ?? outcome.status, {
        proxyError: outcome.status === 504 ? `no reply within ${options.upstreamTimeoutMs} ms` : outcome.message,
        forwarded: true,
      });
    }
    return finish(outcome.reply.status, {
      reply: outcome.reply,
      forwarded: true,
      ...(outcome.cut && { proxyError: "the client closed the connection before the whole reply" }),
    });
  };

  const listener = (message: IncomingMessage, response: ServerResponse) => {
    handle(message, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, "proxy_error", (error as Error).message);
    });
  };
  const server: Server = createServer(listener);
  // Without this listener node would send 100 Continue itself, before the --max-body check.
  server.on("checkContinue", listener);
  // CONNECT host:port (authority-form) would make this a tunnel to anywhere: refuse it.
  server.on("connect", (message: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({
      error: "bad_request_target",
      message: "CONNECT is not supported: this proxy forwards to the local handler and nowhere else",
    });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    void options.onExchange?.({
      requestId: ++requests,
      receivedAt: new Date(),
      method: "CONNECT",
      path: message.url ?? "",
      headers: requestHeaders(message),
      body: Buffer.alloc(0),
      status: 400,
      latencyMs: 0,
      proxyError: `refused CONNECT ${JSON.stringify((message.url ?? "").slice(0, 200))}`,
      reply: undefined,
      forwarded: false,
    });
  });
  const port = await listenLoopback(server, listenPort, "--proxy-port").catch(async (error: unknown) => {
    if (!options.dispatcher) await dispatcher.close();
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    forward: (request) => forward(request),
    close: async () => {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Requests still in flight get a moment, then their sockets go.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      if (!options.dispatcher) await dispatcher.close();
    },
  };
}
