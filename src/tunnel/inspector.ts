/**
 * The live web inspector of `vwh tunnel` (issue 11): one static page (static/inspector/) served by
 * node:http on 127.0.0.1, fed by server-sent events, with a Replay endpoint.
 *
 * The recorded traffic must not leak to other sites: the server binds to 127.0.0.1 only, refuses any
 * request whose Host is not its own (a DNS-rebinding page would send its own name), refuses any Origin
 * but its own, and accepts a replay only as a JSON POST from its own origin. Secrets are masked in
 * everything it sends: credential headers, signature headers and configured secret values.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenLoopback } from "./proxy.js";
import { maskSecretHeaders, maskSecrets } from "./redact.js";
import { ReplayError, type ReplayMode, type SessionExchange, type TunnelSession } from "./session.js";

const staticDir = new URL("../../../static/inspector/", import.meta.url);
const assets: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/inspector.js": { file: "inspector.js", type: "text/javascript; charset=utf-8" },
  "/inspector.css": { file: "inspector.css", type: "text/css; charset=utf-8" },
};

/** Bodies bigger than this are sent cut (the page says so). */
const maxBodyView = 256 * 1024;

export interface BodyView {
  /** UTF-8 text, or base64 when the bytes are not valid UTF-8. */
  data: string;
  encoding: "utf8" | "base64";
  bytes: number;
  truncated: boolean;
}

export interface ExchangeView {
  id: number;
  time: string;
  method: string;
  path: string;
  event_type: string | null;
  call_id: string | null;
  event_id: string | null;
  sequence: number | null;
  signature: { valid: boolean; reason: string | null } | null;
  status: number;
  latency_ms: number;
  proxy_error: string | null;
  request: { headers: Record<string, string>; body: BodyView };
  reply: { status: number; headers: Record<string, string>; body: BodyView; actions: string[] | null } | null;
  replay_of: number | null;
  replay_mode: ReplayMode | null;
}

export interface InspectorOptions {
  session: TunnelSession;
  port: number;
  /** Configured secret values to mask (see `secretNeedles`). */
  secretNeedles: readonly string[];
  /** Header names that carry signatures (masked). */
  signatureHeaders: readonly string[];
}

export interface RunningInspector {
  url: string;
  port: number;
  close(): Promise<void>;
}

function bodyView(body: Buffer, needles: readonly string[]): BodyView {
  const cut = body.length > maxBodyView ? body.subarray(0, maxBodyView) : body;
  const text = cut.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(cut);
  return {
    data: isText ? maskSecrets(text, needles) : cut.toString("base64"),
    encoding: isText ? "utf8" : "base64",
    bytes: body.length,
    truncated: cut.length < body.length,
  };
}

export function toExchangeView(exchange: SessionExchange, options: Pick<InspectorOptions, "secretNeedles" | "signatureHeaders">): ExchangeView {
  const needles = options.secretNeedles;
  const { identity, reply } = exchange;
  return {
    id: exchange.id,
    time: exchange.receivedAt.toISOString(),
    method: exchange.request.method,
    path: maskSecrets(exchange.request.path, needles),
    event_type: identity.eventType ?? null,
    call_id: identity.callId ?? null,
    event_id: identity.eventId ?? null,
    sequence: identity.sequence ?? null,
    signature: exchange.signature === undefined ? null : exchange.signature.valid ? { valid: true, reason: null } : { valid: false, reason: exchange.signature.reason },
    status: exchange.status,
    latency_ms: exchange.latencyMs,
    proxy_error: exchange.proxyError ?? null,
    request: { headers: maskSecretHeaders(exchange.request.headers, needles, options.signatureHeaders), body: bodyView(exchange.request.body, needles) },
    reply: reply
      ? {
          status: reply.status,
          headers: maskSecretHeaders(reply.headers, needles, options.signatureHeaders),
          body: bodyView(reply.body, needles),
          actions: exchange.replySummary?.actions ?? null,
        }
      : null,
    replay_of: exchange.replay?.of ?? null,
    replay_mode: exchange.replay?.mode ?? null,
  };
}

const securityHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  response.writeHead(status, { ...securityHeaders, "content-type": type, "content-length": bytes.length }).end(bytes);
}

const sendJson = (response: ServerResponse, status: number, value: unknown) => send(response, status, "application/json", JSON.stringify(value));

async function readSmallBody(message: IncomingMessage, limit = 4096): Promise<string | undefined> {
  let text = "";
  for await (const chunk of message) {
    text += String(chunk);
    if (text.length > limit) return undefined;
  }
  return text;
}

export async function startInspector(options: InspectorOptions): Promise<RunningInspector> {
  const { session } = options;
  const streams = new Set<ServerResponse>();
  const view = (exchange: SessionExchange) => toExchangeView(exchange, options);
  let port = 0;
  const ownHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const ownOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const handle = async (message: IncomingMessage, response: ServerResponse) => {
    // DNS rebinding: a hostile page that points its own name at 127.0.0.1 still sends that name.
    if (!ownHosts().has((message.headers.host ?? "").toLowerCase())) return send(response, 403, "text/plain", "vwh inspector: wrong Host (open it at the URL vwh tunnel printed)\n");
    const origin = message.headers.origin;
    if (origin !== undefined && !ownOrigins().has(origin)) return send(response, 403, "text/plain", "vwh inspector: requests from other origins are refused\n");
    const url = new URL(message.url ?? "/", `http://127.0.0.1:${port}`);

    if (message.method === "GET" && assets[url.pathname]) {
      const asset = assets[url.pathname]!;
      return send(response, 200, asset.type, await readFile(new URL(asset.file, staticDir)));
    }
    if (message.method === "GET" && url.pathname === "/events") {
      response.writeHead(200, { ...securityHeaders, "content-type": "text/event-stream", connection: "keep-alive" });
      const write = (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const canResign = session.canResign;
      write("hello", { resign: canResign === true ? { available: true, reason: null } : { available: false, reason: canResign } });
      for (const exchange of session.list()) write("exchange", view(exchange));
      const unsubscribe = session.subscribe((exchange) => write("exchange", view(exchange)));
      streams.add(response);
      const heartbeat = setInterval(() => response.write(": keep-alive\n\n"), 15_000).unref();
      response.on("close", () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(response);
      });
      return;
    }
    const replayMatch = /^\/api\/exchanges\/(\d+)\/replay$/.exec(url.pathname);
    if (message.method === "POST" && replayMatch) {
      // A replay changes the handler's state: only the page itself may ask (own Origin, JSON body).
      if (origin === undefined) return sendJson(response, 403, { error: "a replay needs the page's Origin header" });
      if (!/^application\/json\b/i.test(message.headers["content-type"] ?? "")) return sendJson(response, 415, { error: "expected application/json" });
      const text = await readSmallBody(message);
      let mode: unknown;
      try {
        mode = (JSON.parse(text ?? "") as { mode?: unknown }).mode;
      } catch {
        mode = undefined;
      }
      if (mode !== "resign" && mode !== "original") return sendJson(response, 400, { error: 'expected {"mode": "resign" | "original"}' });
      try {
        const replayed = await session.replay(Number(replayMatch[1]), mode);
        return sendJson(response, 200, view(replayed));
      } catch (error) {
        if (error instanceof ReplayError) return sendJson(response, error.status, { error: error.message });
        throw error;
      }
    }
    if (message.method !== "GET" && message.method !== "POST") return send(response, 405, "text/plain", "method not allowed\n");
    return send(response, 404, "text/plain", "not found\n");
  };

  const server = createServer((message, response) => {
    handle(message, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: (error as Error).message });
      else response.destroy();
    });
  });
  port = await listenLoopback(server, options.port, "--inspect-port");
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: async () => {
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
