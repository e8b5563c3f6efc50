/**
 * The live web inspector of `vwh tunnel` (issue 11): one static page (static/inspector/) served by
 * node:http on 127.0.0.1, fed by server-sent events, with a Replay endpoint.
 *
 * The recorded traffic must not leak to other sites: the server binds to 127.0.0.1 only, refuses any
 * request whose Host is not its own (a DNS-rebinding page would send its own name), refuses any Origin
 * but its own, and accepts a replay only as a JSON POST from its own origin. Secrets are masked in
 * everything it sends: credential headers, signature headers and configured secret values.
 *
 * Memory stays bounded whatever the subscribers do (issue 26, defect 3): each `/events` stream has a
 * queue of exchange ids, and an exchange is turned into JSON only when the socket has drained, so a
 * subscriber that does not read holds at most one event's bytes. A subscriber so far behind that the
 * session has let go of what it has yet to send (more than `maxQueued` events, by default the 500 the
 * session keeps) is sent a `dropped` notice and disconnected — the page reconnects and starts again
 * from what the server holds — and the tunnel says so. Streams are capped, and a load of /events or the
 * script by another site (`<script src>`, `<img src>`, which send no Origin) is refused on its
 * Fetch-Metadata headers.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Finding } from "../core/findings.js";
import { prettyText } from "../lib/pretty-body.js";
import { handleAction } from "./inspector-api.js";
import type { ExportPolicy } from "./inspector-export.js";
import { listenLoopback } from "./proxy.js";
import { maskSecretHeaders, maskSecrets, maskSecretsInTarget } from "./redact.js";
import type { ReplayMode, SessionExchange, TunnelSession } from "./session.js";
import type { SignatureExplanation } from "./signature-explain.js";

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

export interface FindingView {
  kind: string;
  path: string | null;
  message: string;
}

export interface ReadingView {
  platform: string;
  event_type: string;
  failures: FindingView[];
  warnings: FindingView[];
  /** The reply's actions as it names them (`Say`, `Gather`); null when it was not read as instructions. */
  actions: string[] | null;
  note: string | null;
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
  /** For a refused signature: the URLs tried and the expected vs received signature, masked. */
  signature_explanation: SignatureExplanation | null;
  /** A signature vwh found valid that the handler refused (401/403): what the handler most likely checks differently. */
  handler_refusal: string | null;
  /** The platform that recognised the request. */
  platform: string | null;
  status: number;
  latency_ms: number;
  proxy_error: string | null;
  request: { headers: Record<string, string>; body: BodyView };
  reply: {
    status: number;
    headers: Record<string, string>;
    body: BodyView;
    actions: string[] | null;
    /** The body indented (XML or JSON, as the platform replies), secrets masked; null when it is not one of those. */
    pretty: string | null;
    /** vwh's own findings on the reply, as `vwh simulate` would report them. */
    reading: ReadingView | null;
  } | null;
  replay_of: number | null;
  replay_mode: ReplayMode | null;
  replay_edited: boolean;
  /** Re-signing turned a refused (forged) request into one the handler accepted. */
  replay_forgery: boolean;
}

export interface InspectorOptions {
  session: TunnelSession;
  port: number;
  /** Configured secret values to mask (see `secretNeedles`). */
  secretNeedles: readonly string[];
  /** Header names that carry signatures (masked). */
  signatureHeaders: readonly string[];
  /** How many events a subscriber may be behind before it is disconnected (default: as many as the session keeps). */
  maxQueued?: number;
  /** How many /events streams may be open at once (default 32). */
  maxStreams?: number;
  /** Told when a subscriber is disconnected for falling behind (the tunnel prints it). */
  onNotice?: (text: string) => void;
  /** The handler's origin (`http://localhost:3000`), for Copy as curl. */
  upstream?: string;
  /** How Export records the chosen exchanges (the tunnel's recording policy); absent: no Export. */
  exportPolicy?: ExportPolicy;
  /** Whether the scheme signs the URL (Twilio, Plivo, an hmac template with {url}): said when a handler refuses a valid signature. */
  signsUrl?: boolean;
  /** The largest edited body a replay may send (default 1 MiB; the tunnel's --max-body). */
  maxBodyBytes?: number;
  now?: () => number;
}

export interface RunningInspector {
  url: string;
  port: number;
  /** How many /events streams are open. */
  readonly streams: number;
  close(): Promise<void>;
}

/** `total`: the full size when `body` is only the first bytes the tunnel kept. */
function bodyView(body: Buffer, needles: readonly string[], total = body.length): BodyView {
  const cut = body.length > maxBodyView ? body.subarray(0, maxBodyView) : body;
  const text = cut.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(cut);
  return {
    data: isText ? maskSecrets(text, needles) : cut.toString("base64"),
    encoding: isText ? "utf8" : "base64",
    bytes: total,
    truncated: cut.length < total,
  };
}

/** Pretty bodies are made once per exchange, not once per subscriber. */
const prettyCache = new WeakMap<SessionExchange, string | null>();

function prettyReply(exchange: SessionExchange, needles: readonly string[]): string | null {
  const reply = exchange.reply!;
  let pretty = prettyCache.get(exchange);
  if (pretty === undefined) {
    const text = reply.body.toString("utf8");
    const readable = !reply.truncated && reply.body.length <= maxBodyView && Buffer.from(text, "utf8").equals(reply.body);
    pretty = readable ? (prettyText(text, reply.body.length, reply.headers["content-type"]) ?? null) : null;
    prettyCache.set(exchange, pretty);
  }
  return pretty === null ? null : maskSecrets(pretty, needles);
}

const findingViews = (findings: readonly Finding[], needles: readonly string[]): FindingView[] =>
  findings.map((finding) => ({ kind: finding.kind, path: finding.path ?? null, message: maskSecrets(finding.message, needles) }));

function explanationView(explanation: SignatureExplanation, needles: readonly string[]): SignatureExplanation {
  const url = (text: string) => maskSecretsInTarget(text, needles);
  return {
    ...explanation,
    expectedUrl: explanation.expectedUrl === undefined ? undefined : url(explanation.expectedUrl),
    candidates: explanation.candidates.map((candidate) => ({ url: url(candidate.url), matches: candidate.matches })),
    hint: maskSecrets(explanation.hint, needles),
  };
}

/** A valid signature the handler refused: the usual causes, with the URL vwh checked and what the handler was sent. */
function handlerRefusal(exchange: SessionExchange, options: Pick<InspectorOptions, "signsUrl" | "upstream">): string | null {
  if (exchange.signature?.valid !== true || (exchange.status !== 401 && exchange.status !== 403) || !exchange.reply) return null;
  const said = `vwh checked this signature and it is valid, yet the handler answered ${exchange.status}`;
  if (!options.signsUrl)
    return `${said}: it holds another secret, or checks other bytes than were sent (a body parsed and serialised again is not the body that was signed)`;
  const forwarded = exchange.request.headers["x-forwarded-proto"];
  return (
    `${said}. The signature covers ${exchange.url}; the handler is reached at ${options.upstream ?? "its local address"}${exchange.request.path} ` +
    `(Host: ${exchange.request.headers.host ?? "none"}, X-Forwarded-Proto: ${forwarded ?? "none"}). A handler that rebuilds the URL from its own address ` +
    "checks another URL than the platform signed: give it the public URL (or rebuild it from Host and X-Forwarded-Proto) — or it holds another secret"
  );
}

export function toExchangeView(
  exchange: SessionExchange,
  options: Pick<InspectorOptions, "secretNeedles" | "signatureHeaders" | "signsUrl" | "upstream">,
): ExchangeView {
  const needles = options.secretNeedles;
  const { identity, reply, reading } = exchange;
  return {
    id: exchange.id,
    time: exchange.receivedAt.toISOString(),
    method: exchange.request.method,
    path: maskSecretsInTarget(exchange.request.path, needles),
    event_type: identity.eventType ?? null,
    call_id: identity.callId ?? null,
    event_id: identity.eventId ?? null,
    sequence: identity.sequence ?? null,
    signature:
      exchange.signature === undefined ? null : exchange.signature.valid ? { valid: true, reason: null } : { valid: false, reason: exchange.signature.reason },
    signature_explanation: exchange.explanation ? explanationView(exchange.explanation, needles) : null,
    handler_refusal: maskSecrets(handlerRefusal(exchange, options) ?? "", needles) || null,
    platform: identity.platform?.id ?? null,
    status: exchange.status,
    latency_ms: exchange.latencyMs,
    proxy_error: exchange.proxyError ?? null,
    request: { headers: maskSecretHeaders(exchange.request.headers, needles, options.signatureHeaders), body: bodyView(exchange.request.body, needles) },
    reply: reply
      ? {
          status: reply.status,
          headers: maskSecretHeaders(reply.headers, needles, options.signatureHeaders),
          body: bodyView(reply.body, needles, reply.truncated?.bytes),
          actions: exchange.replySummary?.actions ?? null,
          pretty: prettyReply(exchange, needles),
          reading: reading
            ? {
                platform: reading.platform,
                event_type: reading.eventType,
                failures: findingViews(reading.failures, needles),
                warnings: findingViews(reading.warnings, needles),
                actions: reading.actions ?? null,
                note: reading.note ?? null,
              }
            : null,
        }
      : null,
    replay_of: exchange.replay?.of ?? null,
    replay_mode: exchange.replay?.mode ?? null,
    replay_edited: exchange.replay?.edited ?? false,
    replay_forgery: exchange.replay?.forgery ?? false,
  };
}

const securityHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  response.writeHead(status, { ...securityHeaders, "content-type": type, "content-length": bytes.length }).end(bytes);
}

const sendJson = (response: ServerResponse, status: number, value: unknown) => send(response, status, "application/json", JSON.stringify(value));

/**
 * Fetch-Metadata: a browser says who asked. The page itself (`same-origin`) and the user typing the
 * address (`none`) may; another site — even another port of localhost, which is `same-site` — may not,
 * so a `<script>` or `<img>` pointed at /events cannot hold a stream open. Following a link to the page
 * is allowed (it shows the linking site nothing). Clients that send no such headers (curl, older
 * browsers) are judged on Host and Origin alone.
 */
function crossSiteLoad(message: IncomingMessage, page: boolean): boolean {
  if (page && message.headers["sec-fetch-mode"] === "navigate" && message.headers["sec-fetch-dest"] === "document") return false;
  const site = message.headers["sec-fetch-site"];
  return site !== undefined && site !== "same-origin" && site !== "none";
}

/** One /events subscriber: a queue of exchange ids, written as the socket drains. */
function openStream(
  response: ServerResponse,
  session: TunnelSession,
  view: (exchange: SessionExchange) => ExchangeView,
  maxQueued: number,
  onBehind: () => void,
): { push(id: number): void; notice(event: string, data: unknown): void; close(): void } {
  const queue: number[] = [];
  let waiting = false;
  let closed = false;
  const writeEvent = (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const pump = () => {
    while (!closed && !waiting && queue.length > 0) {
      const exchange = session.get(queue.shift()!);
      if (!exchange) continue; // let go by the session meanwhile: nothing to send
      if (!writeEvent("exchange", view(exchange))) {
        waiting = true;
        response.once("drain", () => {
          waiting = false;
          pump();
        });
      }
    }
  };
  const close = () => {
    closed = true;
    queue.length = 0;
  };
  return {
    push(id) {
      if (closed) return;
      queue.push(id);
      if (queue.length > maxQueued || !session.get(queue[0]!)) {
        close();
        onBehind();
        // The notice goes if the socket can take it; a reader that is stuck loses its connection.
        if (response.writableLength < 64 * 1024)
          writeEvent("dropped", { reason: `more than ${maxQueued} events behind: reconnect to start again from the ${session.keep} latest` });
        response.end();
        setTimeout(() => response.destroy(), 2000).unref();
        return;
      }
      pump();
    },
    /** A small event for every subscriber (`cleared`); behind a stuck reader it waits with the rest. */
    notice(event, data) {
      if (closed) return;
      queue.length = 0;
      writeEvent(event, data);
    },
    close,
  };
}

export async function startInspector(options: InspectorOptions): Promise<RunningInspector> {
  const { session } = options;
  const maxQueued = options.maxQueued ?? session.keep;
  const maxStreams = options.maxStreams ?? 32;
  const streams = new Set<ServerResponse>();
  const view = (exchange: SessionExchange) => toExchangeView(exchange, options);
  let port = 0;
  const ownHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const ownOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const handle = async (message: IncomingMessage, response: ServerResponse) => {
    // DNS rebinding: a hostile page that points its own name at 127.0.0.1 still sends that name.
    if (!ownHosts().has((message.headers.host ?? "").toLowerCase()))
      return send(response, 403, "text/plain", "vwh inspector: wrong Host (open it at the URL vwh tunnel printed)\n");
    const origin = message.headers.origin;
    if (origin !== undefined && !ownOrigins().has(origin)) return send(response, 403, "text/plain", "vwh inspector: requests from other origins are refused\n");
    const url = new URL(message.url ?? "/", `http://127.0.0.1:${port}`);

    if (crossSiteLoad(message, url.pathname === "/"))
      return send(response, 403, "text/plain", "vwh inspector: loads by other sites are refused (Sec-Fetch-Site / Sec-Fetch-Dest)\n");

    if (message.method === "GET" && assets[url.pathname]) {
      const asset = assets[url.pathname]!;
      return send(response, 200, asset.type, await readFile(new URL(asset.file, staticDir)));
    }
    if (message.method === "GET" && url.pathname === "/events") {
      if (streams.size >= maxStreams) return send(response, 503, "text/plain", `vwh inspector: ${maxStreams} live views are open already: close one\n`);
      response.writeHead(200, { ...securityHeaders, "content-type": "text/event-stream", connection: "keep-alive" });
      const canResign = session.canResign;
      response.write(
        `event: hello\ndata: ${JSON.stringify({ keep: session.keep, resign: canResign === true ? { available: true, reason: null } : { available: false, reason: canResign } })}\n\n`,
      );
      const stream = openStream(response, session, view, maxQueued, () =>
        options.onNotice?.(`inspector: a live view fell more than ${maxQueued} events behind and was disconnected`),
      );
      for (const exchange of session.list()) stream.push(exchange.id);
      const unsubscribe = session.subscribe((exchange) => stream.push(exchange.id));
      const unsubscribeClear = session.onClear(() => stream.notice("cleared", {}));
      streams.add(response);
      const heartbeat = setInterval(() => response.writableLength === 0 && response.write(": keep-alive\n\n"), 15_000).unref();
      response.on("close", () => {
        clearInterval(heartbeat);
        stream.close();
        unsubscribe();
        unsubscribeClear();
        streams.delete(response);
      });
      return;
    }
    if (
      await handleAction(message, response, url.pathname, {
        session,
        view,
        secretNeedles: options.secretNeedles,
        upstream: options.upstream,
        exportPolicy: options.exportPolicy,
        maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
        sendJson,
        send,
        now: options.now ?? Date.now,
      })
    )
      return;
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
    get streams() {
      return streams.size;
    },
    close: async () => {
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
