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
import { readReply, type ReplyReading } from "./reply-reading.js";
import { summarizeReply, type ReplySummary } from "./reply-summary.js";
import type { SignatureExplainer, SignatureExplanation } from "./signature-explain.js";

export type ReplayMode = "resign" | "original";

/** What the inspector's editor changed before a replay: the body, the path and query. */
export interface ReplayEdit {
  body?: Buffer | undefined;
  path?: string | undefined;
}

export interface ReplayInfo {
  of: number;
  mode: ReplayMode;
  /** The request was edited before it was sent. */
  edited: boolean;
  /**
   * The original's signature was refused, vwh re-signed it with the configured secret, and the handler
   * accepted it: vwh turned a forgery into a request the handler trusts.
   */
  forgery: boolean;
}

export interface SessionExchange {
  id: number;
  receivedAt: Date;
  request: ForwardRequest;
  /** The URL the sender addressed (the public URL + path + query), as signatures are checked against it. */
  url: string;
  identity: RequestIdentity;
  /** undefined when no secret was given. */
  signature: Verdict | undefined;
  status: number;
  latencyMs: number;
  proxyError: string | undefined;
  reply: HandlerReply | undefined;
  replySummary: ReplySummary | undefined;
  /** The reply as the platform's reader reads it (findings, action names); undefined when no platform was recognised. */
  reading: ReplyReading | undefined;
  /** Why the signature was refused (URLs tried, signatures masked); only for refused signatures. */
  explanation: SignatureExplanation | undefined;
  replay: ReplayInfo | undefined;
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
  /** Explains refused signatures (absent without a secret). */
  explain?: SignatureExplainer;
}

/** A request as a replay sends it. */
export interface BuiltReplay {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export type ExchangeListener = (exchange: SessionExchange) => void;

/** How much of a reply its summary reads: an excerpt and an instruction list never need more. */
const summaryBytes = 64 * 1024;

/**
 * The reply's summary from its first 64 KiB (cut at a character boundary), so a long reply is not
 * decoded whole, several times over, for an 80-character excerpt: 16 MiB of binary took ~100 MiB.
 */
export function summarizeLongReply(reply: HandlerReply, reading?: ReplyReading): ReplySummary {
  if (reply.body.length <= summaryBytes) return summarizeReply(reply, reading);
  let end = summaryBytes;
  while (end > summaryBytes - 4 && (reply.body[end]! & 0xc0) === 0x80) end--;
  const summary = summarizeReply({ status: reply.status, headers: reply.headers, body: reply.body.subarray(0, end) }, reading);
  const bytes = reply.truncated?.bytes ?? reply.body.length;
  return {
    ...summary,
    bytes,
    truncated: reply.truncated !== undefined,
    excerpt: summary.excerpt && /^<\d+ bytes of binary>$/.test(summary.excerpt) ? `<${bytes} bytes of binary>` : summary.excerpt,
  };
}

/**
 * Explaining a refusal signs the body again for each URL tried (a dozen HMACs): a forged request from the
 * internet gets that only while it is webhook-sized, so big forged bodies cannot make the tunnel hash for them.
 */
const maxExplainedBytes = 256 * 1024;
const explainable = (request: ForwardRequest) => request.path.startsWith("/") && request.body.length <= maxExplainedBytes;

/** The path without its `bodySHA256` query parameters (Twilio's hash of a JSON body), the rest as written. */
export function withoutBodyHash(path: string): string {
  const at = path.indexOf("?");
  if (at === -1) return path;
  const kept = path
    .slice(at + 1)
    .split("&")
    .filter((pair) => !/^bodySHA256(=|$)/.test(pair));
  return kept.length > 0 ? `${path.slice(0, at)}?${kept.join("&")}` : path.slice(0, at);
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
  private readonly clearListeners = new Set<() => void>();
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

  /** Told when the held exchanges are cleared. */
  onClear(listener: () => void): () => void {
    this.clearListeners.add(listener);
    return () => this.clearListeners.delete(listener);
  }

  /** Lets go of every held exchange (the inspector's Clear); numbering goes on. */
  clear(): void {
    this.exchanges.clear();
    this.heldBytes = 0;
    for (const listener of this.clearListeners) listener();
  }

  /** Records what the proxy saw and tells every listener. */
  observe(exchange: Omit<ProxiedExchange, "forwarded" | "requestId">, replay?: SessionExchange["replay"]): SessionExchange {
    const request: ForwardRequest = { method: exchange.method, path: exchange.path, headers: exchange.headers, body: exchange.body };
    const url = this.options.requestUrl(exchange.path, exchange.headers);
    const signature = this.options.verifier?.verify(
      { headers: exchange.headers, body: exchange.body, method: exchange.method, url },
      { now: Math.floor(exchange.receivedAt.getTime() / 1000), toleranceSeconds: this.options.toleranceSeconds },
    );
    const identity = (this.options.identify ?? identifyRequest)(request);
    const reading = exchange.reply && readReply(identity.platform, identity.eventType, { ...request, url }, exchange.reply, exchange.latencyMs);
    const stored: SessionExchange = {
      id: this.nextId++,
      receivedAt: exchange.receivedAt,
      request,
      url,
      identity,
      signature,
      status: exchange.status,
      latencyMs: exchange.latencyMs,
      proxyError: exchange.proxyError,
      reply: exchange.reply,
      replySummary: exchange.reply && summarizeLongReply(exchange.reply, reading),
      reading,
      explanation: signature && !signature.valid && explainable(request) ? this.options.explain?.(request, url, exchange.receivedAt) : undefined,
      replay: replay && { ...replay, forgery: replay.forgery && exchange.status >= 200 && exchange.status < 300 },
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

  /**
   * A held request as a replay sends it: with its original headers, or re-signed with a fresh timestamp
   * by the tunnel's own scheme and secret; edited first when `edit` says so. The secret stays here.
   */
  buildReplay(id: number, mode: ReplayMode, edit: ReplayEdit = {}, nowMs = this.options.now?.() ?? Date.now()): BuiltReplay {
    const original = this.exchanges.get(id);
    if (!original) throw new ReplayError(`no exchange #${id}: only the latest requests are kept`, 404);
    if (!original.request.path.startsWith("/")) throw new ReplayError(`#${id} was refused by the proxy: there is nothing to replay`, 409);
    const body = edit.body ?? original.request.body;
    const edited = edit.body !== undefined || edit.path !== undefined;
    const requestPath = edit.path ?? original.request.path;
    const method = original.request.method;
    if (mode === "original") {
      const headers = { ...original.request.headers };
      // An edited body gets its own length (undici counts it).
      if (edited) delete headers["content-length"];
      return { method, path: requestPath, headers, body };
    }
    const resigner = this.options.resigner;
    if (typeof resigner === "string") throw new ReplayError(`cannot re-sign: ${resigner}`, 409);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(original.request.headers)) {
      if (!this.options.signatureHeaders.includes(name) && name !== "content-length") headers[name] = value;
    }
    const contentType = headers["content-type"] ?? "application/octet-stream";
    const signAt = (at: string) => {
      const url = this.options.requestUrl(at, original.request.headers);
      const signed = resigner.sign({ id: original.identity.eventId ?? randomId("evt"), timestamp: Math.floor(nowMs / 1000), body, method, url, contentType });
      // Schemes that put signature material in the URL (Twilio's bodySHA256) change the path too.
      const signedUrl = new URL(signed.url);
      return { changed: signed.url !== url, path: signed.url === url ? at : `${signedUrl.pathname}${signedUrl.search}`, headers: signed.headers };
    };
    // A recorded bodySHA256 is the old body's: a scheme that adds its own gets the URL without it.
    const stripped = withoutBodyHash(requestPath);
    const again = stripped !== requestPath ? signAt(stripped) : undefined;
    const signed = again?.changed ? again : signAt(requestPath);
    return { method, path: signed.path, headers: { ...headers, ...signed.headers }, body };
  }

  /** Sends a held request (edited, when asked) to the handler again; the replay is observed like any other exchange. */
  async replay(id: number, mode: ReplayMode, edit: ReplayEdit = {}): Promise<SessionExchange> {
    const now = this.options.now?.() ?? Date.now();
    const built = this.buildReplay(id, mode, edit, now);
    const original = this.exchanges.get(id)!;
    const outcome = await this.options.forward(built);
    return this.observe(
      {
        receivedAt: new Date(now),
        ...built,
        status: outcome.ok ? outcome.reply.status : outcome.status,
        latencyMs: outcome.latencyMs,
        proxyError: outcome.ok ? undefined : outcome.message,
        reply: outcome.ok ? outcome.reply : undefined,
      },
      {
        of: id,
        mode,
        edited: edit.body !== undefined || edit.path !== undefined,
        // Settled in observe: only if the handler accepted it.
        forgery: mode === "resign" && original.signature?.valid === false,
      },
    );
  }
}
