/**
 * The inspecting proxy behind `vwh tunnel`: a node:http server on 127.0.0.1 that forwards each request
 * to the local handler with undici and hands an observation of it to a listener. It never
 * re-serialises (smee-client's lesson): method, path and query, headers and body bytes pass through
 * unchanged both ways, less the hop-by-hop headers that belong to each connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Agent, request, type Dispatcher } from "undici";

const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

export interface ProxiedExchange {
  /** When the request's last byte arrived. */
  receivedAt: Date;
  method: string;
  /** Path and query, as received. */
  path: string;
  /** Request headers as received (lower-case names; repeated ones joined with ", "). */
  headers: Record<string, string>;
  body: Buffer;
  /** What the sender saw: the handler's status, or the proxy's own 413/502/504. */
  status: number;
  latencyMs: number;
  /** Set when the proxy answered itself instead of the handler. */
  proxyError: string | undefined;
}

export interface ProxyOptions {
  /** The handler: `http://localhost:3000`. */
  upstream: URL;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** Called as each request arrives, before forwarding (the recorder journals it here). */
  onRequest?: (exchange: Omit<ProxiedExchange, "status" | "latencyMs" | "proxyError">) => void | Promise<void>;
  /** Called once the reply has been sent. */
  onExchange?: (exchange: ProxiedExchange) => void;
  dispatcher?: Dispatcher;
}

export interface RunningProxy {
  url: string;
  port: number;
  close(): Promise<void>;
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

/** Reads the body up to the limit; undefined when it is over. */
async function readBody(message: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of message) {
    size += (chunk as Buffer).length;
    if (size > limit) over = true;
    else if (!over) chunks.push(chunk as Buffer);
  }
  return over ? undefined : Buffer.concat(chunks);
}

export async function startProxy(options: ProxyOptions, listenPort = 0): Promise<RunningProxy> {
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  const upstreamName = options.upstream.host;

  const handle = async (message: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    const headers = requestHeaders(message);
    const base = { method: message.method ?? "GET", path: message.url ?? "/", headers };
    const finish = (status: number, proxyError?: string) =>
      options.onExchange?.({ ...base, receivedAt, body, status, latencyMs: Math.round((performance.now() - started) * 10) / 10, proxyError });
    let receivedAt = new Date();
    let body: Buffer = Buffer.alloc(0);

    const read = await readBody(message, options.maxBodyBytes);
    receivedAt = new Date();
    if (read === undefined) {
      sendJson(response, 413, "payload_too_large", `the body is over the ${options.maxBodyBytes}-byte limit (--max-body)`);
      return finish(413, "body over --max-body");
    }
    body = read;
    await options.onRequest?.({ ...base, receivedAt, body });

    const forwarded: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (!hopByHop.has(name)) forwarded[name] = value;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.upstreamTimeoutMs);
    try {
      const upstream = await request(new URL(base.path, options.upstream), {
        method: base.method as Dispatcher.HttpMethod,
        headers: forwarded,
        body: body.length > 0 || !["GET", "HEAD"].includes(base.method) ? body : null,
        dispatcher,
        signal: abort.signal,
      });
      const replyBody = Buffer.from(await upstream.body.arrayBuffer());
      const replyHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (value !== undefined && !hopByHop.has(name.toLowerCase())) replyHeaders[name] = value;
      }
      replyHeaders["content-length"] = String(replyBody.length);
      response.writeHead(upstream.statusCode, replyHeaders).end(replyBody);
      finish(upstream.statusCode);
    } catch (error) {
      if (abort.signal.aborted) {
        sendJson(response, 504, "upstream_timeout", `${upstreamName} did not answer within ${options.upstreamTimeoutMs} ms`);
        finish(504, `no reply within ${options.upstreamTimeoutMs} ms`);
      } else {
        const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
        const reason = code === "ECONNREFUSED" ? `nothing is listening on ${upstreamName}` : `${upstreamName} failed: ${(error as Error).message}`;
        sendJson(response, 502, "bad_gateway", reason);
        finish(502, reason);
      }
    } finally {
      clearTimeout(timer);
    }
  };

  const server: Server = createServer((message, response) => {
    handle(message, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, "proxy_error", (error as Error).message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
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
