/**
 * vwh's own media-stream protocol (README "Media streams", issue 17): JSON text frames with base64
 * G.711 μ-law at 8 kHz. From vwh: start, media, dtmf, mark, stop; from the agent: media, mark, clear.
 * Every message carries the stream_id of the start message (and of the media.stream.connected webhook).
 */
import type { Finding } from "../../findings.js";
import { bytesPerFrame, type AudioFormat } from "../../media/audio.js";
import { decodeBase64, parseJsonFrame, requireString, unknownMessage, type AudioProtocol, type ParsedMessage, type ProtocolSetup, type Track } from "../../media/protocol.js";

const agentEvents = ["media", "mark", "clear"] as const;
const format: AudioFormat = { encoding: "mulaw", sampleRate: 8000 };

const tracksFor = (track: string | undefined): Track[] => (track === "outbound" ? ["outbound"] : track === "both" ? ["inbound", "outbound"] : ["inbound"]);

export function createProtocol(setup: ProtocolSetup): AudioProtocol {
  const { parameters } = setup.request;
  const streamId = parameters["stream_id"] ?? setup.newId("str");
  const chunkMs = Number(parameters["chunk_ms"] ?? 20);
  const bidirectional = parameters["bidirectional"] !== "false";
  const tracks = tracksFor(parameters["track"]);
  let sequence = 0;
  const frame = (event: string, body: Record<string, unknown>) => JSON.stringify({ event, sequence: ++sequence, stream_id: streamId, ...body });

  return {
    kind: "audio",
    format,
    chunkMs,
    tracks,
    opening: () => [
      frame("start", {
        call_id: setup.callId,
        tracks,
        media_format: { encoding: "audio/x-mulaw", sample_rate: format.sampleRate, channels: 1 },
        chunk_ms: chunkMs,
        bidirectional,
      }),
    ],
    media: (audio, track, timestampMs) => frame("media", { media: { track, timestamp_ms: timestampMs, payload: audio.toString("base64") } }),
    dtmf: (digit) => frame("dtmf", { dtmf: { digit } }),
    markPlayed: (name) => frame("mark", { mark: { name } }),
    marksOnClear: true,
    cleared: () => undefined,
    stop: () => frame("stop", { stop: { reason: "caller_hangup" } }),
    parse(data, binary, at): ParsedMessage {
      const json = parseJsonFrame(data, binary, at);
      if ("finding" in json) return { message: undefined, findings: [json.finding] };
      const message = json.value;
      const event = message["event"];
      if (!agentEvents.includes(event as never)) return { message: undefined, findings: [unknownMessage(at, "event", event, agentEvents)] };
      if (message["stream_id"] !== streamId) {
        return { message: undefined, findings: [{ kind: "media", path: `${at}.stream_id`, message: `expected ${JSON.stringify(streamId)} (the stream's id), got ${JSON.stringify(message["stream_id"] ?? null)}` }] };
      }
      if (event === "clear") return { message: { kind: "clear" }, findings: [] };
      const body = message[event as string];
      if (typeof body !== "object" || body === null) return { message: undefined, findings: [{ kind: "media", path: `${at}.${String(event)}`, message: "expected an object" }] };
      const fields = body as Record<string, unknown>;
      if (event === "mark") {
        const missing = requireString(fields, "name", `${at}.mark`);
        return missing ? { message: undefined, findings: [missing] } : { message: { kind: "mark", name: fields["name"] as string }, findings: [] };
      }
      const decoded = decodeBase64(fields["payload"], `${at}.media.payload`);
      if ("finding" in decoded) return { message: undefined, findings: [decoded.finding] };
      const findings: Finding[] = [];
      const size = bytesPerFrame(format);
      if (decoded.bytes.length % size !== 0) {
        findings.push({ kind: "media", path: `${at}.media.payload`, message: `expected whole 20 ms frames (a multiple of ${size} bytes of μ-law), got ${decoded.bytes.length} bytes` });
      }
      if (!bidirectional) findings.push({ kind: "media", path: at, message: "the stream is not bidirectional (bidirectional: false): agent audio is not played" });
      return findings.length ? { message: undefined, findings } : { message: { kind: "audio", bytes: decoded.bytes }, findings };
    },
  };
}
