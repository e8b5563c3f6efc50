/**
 * How the tunnel's proxy relays the handler's reply (issue 26, defect 4): streamed to the client as it
 * comes, status line first, with the handler's own framing, while a bounded copy is kept for the log,
 * the inspector and the recording; and what to say when the handler fails part way.
 */
import type { ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { maxReplyBytes } from "../transport/undici.js";

/** How much of a reply the tunnel keeps for its log, inspector and recording; the client gets it all. */
export const keptReplyBytes = maxReplyBytes;

/** The handler's reply ended before its last byte; `bytes` of it had been read (and relayed). */
export class ReplyCut extends Error {
  constructor(
    readonly bytes: number,
    override readonly cause: unknown,
  ) {
    super((cause as Error).message);
  }
}

/**
 * The first `keptReplyBytes` of a reply. With a content-length it is one buffer of the right size,
 * filled as the reply streams: the chunks are let go at once and no second copy is made at the end.
 */
class KeptCopy {
  private readonly whole: Buffer | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(headers: Record<string, string | string[]>) {
    const declared = Object.entries(headers).find(([name]) => name.toLowerCase() === "content-length")?.[1];
    const length = typeof declared === "string" && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (length !== undefined) this.whole = Buffer.allocUnsafe(Math.min(length, keptReplyBytes));
  }

  add(chunk: Buffer): void {
    const room = (this.whole?.length ?? keptReplyBytes) - this.size;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (this.whole) part.copy(this.whole, this.size);
    else this.chunks.push(part);
    this.size += part.length;
  }

  bytes(): Buffer {
    if (!this.whole) return Buffer.concat(this.chunks, this.size);
    // Shorter than declared (a HEAD, a cut reply): a copy, so the declared size is not held.
    return this.size === this.whole.length ? this.whole : Buffer.from(this.whole.subarray(0, this.size));
  }
}

/**
 * Streams an undici reply body to `sink` (when given), keeping its first `keptReplyBytes`. The status
 * line and headers go out as soon as the handler sent them and each chunk as it comes, with the
 * framing the handler chose (a content-length, or chunks): a reply of any size, or one that drips
 * (server-sent events, a streamed LLM answer), reaches the client byte for byte and as it is written,
 * as through ngrok. The tunnel's copy is bounded.
 */
export async function relayBody(
  body: Dispatcher.ResponseData["body"],
  sink: ServerResponse | undefined,
  status: number,
  headers: Record<string, string | string[]>,
): Promise<{ kept: Buffer; bytes: number; cut: boolean }> {
  const kept = new KeptCopy(headers);
  let bytes = 0;
  if (sink) sink.writeHead(status, headers).flushHeaders();
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      kept.add(chunk);
      if (!sink) continue;
      if (sink.destroyed) {
        // The client went away: stop reading the handler too.
        body.destroy();
        return { kept: kept.bytes(), bytes, cut: true };
      }
      if (!sink.write(chunk))
        await new Promise<void>((resolve) => {
          const go = () => {
            sink.off("drain", go).off("close", go);
            resolve();
          };
          sink.on("drain", go).on("close", go);
        });
    }
  } catch (error) {
    throw new ReplyCut(bytes, error);
  }
  return { kept: kept.bytes(), bytes, cut: false };
}

/** One line on why the handler's reply could not be forwarded, in the developer's terms. */
export function failureMessage(upstreamName: string, error: unknown): string {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  const text = (error as Error).message.replace(/\s+/g, " ").trim();
  if (code === "ECONNREFUSED") return `nothing is listening on ${upstreamName}`;
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET") return `${upstreamName} closed the connection without replying`;
  if ((error as Error).name === "HTTPParserError")
    return `${upstreamName} sent a reply that is not valid HTTP/1.1: ${/\((.*)\)$/.exec(text)?.[1]?.toLowerCase() ?? text}`;
  if (code === "ERR_ASSERTION" && /statusCode/.test(text)) return `${upstreamName} sent a reply that is not valid HTTP/1.1: a status code below 100`;
  return `${upstreamName} failed: ${text}`;
}
