/**
 * One running tunnel's view of its traffic: each exchange identified (event type, call id), its
 * signature checked, its reply summarised, numbered, and handed to the listeners (the live log, the
 * inspector); the last ones kept so the inspector can replay them — re-signed, or with their original
 * headers. Knows nothing of the terminal or of HTTP serving.
 */
import { randomId } from "../core/ids.js";
import type { Signer, Verdict } from "../signing/types.js";
import { identifyRequest, type Identify, type RequestIdentity } from "./identify.js";
import type { ForwardOutcome, ForwardRequest, HandlerReply, ProxiedExchange } from "./proxy.js";
import { summarizeReply, type ReplySummary } from "./reply-summary.js";

export type ReplayMode = "resign" | "original";

export interface SessionExchange {
  id: number;
  receivedAt: Date;
  request: ForwardRequest;
  identity: RequestIdentity;
  /** undefined when no secret was given. */
  signature: Verdict | undefined;
  status: number;
  latencyMs: number;
  proxyError: string | undefined;
  reply: HandlerReply | undefined;
  replySummary: ReplySummary | undefined;
  replay: { of: number; mode: ReplayMode } | undefined;
}

export interface SessionOptions {
  /** Checks incoming signatures (absent without a secret). */
  verifier: Signer | undefined;
  /** Signs replays; a string says why re-signing is not possible (no secret, a verify-only key). */
  resigner: Signer | string;
  /** Header names that carry the scheme's signature (dropped before re-signing). */
  signatureHeaders: readonly string[];
  toleranceSeconds: number;
  /** The URL the sender addressed, for schemes that sign it (the public URL when there is one). */
  requestUrl: (path: string, headers: Readonly<Record<string, string>>) => string;
  /** Sends a request to the handler (the proxy's forwarder). */
  forward: (request: ForwardRequest) => Promise<ForwardOutcome>;
  /** How many exchanges stay replayable (default 500)… */
  keep?: number;
  /** …within this many bytes of bodies (default 64 MiB), so big bodies cannot exhaust memory. */
  keepBytes?: number;
  now?: () => number;
  /** How requests are identified (the --platform's; a best guess without one). */
  identify?: Identify;
}

export type ExchangeListener = (exchange: SessionExchange) => void;

/** How much of a reply its summary reads: an excerpt and an instruction list never need more. */
const summaryBytes = 64 * 1024;

/**
 * The reply's summary from its first 64 KiB (cut at a character boundary), so a long reply is not
 * decoded whole, several times over, for an 80-character excerpt: 16 MiB of binary took ~100 MiB.
 */
export function summarizeLongReply(reply: HandlerReply): ReplySummary {
  if (reply.body.length <= summaryBytes) return summarizeReply(reply);
  let end = summaryBytes;
  while (end > summaryBytes - 4 && (reply.body[end]! & 0xc0) === 0x80) end--;
  const summary = summarizeReply({ status: reply.status, headers: reply.headers, body: reply.body.subarray(0, end) });
  const bytes = reply.truncated?.bytes ?? reply.body.length;
  return {
    ...summary,
    bytes,
    truncated: reply.truncated !== undefined,
    excerpt: summary.excerpt && /^<\d+ bytes of binary>$/.test(summary.excerpt) ? `<${bytes} bytes of binary>` : summary.excerpt,
  };
}

const sizeOf = (exchange: SessionExchange) => exchange.request.body.length + (exchange.reply?.body.length ?? 0);

export class ReplayError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}

export class TunnelSession {
  private readonly exchanges = new Map<number, SessionExchange>();
  private readonly listeners = new Set<ExchangeListener>();
  private nextId = 1;
  private heldBytes = 0;

  constructor(private readonly options: SessionOptions) {}

  get canResign(): true | string {
    return typeof this.options.resigner === "string" ? this.options.resigner : true;
  }

  /** Exchanges still held, oldest first. */
  list(): SessionExchange[] {
    return [...this.exchanges.values()];
  }

  /** One held exchange; undefined once it has been let go. */
  get(id: number): SessionExchange | undefined {
    return this.exchanges.get(id);
  }

  /** How many exchanges are held at most (the inspector page keeps the same). */
  get keep(): number {
    return this.options.keep ?? 500;
  }

  subscribe(listener: ExchangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records what the proxy saw and tells every listener. */
  observe(exchange: Omit<ProxiedExchange, "forwarded" | "requestId">, replay?: SessionExchange["replay"]): SessionExchange {
    const request: ForwardRequest = { method: exchange.method, path: exchange.path, headers: exchange.headers, body: exchange.body };
    const signature = this.options.verifier?.verify(
      { headers: exchange.headers, body: exchange.body, method: exchange.method, url: this.options.requestUrl(exchange.path, exchange.headers) },
      { now: Math.floor(exchange.receivedAt.getTime() / 1000), toleranceSeconds: this.options.toleranceSeconds },
    );
    const stored: SessionExchange = {
      id: this.nextId++,
      receivedAt: exchange.receivedAt,
      request,
      identity: (this.options.identify ?? identifyRequest)(request),
      signature,
      status: exchange.status,
      latencyMs: exchange.latencyMs,
      proxyError: exchange.proxyError,
      reply: exchange.reply,
      replySummary: exchange.reply && summarizeLongReply(exchange.reply),
      replay,
    };
    this.exchanges.set(stored.id, stored);
    this.heldBytes += sizeOf(stored);
    const keep = this.options.keep ?? 500;
    const keepBytes = this.options.keepBytes ?? 64 * 1024 * 1024;
    for (const [id, old] of this.exchanges) {
      if (id === stored.id || (this.exchanges.size <= keep && this.heldBytes <= keepBytes)) break;
      this.exchanges.delete(id);
      this.heldBytes -= sizeOf(old);
    }
    for (const listener of this.listeners) listener(stored);
    return stored;
  }

  /** The headers of a replay: the original ones, or re-signed with a fresh timestamp. */
  replayHeaders(original: SessionExchange, mode: ReplayMode, nowMs: number): { headers: Record<string, string>; path: string } {
    if (mode === "original") return { headers: { ...original.request.headers }, path: original.request.path };
    const resigner = this.options.resigner;
    if (typeof resigner === "string") throw new ReplayError(`cannot re-sign: ${resigner}`, 409);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(original.request.headers)) {
      if (!this.options.signatureHeaders.includes(name) && name !== "content-length") headers[name] = value;
    }
    const contentType = headers["content-type"] ?? "application/octet-stream";
    const url = this.options.requestUrl(original.request.path, original.request.headers);
    const signed = resigner.sign({
      id: original.identity.eventId ?? randomId("evt"),
      timestamp: Math.floor(nowMs / 1000),
      body: original.request.body,
      method: original.request.method,
      url,
      contentType,
    });
    // Schemes that put signature material in the URL (Twilio's bodySHA256) change the path too.
    const signedUrl = new URL(signed.url);
    const path = signed.url === url ? original.request.path : `${signedUrl.pathname}${signedUrl.search}`;
    return { headers: { ...headers, ...signed.headers }, path };
  }

  /** Sends a held request to the handler again; the replay is observed like any other exchange. */
  async replay(id: number, mode: ReplayMode): Promise<SessionExchange> {
    const original = this.exchanges.get(id);
    if (!original) throw new ReplayError(`no exchange #${id}: only the latest requests are kept`, 404);
    if (!original.request.path.startsWith("/")) throw new ReplayError(`#${id} was refused by the proxy: there is nothing to replay`, 409);
    const now = this.options.now?.() ?? Date.now();
    const { headers, path } = this.replayHeaders(original, mode, now);
    const outcome = await this.options.forward({ method: original.request.method, path, headers, body: original.request.body });
    return this.observe(
      {
        receivedAt: new Date(now),
        method: original.request.method,
        path,
        headers,
        body: original.request.body,
        status: outcome.ok ? outcome.reply.status : outcome.status,
        latencyMs: outcome.latencyMs,
        proxyError: outcome.ok ? undefined : outcome.message,
        reply: outcome.ok ? outcome.reply : undefined,
      },
      { of: id, mode },
    );
  }
}
