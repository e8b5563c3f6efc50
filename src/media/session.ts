/**
 * An audio media stream as the platform runs it (issue 17): 20 ms frames of the caller's side of the
 * script in real time (paced through the run's injected `wait`), the agent's audio played out at the
 * same pace (marks acknowledged when reached, `clear` honoured), and per turn the time to the agent's
 * first audio after the caller stopped, its audio total, and whether it stopped when interrupted.
 */
import type WebSocket from "ws";
import type { Finding } from "../findings.js";
import type { StreamEnd } from "../platforms/types.js";
import { bytesPerFrame, durationMs, encode, frames, loadWav, samplesPerFrame, synthesizeSpeech } from "./audio.js";
import type { AudioProtocol, Outgoing } from "./protocol.js";
import { closeSocket, pingBarrier } from "./socket.js";
import { streamTiming, type StreamClock, type StreamScript, type StreamStep, type TurnMedia } from "./script.js";

/** Audio an agent may queue ahead of playback (Vonage buffers about a minute; vwh allows two). */
const maxQueuedMs = 120_000;

type Queued = { kind: "audio"; bytes: Buffer } | { kind: "mark"; name: string };

interface TurnState {
  /** When the caller stopped (the stream's start for the turn that opened it); first audio counts from here. */
  reference: number | undefined;
  firstAudioAt: number | undefined;
  lastAudioAt: number | undefined;
  audioBytes: number;
  firstAudioLimitMs: number | undefined;
  /** The caller began talking over the agent (undefined: no interruption in this turn). */
  interrupt: { at: number; speechMs: number } | undefined;
  clearAt: number | undefined;
  marksSent: number;
  marksAcknowledged: number;
  findings: Finding[];
}

const newTurn = (reference: number | undefined, firstAudioLimitMs: number | undefined): TurnState => ({
  reference, firstAudioAt: undefined, lastAudioAt: undefined, audioBytes: 0, firstAudioLimitMs, interrupt: undefined, clearAt: undefined, marksSent: 0, marksAcknowledged: 0, findings: [],
});

export class AudioSession {
  readonly #socket: WebSocket;
  readonly #protocol: AudioProtocol;
  readonly #clock: StreamClock;
  readonly #script: StreamScript;
  readonly #protocolId: string;
  readonly #silence: Int16Array;
  #received = 0;
  #closed: StreamEnd | undefined;
  #playback: Queued[] = [];
  /** Bytes of agent audio in #playback. */
  #queuedBytes = 0;
  #playingSince: number | undefined;
  #turn: TurnState;
  #due: number;
  #mediaMs = 0;
  #chunks: Record<"inbound" | "outbound", Buffer[]> = { inbound: [], outbound: [] };

  constructor(socket: WebSocket, protocol: AudioProtocol, protocolId: string, clock: StreamClock, script: StreamScript, firstAudioLimitMs: number | undefined) {
    this.#socket = socket;
    this.#protocol = protocol;
    this.#protocolId = protocolId;
    this.#clock = clock;
    this.#script = script;
    this.#silence = new Int16Array(samplesPerFrame(protocol.format));
    this.#due = clock.now();
    this.#turn = newTurn(clock.now(), firstAudioLimitMs);
    socket.on("message", (data: Buffer, binary: boolean) => this.#onMessage(data, binary));
    socket.on("close", () => (this.#closed ??= { kind: "closed_by_agent" }));
    socket.on("error", (error) => {
      this.#turn.findings.push({ kind: "media", message: `the media stream failed: ${error.message}` });
      this.#closed ??= { kind: "failed", message: error.message };
    });
  }

  async run(): Promise<StreamEnd> {
    for (const frame of this.#protocol.opening()) this.#send(frame);
    await this.#agentPhase();
    for (;;) {
      if (this.#closed) return this.#finish(this.#closed);
      this.#record();
      const step = this.#script.advance();
      this.#turn = newTurn(undefined, step?.firstAudioLimitMs);
      if (!step || step.input.kind === "hangup") {
        if (step?.afterMs) await this.#silent(step.afterMs);
        return this.#hangup();
      }
      await this.#play(step);
    }
  }

  async #play(step: StreamStep): Promise<void> {
    const { input } = step;
    const turn = this.#turn;
    switch (input.kind) {
      case "say":
        await this.#silent(step.afterMs ?? 0);
        await this.#speak(await this.#speech(step, input.text));
        break;
      case "interrupt": {
        // The engine left the previous turn while the agent was talking (see #agentPhase).
        const samples = await this.#speech(step, input.text);
        if (this.#playingSince !== undefined) turn.interrupt = { at: this.#clock.now(), speechMs: (samples.length / this.#protocol.format.sampleRate) * 1000 };
        else turn.findings.push({ kind: "script", path: "interrupt", message: "the agent was not talking when the caller interrupted (no agent audio was playing)" });
        await this.#speak(samples);
        break;
      }
      case "press":
        await this.#silent(step.afterMs ?? 0);
        for (const [index, digit] of [...input.digits].entries()) {
          if (digit === "w") {
            await this.#silent(500);
            continue;
          }
          const message = this.#protocol.dtmf(digit);
          if (message === undefined) {
            // Nothing reached the agent, so there is no reply to wait for.
            turn.findings.push({ kind: "script", path: "press", message: `the ${this.#protocolId} stream has no DTMF messages: the key press cannot be sent` });
            return;
          }
          this.#send(message);
          // The last key's message is the end of the caller's input.
          if (index === input.digits.length - 1) turn.reference = this.#clock.now();
          await this.#silent(streamTiming.digitMs);
        }
        break;
      case "silence":
        turn.reference = this.#clock.now();
        await this.#silent(input.ms);
        break;
      default:
        turn.findings.push({ kind: "script", message: `a ${input.kind} step cannot be played on a media stream: skipped` });
        return;
    }
    turn.reference ??= this.#clock.now();
    await this.#agentPhase();
  }

  async #speech(step: StreamStep, text: string): Promise<Int16Array> {
    return step.audio ? loadWav(step.audio, this.#protocol.format.sampleRate) : synthesizeSpeech(text, this.#protocol.format.sampleRate);
  }

  /** Listens (sending silence) until the agent's turn is over, or the next step interrupts it. */
  async #agentPhase(): Promise<void> {
    const turn = this.#turn;
    const next = this.#script.upcoming();
    const interruptAfter = next?.input.kind === "interrupt" ? (next.afterMs ?? streamTiming.interruptAfterMs) : undefined;
    const window = Math.max(streamTiming.replyWindowMs, (turn.firstAudioLimitMs ?? 0) + 1000);
    const reference = turn.reference ?? this.#clock.now();
    for (;;) {
      if (this.#closed) return;
      const now = this.#clock.now();
      if (interruptAfter !== undefined && this.#playingSince !== undefined && now - this.#playingSince >= interruptAfter) return;
      const playing = this.#playback.some((item) => item.kind === "audio");
      if (turn.lastAudioAt !== undefined && !playing && now - turn.lastAudioAt >= streamTiming.quietMs) return;
      if (turn.lastAudioAt === undefined && now - reference >= window) return;
      if (now - reference >= streamTiming.maxTurnMs) {
        turn.findings.push({ kind: "media", message: `the agent was still talking ${streamTiming.maxTurnMs / 1000} s after the caller's input: cut off` });
        return;
      }
      await this.#tick(undefined);
    }
  }

  async #speak(samples: Int16Array): Promise<void> {
    for (const frame of frames(samples, this.#protocol.format)) {
      if (this.#closed) return;
      await this.#tick(frame);
    }
  }

  async #silent(ms: number): Promise<void> {
    for (let elapsed = 0; elapsed < ms; elapsed += 20) {
      if (this.#closed) return;
      await this.#tick(undefined);
    }
  }

  /** One 20 ms step of the call: the caller's frame out, 20 ms of the agent's audio played, time passes. */
  async #tick(callerFrame: Int16Array | undefined): Promise<void> {
    const format = this.#protocol.format;
    if (this.#protocol.tracks.includes("inbound")) this.#stream("inbound", encode(callerFrame ?? this.#silence, format));
    const played = this.#playOut(bytesPerFrame(format));
    if (this.#protocol.tracks.includes("outbound")) this.#stream("outbound", Buffer.concat([played, encode(this.#silence, format)]).subarray(0, bytesPerFrame(format)));
    this.#mediaMs += 20;
    this.#due += 20;
    await this.#clock.wait(Math.max(0, this.#due - this.#clock.now()));
    if (this.#clock.lockstep) await pingBarrier(this.#socket);
  }

  /** Sends a track's audio once a whole chunk (chunk_ms) is together. */
  #stream(track: "inbound" | "outbound", frame: Buffer): void {
    const chunk = this.#chunks[track];
    chunk.push(frame);
    if (chunk.length * 20 < this.#protocol.chunkMs) return;
    this.#send(this.#protocol.media(Buffer.concat(chunk), track, this.#mediaMs - (chunk.length - 1) * 20));
    chunk.length = 0;
  }

  /** Takes up to `size` bytes of queued agent audio; marks reached on the way are acknowledged. */
  #playOut(size: number): Buffer {
    const taken: Buffer[] = [];
    let remaining = size;
    while (this.#playback.length) {
      const head = this.#playback[0]!;
      if (head.kind === "mark") {
        this.#playback.shift();
        this.#acknowledge(head.name);
        continue;
      }
      if (remaining === 0) break;
      const part = head.bytes.subarray(0, remaining);
      taken.push(part);
      remaining -= part.length;
      this.#queuedBytes -= part.length;
      if (part.length === head.bytes.length) this.#playback.shift();
      else head.bytes = head.bytes.subarray(part.length);
    }
    if (!this.#playback.some((item) => item.kind === "audio")) this.#playingSince = undefined;
    return Buffer.concat(taken);
  }

  #acknowledge(name: string): void {
    const message = this.#protocol.markPlayed(name);
    if (message === undefined) return;
    this.#send(message);
    this.#turn.marksAcknowledged++;
  }

  #onMessage(data: Buffer, binary: boolean): void {
    const at = `ws[${this.#received++}]`;
    const turn = this.#turn;
    const { message, findings } = this.#protocol.parse(data, binary, at);
    turn.findings.push(...findings);
    if (!message) return;
    const now = this.#clock.now();
    switch (message.kind) {
      case "audio":
        if (durationMs(this.#queuedBytes + message.bytes.length, this.#protocol.format) > maxQueuedMs) {
          turn.findings.push({ kind: "media", path: at, message: `the agent queued more than ${maxQueuedMs / 1000} s of audio ahead of playback: dropped` });
          return;
        }
        if (turn.reference !== undefined) turn.firstAudioAt ??= now;
        turn.lastAudioAt = now;
        turn.audioBytes += message.bytes.length;
        this.#playingSince ??= now;
        this.#playback.push({ kind: "audio", bytes: message.bytes });
        this.#queuedBytes += message.bytes.length;
        return;
      case "mark":
        turn.marksSent++;
        if (this.#playback.length === 0) this.#acknowledge(message.name);
        else this.#playback.push({ kind: "mark", name: message.name });
        return;
      case "clear": {
        turn.clearAt ??= now;
        const pending = this.#playback.filter((item) => item.kind === "mark");
        this.#playback = [];
        this.#queuedBytes = 0;
        this.#playingSince = undefined;
        if (this.#protocol.marksOnClear) for (const mark of pending) this.#acknowledge(mark.name);
        const ack = this.#protocol.cleared();
        if (ack !== undefined) this.#send(ack);
        return;
      }
      case "none":
        return;
    }
  }

  #send(frame: Outgoing): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(frame);
  }

  #figures(): TurnMedia {
    const turn = this.#turn;
    const stopped = turn.interrupt === undefined ? undefined : turn.clearAt !== undefined && turn.clearAt >= turn.interrupt.at && turn.clearAt - turn.interrupt.at <= turn.interrupt.speechMs + streamTiming.clearGraceMs;
    return {
      protocol: this.#protocolId,
      measures: "audio",
      firstAudioMs: turn.firstAudioAt !== undefined && turn.reference !== undefined ? turn.firstAudioAt - turn.reference : undefined,
      agentAudioMs: Math.round(durationMs(turn.audioBytes, this.#protocol.format)),
      stoppedOnInterrupt: stopped,
      marks: { sent: turn.marksSent, acknowledged: turn.marksAcknowledged },
    };
  }

  #record(): void {
    this.#script.record(this.#figures(), this.#turn.findings);
  }

  #finish(end: StreamEnd): StreamEnd {
    this.#record();
    return end;
  }

  async #hangup(): Promise<StreamEnd> {
    const stop = this.#protocol.stop();
    if (stop !== undefined) this.#send(stop);
    if (this.#turn.findings.length) this.#script.record(undefined, this.#turn.findings);
    await closeSocket(this.#socket);
    return { kind: "caller_hangup" };
  }
}
