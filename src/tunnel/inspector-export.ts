/**
 * The inspector's Export: the exchanges ticked on the page as a recording, in the format `vwh tunnel
 * --record` writes (the same events and replies, credentials dropped, secrets masked, PII redacted under
 * --redact-pii), carrying the platform so `vwh simulate <recording>` replays it without a flag.
 */
import { recordingSchema, type Recording } from "../files/call-flow.js";
import { isPlatformId } from "../platforms/registry.js";
import { toRecordedEvent, toRecordedResponse, type RecordingPolicy } from "./recorder.js";
import type { SessionExchange } from "./session.js";

export interface ExportPolicy extends RecordingPolicy {
  /** The public URL a request was addressed to, when there is one (as --record stores it). */
  url: (path: string, headers: Readonly<Record<string, string>>) => string | undefined;
}

/** Reached the handler (the proxy refused neither its target nor its size), so it can be replayed. */
export const exportable = (exchange: SessionExchange) => exchange.request.path.startsWith("/") && (exchange.reply !== undefined || exchange.status >= 502);

/** The platform the recording speaks: the tunnel's --platform, else the one platform that recognised every request. */
function platformOf(exchanges: readonly SessionExchange[], policy: ExportPolicy): Recording["platform"] {
  if (policy.platform) return policy.platform;
  const seen = new Set(exchanges.map((exchange) => exchange.identity.platform?.id));
  const [only] = seen;
  return seen.size === 1 && only !== undefined && isPlatformId(only) ? only : undefined;
}

export function exportRecording(exchanges: readonly SessionExchange[], policy: ExportPolicy, now: Date): Recording {
  const chosen = exchanges.filter(exportable);
  const platform = platformOf(chosen, policy);
  const recording = {
    version: 1,
    name: `Exported from the vwh inspector ${now.toISOString()}`,
    ...(platform && { platform }),
    description: `${chosen.length} request${chosen.length === 1 ? "" : "s"} exported from the vwh tunnel inspector; replay with vwh simulate, check with vwh verify-signature --recording.`,
    events: chosen.map((exchange) => {
      const { request } = exchange;
      const event = toRecordedEvent(
        {
          receivedAt: exchange.receivedAt,
          method: request.method,
          path: request.path,
          url: policy.url(request.path, request.headers),
          headers: request.headers,
          body: request.body,
        },
        { ...policy, identify: () => exchange.identity },
      );
      if (exchange.reply) event.raw = { ...event.raw, response: toRecordedResponse(exchange.reply, exchange.latencyMs, policy) };
      return event;
    }),
  };
  // What is offered for download is what vwh simulate reads: checked by the same schema.
  return recordingSchema.parse(recording);
}
