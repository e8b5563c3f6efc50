/**
 * vwh's own media-stream protocol (README "Media streams", issue 17): JSON text frames with base64
 * G.711 μ-law at 8 kHz. From vwh: start, media, dtmf, mark, stop; from the agent: media, mark, clear.
 * Every message carries the stream_id of the start message (and of the media.stream.connected webhook).
 */
import type { Finding } from "../../core/findings.js";
import { bytesPerFrame, type AudioFormat } from "../../media/audio.js";
import { parseMediaEvent, type AudioProtocol, type ParsedMessage, type ProtocolSetup, type Track } from "../../media/protocol.js";

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
      const parsed = parseMediaEvent(data, binary, at, { field: "stream_id", id: streamId, what: "the stream's id" });
      if (parsed.message?.kind !== "audio") return parsed;
      const findings: Finding[] = [];
      const size = bytesPerFrame(format);
      if (parsed.message.bytes.length % size !== 0) {
        findings.push({
          kind: "media",
          path: `${at}.media.payload`,
          message: `expected whole 20 ms frames (a multiple of ${size} bytes of μ-law), got ${parsed.message.bytes.length} bytes`,
        });
      }
      if (!bidirectional)
        findings.push({ kind: "media", path: at, message: "the stream is not bidirectional (bidirectional: false): agent audio is not played" });
      return findings.length ? { message: undefined, findings } : parsed;
    },
  };
}
