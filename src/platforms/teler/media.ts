/**
 * FreJun Teler's media socket (docs/platforms/teler.md, from a captured test and the teler-openai bridge's
 * streamHandlers.ts): `start`, then `audio` with base64 16-bit PCM (L16, little-endian) from Teler;
 * `audio` {audio_b64, chunk_id} and `clear` from the agent. Teler documents no DTMF, mark or stop
 * message: a press step becomes a finding and hangup just closes the socket.
 *
 * What the Teler driver puts in MediaStreamRequest.parameters: `sample_rate` ("8k" | "16k", from the
 * flow reply), `account_id`, `call_app_id`.
 */
import { randomUUID } from "node:crypto";
import { bytesPerSample, type AudioFormat } from "../../media/audio.js";
import { decodeBase64, parseJsonFrame, unknownMessage, type AudioProtocol, type ParsedMessage, type ProtocolSetup } from "../../media/protocol.js";

const agentTypes = ["audio", "clear"] as const;

export function createProtocol(setup: ProtocolSetup): AudioProtocol {
  const { parameters } = setup.request;
  const format: AudioFormat = { encoding: "l16", sampleRate: parameters["sample_rate"] === "16k" ? 16000 : 8000 };
  const streamId = randomUUID();
  let messageId = 0;
  const message = (type: string, body: Record<string, unknown>) => JSON.stringify({ type, message_id: ++messageId, ...body });

  return {
    kind: "audio",
    format,
    chunkMs: 20,
    tracks: ["inbound"],
    opening: () => [
      message("start", {
        account_id: parameters["account_id"] ?? randomUUID(),
        call_app_id: parameters["call_app_id"] ?? randomUUID(),
        call_id: setup.callId,
        stream_id: streamId,
        data: { encoding: "audio/l16", sample_rate: format.sampleRate, channels: 1 },
      }),
    ],
    media: (audio) => message("audio", { stream_id: streamId, data: { audio_b64: audio.toString("base64") } }),
    dtmf: () => undefined,
    markPlayed: () => undefined,
    marksOnClear: false,
    cleared: () => undefined,
    stop: () => undefined,
    parse(data, binary, at): ParsedMessage {
      const json = parseJsonFrame(data, binary, at);
      if ("finding" in json) return { message: undefined, findings: [json.finding] };
      const value = json.value;
      const type = value["type"];
      if (!agentTypes.includes(type as never)) return { message: undefined, findings: [unknownMessage(at, "type", type, agentTypes)] };
      if (type === "clear") return { message: { kind: "clear" }, findings: [] };
      const decoded = decodeBase64(value["audio_b64"], `${at}.audio_b64`);
      if ("finding" in decoded) return { message: undefined, findings: [decoded.finding] };
      if (decoded.bytes.length % bytesPerSample(format) !== 0) {
        return {
          message: undefined,
          findings: [
            { kind: "media", path: `${at}.audio_b64`, message: `expected 16-bit samples (an even number of bytes), got ${decoded.bytes.length} bytes` },
          ],
        };
      }
      if (!Number.isInteger(value["chunk_id"]))
        return {
          message: undefined,
          findings: [{ kind: "media", path: `${at}.chunk_id`, message: `expected an integer chunk_id, got ${JSON.stringify(value["chunk_id"] ?? null)}` }],
        };
      return { message: { kind: "audio", bytes: decoded.bytes }, findings: [] };
    },
  };
}
