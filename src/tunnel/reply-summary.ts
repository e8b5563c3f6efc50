/**
 * What the tunnel shows of the handler's reply (issue 11): status, content type, size, and the reply's
 * actions as the platform's reader names them (`Say, Gather`, `talk, input`: reply-reading.ts), else a
 * short body excerpt. Without a reading, a vwh instruction list still gives its instruction types.
 */
import type { HandlerReply } from "./proxy.js";
import type { ReplyReading } from "./reply-reading.js";

export interface ReplySummary {
  status: number;
  contentType: string | undefined;
  bytes: number;
  /** Only the first bytes were kept (a reply over 16 MiB: the client still got all of it). */
  truncated: boolean;
  /** The reply's actions in order, as the reply names them (see platforms/shared/action-names.ts). */
  actions: string[] | undefined;
  /** The start of the body on one line, when there are no actions to show. */
  excerpt: string | undefined;
}

const excerptLength = 80;

export function summarizeReply(reply: HandlerReply, reading?: ReplyReading): ReplySummary {
  const contentType = reply.headers["content-type"];
  const text = reply.body.toString("utf8");
  let actions: string[] | undefined = reading?.actions?.length ? reading.actions : undefined;
  if (!actions && !reading?.actions)
    try {
      const value = JSON.parse(text) as { instructions?: unknown };
      if (Array.isArray(value?.instructions)) {
        actions = value.instructions.map((item: unknown) =>
          item && typeof item === "object" && typeof (item as { type?: unknown }).type === "string" ? (item as { type: string }).type : "?",
        );
      }
    } catch {
      // not JSON: an excerpt instead
    }
  const oneLine = text.replace(/\s+/g, " ").trim();
  const printable = Buffer.from(text, "utf8").equals(reply.body) ? oneLine : `<${reply.body.length} bytes of binary>`;
  const excerpt = actions || reply.body.length === 0 ? undefined : printable.length > excerptLength ? `${printable.slice(0, excerptLength - 1)}…` : printable;
  return { status: reply.status, contentType, bytes: reply.truncated?.bytes ?? reply.body.length, truncated: reply.truncated !== undefined, actions, excerpt };
}
