/**
 * A reference media-stream agent for vwh's own stream protocol (README "Media streams"): attach it to the
 * HTTP server of examples/voice-handler.js and answer call.started with a `stream` instruction to it.
 * What it does right, and you should keep:
 *
 *  - speaks as soon as the stream starts, and marks the end of each reply to know when it was heard;
 *  - takes turns with energy voice-activity detection: answers 300 ms after the caller stops talking;
 *  - stops talking (clear) the moment the caller talks over it (barge-in);
 *  - checks every message (size, JSON, stream_id) and ignores what it cannot use, never crashing.
 *
 * The "speech" it sends is a tone pattern (a real agent sends text-to-speech audio): μ-law at 8 kHz
 * in whole 20 ms frames, encoded with alawmulaw.
 */
import alawmulaw from "alawmulaw";
import { WebSocketServer } from "ws";

export const MEDIA_PATH = "/media";
const FRAME_SAMPLES = 160; // 20 ms at 8 kHz
const END_OF_SPEECH_FRAMES = 15; // 300 ms of silence ends the caller's turn
const SPEECH_LEVEL = 500;

/** `ms` of a two-tone pattern, in whole 20 ms μ-law frames. */
function tone(ms) {
  const samples = new Int16Array(Math.ceil(ms / 20) * FRAME_SAMPLES);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(4000 * Math.sin((2 * Math.PI * 220 * i) / 8000) + 2000 * Math.sin((2 * Math.PI * 880 * i) / 8000));
  return Buffer.from(alawmulaw.mulaw.encode(samples));
}

const GREETING = tone(400);
const REPLY = tone(800);

function handleStream(socket, log) {
  let streamId;
  let speaking = false; // our audio is playing (sent, and its mark not back yet)
  let callerTalking = false;
  let silentFrames = 0;
  let replies = 0;
  const send = (message) => socket.send(JSON.stringify({ ...message, stream_id: streamId }));
  const say = (audio) => {
    send({ event: "media", media: { payload: audio.toString("base64") } });
    send({ event: "mark", mark: { name: `reply-${++replies}` } });
    speaking = true;
  };

  socket.on("message", (data, binary) => {
    if (binary) return;
    let message;
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    if (message?.event === "start" && typeof message.stream_id === "string") {
      streamId = message.stream_id;
      log(`stream ${streamId} started for call ${message.call_id}`);
      return say(GREETING);
    }
    if (streamId === undefined || message?.stream_id !== streamId) return;
    if (message.event === "mark") speaking = false;
    if (message.event === "dtmf" && message.dtmf?.digit === "0") return socket.close(1000, "handed to an operator");
    if (message.event !== "media" || message.media?.track !== "inbound" || typeof message.media.payload !== "string") return;
    const samples = alawmulaw.mulaw.decode(Buffer.from(message.media.payload, "base64"));
    const loud = samples.some((sample) => Math.abs(sample) > SPEECH_LEVEL);
    if (loud) {
      if (!callerTalking && speaking) {
        send({ event: "clear" }); // barge-in: stop talking at once
        speaking = false;
      }
      callerTalking = true;
      silentFrames = 0;
    } else if (callerTalking && ++silentFrames >= END_OF_SPEECH_FRAMES) {
      callerTalking = false;
      say(REPLY);
    }
  });
  socket.on("error", (error) => log(`stream error: ${error.message}`));
}

/** Serves the agent on `path` of an existing node:http server (WebSocket upgrade). */
export function attachMediaAgent(server, { path = MEDIA_PATH, log = () => {} } = {}) {
  const sockets = new WebSocketServer({ server, path, maxPayload: 256 * 1024 });
  sockets.on("connection", (socket) => handleStream(socket, log));
  return sockets;
}
