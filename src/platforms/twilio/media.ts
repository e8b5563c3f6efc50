/**
 * Twilio Media Streams (`<Connect><Stream>`, `<Start><Stream>`) as the socket's message set
 * (docs/platforms/twilio.md; twilio.com/docs/voice/media-streams/websocket-messages): connected, start, media
 * (20 ms μ-law 8 kHz, base64), dtmf, mark, stop from Twilio; media, mark, clear from the agent.
 *
 * What the Twilio driver puts in MediaStreamRequest.parameters: `accountSid`, `callSid`, `track`
 * (inbound_track | outbound_track | both_tracks), `bidirectional` ("false" for `<Start><Stream>`), and
 * every `<Parameter>` by its name (they become start.customParameters). Its X-Twilio-Signature over the
 * wss URL goes in MediaStreamRequest.headers.
 */
import { randomBytes } from "node:crypto";
import type { AudioFormat } from "../../media/audio.js";
import { parseMediaEvent, type AudioProtocol, type ParsedMessage, type ProtocolSetup, type Track } from "../../media/protocol.js";

const format: AudioFormat = { encoding: "mulaw", sampleRate: 8000 };
const startFields = new Set(["accountSid", "callSid", "track", "bidirectional"]);
const sid = (prefix: string) => `${prefix}${randomBytes(16).toString("hex")}`;

const tracksFor = (track: string | undefined): Track[] =>
  track === "outbound_track" ? ["outbound"] : track === "both_tracks" ? ["inbound", "outbound"] : ["inbound"];

export function createProtocol(setup: ProtocolSetup): AudioProtocol {
  const { parameters } = setup.request;
  const streamSid = sid("MZ");
  const accountSid = parameters["accountSid"] ?? sid("AC");
  const callSid = parameters["callSid"] ?? setup.callId;
  const bidirectional = parameters["bidirectional"] !== "false";
  const tracks = tracksFor(parameters["track"]);
  const customParameters = Object.fromEntries(Object.entries(parameters).filter(([name]) => !startFields.has(name)));
  let sequence = 0;
  const chunks: Record<Track, number> = { inbound: 0, outbound: 0 };
  const message = (event: string, body: Record<string, unknown>) => JSON.stringify({ event, sequenceNumber: String(++sequence), streamSid, ...body });

  return {
    kind: "audio",
    format,
    chunkMs: 20,
    tracks,
    opening: () => [
      JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }),
      message("start", {
        start: { accountSid, streamSid, callSid, tracks, customParameters, mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } },
      }),
    ],
    media: (audio, track, timestampMs) =>
      message("media", { media: { track, chunk: String(++chunks[track]), timestamp: String(timestampMs), payload: audio.toString("base64") } }),
    dtmf: (digit) => message("dtmf", { dtmf: { track: "inbound_track", digit } }),
    markPlayed: (name) => message("mark", { mark: { name } }),
    marksOnClear: true,
    cleared: () => undefined,
    stop: () => message("stop", { stop: { accountSid, callSid } }),
    parse(data, binary, at): ParsedMessage {
      const parsed = parseMediaEvent(data, binary, at, { field: "streamSid", id: streamSid, what: "the start message's streamSid" });
      if (parsed.message?.kind === "audio" && !bidirectional)
        return {
          message: undefined,
          findings: [{ kind: "media", path: at, message: "a <Start><Stream> is one-way: Twilio does not play audio sent back on it" }],
        };
      return parsed;
    },
  };
}
