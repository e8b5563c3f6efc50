/**
 * An audio media stream as the platform runs it (issue 17): 20 ms frames of the caller's side of the
 * script in real time (paced through the run's injected `wait`), the agent's audio played out at the
 * same pace (marks acknowledged when reached, `clear` honoured), and per turn the time to the agent's
 * first audio after the caller stopped, its audio total, and whether it stopped when interrupted.
 */
import type WebSocket from "ws";
import { bytesPerFrame, durationMs, encode, frames, loadWav, samplesPerFrame, synthesizeSpeech } from "./audio.js";
import type { AudioProtocol, Outgoing } from "./protocol.js";
import { streamTiming, type StreamClock, type StreamScript, type StreamStep, type TurnMedia } from "./script.js";
import { StreamSession, type SessionTurn, type SpokenInput } from "./stream-session.js";

/** Audio an agent may queue ahead of playback (Vonage buffers about a minute; vwh allows two). */
const maxQueuedMs = 120_000;
/** Marks (and characters of their names) waiting behind queued audio; past either, an agent floods: the mark is dropped. */
export const maxQueuedMarks = 1000;
const maxQueuedMarkChars = 1024 * 1024;

type Queued = { kind: "audio"; bytes: Buffer } | { kind: "mark"; name: string };

interface AudioTurn extends SessionTurn {
  firstAudioAt: number | undefined;
  lastAudioAt: number | undefined;
  audioBytes: number;
  /** The caller began talking over the agent (undefined: no interruption in this turn). */
  interrupt: { at: number; speechMs: number } | undefined;
  clearAt: number | undefined;
  marksSent: number;
  marksAcknowledged: number;
}

export class AudioSession extends StreamSession<AudioTurn> {
  readonly #protocol: AudioProtocol;
  readonly #silence: Int16Array;
  #playback: Queued[] = [];
  #queuedMarks = 0;
  #queuedMarkChars = 0;
  /** Bytes of agent audio in #playback. */
  #queuedBytes = 0;
  /** Media time (ms of the stream, in 20 ms steps) at which the agent's queued audio began playing. */
  #playingSince: number | undefined;
  #mediaMs = 0;
  #chunks: Record<"inbound" | "outbound", Buffer[]> = { inbound: [], outbound: [] };

  constructor(socket: WebSocket, protocol: AudioProtocol, protocolId: string, clock: StreamClock, script: StreamScript, firstAudioLimitMs: number | undefined) {
    super(socket, protocolId, clock, script, firstAudioLimitMs);
    this.#protocol = protocol;
    this.#silence = new Int16Array(samplesPerFrame(protocol.format));
  }

  protected newTurn(reference: number | undefined, firstAudioLimitMs: number | undefined): AudioTurn {
    return {
      reference,
      firstAudioLimitMs,
      findings: [],
      firstAudioAt: undefined,
      lastAudioAt: undefined,
      audioBytes: 0,
      interrupt: undefined,
      clearAt: undefined,
      marksSent: 0,
      marksAcknowledged: 0,
    };
  }

  protected opening(): Outgoing[] {
    return this.#protocol.opening();
  }

  protected stopMessage(): Outgoing | undefined {
    return this.#protocol.stop();
  }

  protected async speak(step: StreamStep, input: SpokenInput): Promise<void> {
    if (input.kind === "say") {
      await this.idleFor(step.afterMs ?? 0);
      await this.#speak(await this.#speech(step, input.text));
      return;
    }
    // An interrupt: the previous turn ended while the agent was talking (agentPhase saw this step coming).
    const samples = await this.#speech(step, input.text);
    if (this.#playingSince !== undefined) this.turn.interrupt = { at: this.clock.now(), speechMs: (samples.length / this.#protocol.format.sampleRate) * 1000 };
    else
      this.turn.findings.push({
        kind: "script",
        path: "interrupt",
        message: "the agent was not talking when the caller interrupted (no agent audio was playing)",
      });
    await this.#speak(samples);
  }

  protected dtmf(digit: string): Outgoing | undefined {
    return this.#protocol.dtmf(digit);
  }

  async #speech(step: StreamStep, text: string): Promise<Int16Array> {
    return step.audio ? loadWav(step.audio, this.#protocol.format.sampleRate) : synthesizeSpeech(text, this.#protocol.format.sampleRate);
  }

  // Counted in media time: how much of the agent's audio has been played, whatever the machine's stalls.
  protected talkingFor(): number | undefined {
    return this.#playingSince === undefined ? undefined : this.#mediaMs - this.#playingSince;
  }

  protected replied(): boolean {
    return this.turn.lastAudioAt !== undefined;
  }

  protected replyOver(now: number): boolean {
    const { lastAudioAt } = this.turn;
    return lastAudioAt !== undefined && this.#queuedBytes === 0 && now - lastAudioAt >= streamTiming.quietMs;
  }

  protected idle(): Promise<void> {
    return this.#tick(undefined);
  }

  async #speak(samples: Int16Array): Promise<void> {
    for (const frame of frames(samples, this.#protocol.format)) {
      if (this.closed) return;
      await this.#tick(frame);
    }
  }

  /** One 20 ms step of the call: the caller's frame out, 20 ms of the agent's audio played, time passes. */
  async #tick(callerFrame: Int16Array | undefined): Promise<void> {
    const format = this.#protocol.format;
    if (this.#protocol.tracks.includes("inbound")) this.#stream("inbound", encode(callerFrame ?? this.#silence, format));
    const played = this.#playOut(bytesPerFrame(format));
    if (this.#protocol.tracks.includes("outbound"))
      this.#stream("outbound", Buffer.concat([played, encode(this.#silence, format)]).subarray(0, bytesPerFrame(format)));
    this.#mediaMs += 20;
    await this.elapse();
  }

  /** Sends a track's audio once a whole chunk (chunk_ms) is together. */
  #stream(track: "inbound" | "outbound", frame: Buffer): void {
    const chunk = this.#chunks[track];
    chunk.push(frame);
    if (chunk.length * 20 < this.#protocol.chunkMs) return;
    this.send(this.#protocol.media(Buffer.concat(chunk), track, this.#mediaMs - (chunk.length - 1) * 20));
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
        this.#queuedMarks--;
        this.#queuedMarkChars -= head.name.length;
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
    if (this.#queuedBytes === 0) this.#playingSince = undefined;
    return Buffer.concat(taken);
  }

  #acknowledge(name: string): void {
    const message = this.#protocol.markPlayed(name);
    if (message === undefined) return;
    this.send(message);
    this.turn.marksAcknowledged++;
  }

  protected onMessage(data: Buffer, binary: boolean, at: string): void {
    const turn = this.turn;
    const { message, findings } = this.#protocol.parse(data, binary, at);
    turn.findings.push(...findings);
    if (!message) return;
    const now = this.clock.now();
    switch (message.kind) {
      case "audio":
        if (durationMs(this.#queuedBytes + message.bytes.length, this.#protocol.format) > maxQueuedMs) {
          turn.findings.push({ kind: "media", path: at, message: `the agent queued more than ${maxQueuedMs / 1000} s of audio ahead of playback: dropped` });
          return;
        }
        if (turn.reference !== undefined) turn.firstAudioAt ??= now;
        turn.lastAudioAt = now;
        turn.audioBytes += message.bytes.length;
        this.#playingSince ??= this.#mediaMs;
        this.#playback.push({ kind: "audio", bytes: message.bytes });
        this.#queuedBytes += message.bytes.length;
        return;
      case "mark":
        turn.marksSent++;
        if (this.#playback.length === 0) this.#acknowledge(message.name);
        else if (this.#queuedMarks >= maxQueuedMarks || this.#queuedMarkChars + message.name.length > maxQueuedMarkChars) {
          turn.findings.push({
            kind: "media",
            path: at,
            message: `the agent queued more than ${maxQueuedMarks} marks (or 1 MiB of mark names) behind its audio: dropped`,
          });
        } else {
          this.#playback.push({ kind: "mark", name: message.name });
          this.#queuedMarks++;
          this.#queuedMarkChars += message.name.length;
        }
        return;
      case "clear": {
        turn.clearAt ??= now;
        const pending = this.#playback.filter((item) => item.kind === "mark");
        this.#playback = [];
        this.#queuedBytes = 0;
        this.#queuedMarks = 0;
        this.#queuedMarkChars = 0;
        this.#playingSince = undefined;
        if (this.#protocol.marksOnClear) for (const mark of pending) this.#acknowledge(mark.name);
        const ack = this.#protocol.cleared();
        if (ack !== undefined) this.send(ack);
        return;
      }
      case "none":
        return;
    }
  }

  protected figures(): TurnMedia {
    const turn = this.turn;
    const stopped =
      turn.interrupt === undefined
        ? undefined
        : turn.clearAt !== undefined &&
          turn.clearAt >= turn.interrupt.at &&
          turn.clearAt - turn.interrupt.at <= turn.interrupt.speechMs + streamTiming.clearGraceMs;
    return {
      protocol: this.protocolId,
      measures: "audio",
      firstAudioMs: turn.firstAudioAt !== undefined && turn.reference !== undefined ? Math.round(turn.firstAudioAt - turn.reference) : undefined,
      agentAudioMs: Math.round(durationMs(turn.audioBytes, this.#protocol.format)),
      stoppedOnInterrupt: stopped,
      marks: { sent: turn.marksSent, acknowledged: turn.marksAcknowledged },
    };
  }
}
