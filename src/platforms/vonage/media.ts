/**
 * Vonage's WebSocket endpoint (`connect` with a websocket endpoint; docs/platforms/vonage.md,
 * developer.vonage.com/voice/voice-api/concepts/websockets): a first text frame
 * `websocket:connected` with the endpoint's content-type and headers, then binary frames of 20 ms of
 * 16-bit little-endian PCM both ways (320 bytes at 8 kHz, 640 at 16 kHz). Text commands from the agent:
 * `{"action":"clear"}` (answered `websocket:cleared`) and `{"action":"notify","payload":{…}}` (answered
 * `websocket:notify` with the payload once the audio before it has played) — from Vonage's AsyncAPI
 * description, unverified against a live call; DTMF as `websocket:dtmf` {digit, duration} is also
 * unverified [MEM].
 *
 * What the Vonage driver puts in MediaStreamRequest.parameters: `content-type` ("audio/l16;rate=8000"
 * | 16000 | 24000) and the endpoint's `headers`, each by name (they go into websocket:connected).
 */
import { bytesPerFrame, type AudioFormat } from "../../media/audio.js";
import { parseJsonFrame, unknownMessage, type AudioProtocol, type ParsedMessage, type ProtocolSetup } from "../../media/protocol.js";

const actions = ["clear", "notify"] as const;

export function createProtocol(setup: ProtocolSetup): AudioProtocol {
  const { parameters } = setup.request;
  const contentType = parameters["content-type"] ?? "audio/l16;rate=16000";
  const rate = Number(/rate=(\d+)/.exec(contentType)?.[1] ?? 16000);
  const format: AudioFormat = { encoding: "l16", sampleRate: [8000, 16000, 24000].includes(rate) ? rate : 16000 };
  const frameSize = bytesPerFrame(format);

  return {
    kind: "audio",
    format,
    chunkMs: 20,
    tracks: ["inbound"],
    opening: () => [JSON.stringify({ ...parameters, event: "websocket:connected", "content-type": contentType })],
    media: (audio) => audio,
    dtmf: (digit) => JSON.stringify({ event: "websocket:dtmf", digit, duration: 250 }),
    markPlayed: (name) => JSON.stringify({ event: "websocket:notify", payload: JSON.parse(name) as unknown }),
    marksOnClear: false,
    cleared: () => JSON.stringify({ event: "websocket:cleared" }),
    stop: () => undefined,
    parse(data, binary, at): ParsedMessage {
      if (binary) {
        if (data.length !== frameSize) {
          return {
            message: undefined,
            findings: [
              {
                kind: "media",
                path: at,
                message: `expected a 20 ms frame of ${format.sampleRate / 1000} kHz L16 (${frameSize} bytes), got ${data.length} bytes`,
              },
            ],
          };
        }
        return { message: { kind: "audio", bytes: data }, findings: [] };
      }
      const json = parseJsonFrame(data, binary, at);
      if ("finding" in json) return { message: undefined, findings: [json.finding] };
      const action = json.value["action"];
      if (!actions.includes(action as never)) return { message: undefined, findings: [unknownMessage(at, "action", action, actions)] };
      if (action === "clear") return { message: { kind: "clear" }, findings: [] };
      const payload = json.value["payload"];
      if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
        return { message: undefined, findings: [{ kind: "media", path: `${at}.payload`, message: "expected an object (echoed back in websocket:notify)" }] };
      }
      return { message: { kind: "mark", name: JSON.stringify(payload) }, findings: [] };
    },
  };
}
