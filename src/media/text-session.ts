/**
 * A text media stream (Twilio ConversationRelay, issue 17): the platform does speech-to-text and
 * text-to-speech itself, so the socket carries the caller's utterances as prompts and the agent's reply
 * as tokens. vwh paces it like an audio stream (20 ms steps through the injected `wait`): a prompt goes
 * out when the caller's speech would have ended, the agent's tokens are "spoken" for their speaking time
 * (speechMs), and the figures are the time to the first token and whether the agent stopped streaming
 * its interrupted reply.
 */
import type WebSocket from "ws";
import type { Finding } from "../findings.js";
import type { StreamEnd } from "../platforms/types.js";
import { speechMs } from "../platforms/timing.js";
import type { Outgoing, TextProtocol } from "./protocol.js";
import { closeSocket, pingBarrier } from "./socket.js";
import { streamTiming, type StreamClock, type StreamScript, type StreamStep, type TurnMedia } from "./script.js";

interface TextTurn {
  reference: number | undefined;
  firstTokenAt: number | undefined;
  /** The text the agent sent in this turn (tokens joined). */
  text: string;
  /** A token with last: true (or a play) came: the reply is complete. */
  complete: boolean;
  firstAudioLimitMs: number | undefined;
  /** Set while the caller talks over the agent: tokens that come then continue the interrupted reply. */
  interruptedAt: number | undefined;
  tokensAfterInterrupt: number;
  findings: Finding[];
}

const newTurn = (reference: number | undefined, firstAudioLimitMs: number | undefined): TextTurn => ({
  reference, firstTokenAt: undefined, text: "", complete: false, firstAudioLimitMs, interruptedAt: undefined, tokensAfterInterrupt: 0, findings: [],
});

export class TextSession {
  readonly #socket: WebSocket;
  readonly #protocol: TextProtocol;
  readonly #protocolId: string;
  readonly #clock: StreamClock;
  readonly #script: StreamScript;
  #received = 0;
  #closed: StreamEnd | undefined;
  #turn: TextTurn;
  #due: number;
  /** The platform speaks the agent's reply from `since` until `until`. */
  #speaking: { since: number; until: number; text: string } | undefined;

  constructor(socket: WebSocket, protocol: TextProtocol, protocolId: string, clock: StreamClock, script: StreamScript, firstAudioLimitMs: number | undefined) {
    this.#socket = socket;
    this.#protocol = protocol;
    this.#protocolId = protocolId;
    this.#clock = clock;
    this.#script = script;
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
      if (this.#closed) {
        this.#record();
        await closeSocket(this.#socket);
        return this.#closed;
      }
      this.#record();
      const step = this.#script.advance();
      this.#turn = newTurn(undefined, step?.firstAudioLimitMs);
      if (!step || step.input.kind === "hangup") {
        await this.#pass(step?.afterMs ?? 0);
        await closeSocket(this.#socket);
        return { kind: "caller_hangup" };
      }
      await this.#play(step);
    }
  }

  async #play(step: StreamStep): Promise<void> {
    const { input } = step;
    const turn = this.#turn;
    switch (input.kind) {
      case "say":
        await this.#pass((step.afterMs ?? 0) + speechMs(input.text));
        this.#send(this.#protocol.prompt(input.text, input.confidence));
        break;
      case "interrupt": {
        const speaking = this.#speaking;
        const now = this.#clock.now();
        if (speaking && now < speaking.until) {
          // What the caller heard of the reply: its words in proportion to the time spoken.
          const words = speaking.text.trim().split(/\s+/);
          const share = (now - speaking.since) / Math.max(1, speaking.until - speaking.since);
          this.#send(this.#protocol.interrupt(words.slice(0, Math.floor(words.length * share)).join(" "), now - speaking.since));
          this.#speaking = undefined;
          turn.interruptedAt = now;
        } else turn.findings.push({ kind: "script", path: "interrupt", message: "the agent was not talking when the caller interrupted (no reply was being spoken)" });
        await this.#pass(speechMs(input.text));
        this.#send(this.#protocol.prompt(input.text, input.confidence));
        break;
      }
      case "press":
        await this.#pass(step.afterMs ?? 0);
        for (const [index, digit] of [...input.digits].entries()) {
          if (digit !== "w") this.#send(this.#protocol.dtmf(digit));
          if (index === input.digits.length - 1) turn.reference = this.#clock.now();
          await this.#pass(digit === "w" ? 500 : streamTiming.digitMs);
        }
        break;
      case "silence":
        turn.reference = this.#clock.now();
        await this.#pass(input.ms);
        break;
      default:
        turn.findings.push({ kind: "script", message: `a ${input.kind} step cannot be played on a media stream: skipped` });
        return;
    }
    turn.reference ??= this.#clock.now();
    this.#interrupting = false;
    await this.#agentPhase();
  }

  /** While the caller is talking over the agent, tokens still coming continue the old reply. */
  #interrupting = false;

  async #agentPhase(): Promise<void> {
    const turn = this.#turn;
    const next = this.#script.upcoming();
    const interruptAfter = next?.input.kind === "interrupt" ? (next.afterMs ?? streamTiming.interruptAfterMs) : undefined;
    const window = Math.max(streamTiming.replyWindowMs, (turn.firstAudioLimitMs ?? 0) + 1000);
    const reference = turn.reference ?? this.#clock.now();
    for (;;) {
      if (this.#closed) return;
      const now = this.#clock.now();
      const speaking = this.#speaking;
      if (interruptAfter !== undefined && speaking && now - speaking.since >= interruptAfter && now < speaking.until) {
        this.#interrupting = true;
        return;
      }
      if (turn.complete && (!speaking || now >= speaking.until)) return;
      if (!turn.complete && turn.firstTokenAt === undefined && now - reference >= window) return;
      if (now - reference >= streamTiming.maxTurnMs) {
        turn.findings.push({ kind: "media", message: `the agent's reply was not complete (no last: true) ${streamTiming.maxTurnMs / 1000} s after the caller's input` });
        return;
      }
      await this.#pass(20);
    }
  }

  /** Lets platform time pass in 20 ms steps (the agent's messages arrive meanwhile). */
  async #pass(ms: number): Promise<void> {
    for (let elapsed = 0; elapsed < ms; elapsed += 20) {
      if (this.#closed) return;
      this.#due += 20;
      await this.#clock.wait(Math.max(0, this.#due - this.#clock.now()));
      if (this.#clock.lockstep) await pingBarrier(this.#socket);
    }
  }

  #onMessage(data: Buffer, binary: boolean): void {
    const at = `ws[${this.#received++}]`;
    const turn = this.#turn;
    const { message, findings } = this.#protocol.parse(data, binary, at);
    turn.findings.push(...findings);
    for (const finding of findings) {
      const reply = this.#protocol.invalid(`${finding.path ?? at}: ${finding.message}`);
      if (reply !== undefined) this.#send(reply);
    }
    if (!message) return;
    const now = this.#clock.now();
    switch (message.kind) {
      case "token":
      case "play": {
        if (this.#interrupting) {
          turn.tokensAfterInterrupt++;
          return;
        }
        if (turn.reference !== undefined) turn.firstTokenAt ??= now;
        const text = message.kind === "token" ? message.text : "";
        turn.text += text;
        const duration = message.kind === "play" ? 3000 : text.trim() ? speechMs(text) : 0;
        const since = this.#speaking && now < this.#speaking.until ? this.#speaking.since : now;
        const until = Math.max(this.#speaking?.until ?? now, now) + duration;
        this.#speaking = { since, until, text: (this.#speaking && now < this.#speaking.until ? this.#speaking.text : "") + text };
        if (message.kind === "play" || message.last) turn.complete = true;
        return;
      }
      case "end":
        this.#closed ??= { kind: "closed_by_agent" };
        return;
      case "digits":
      case "none":
        return;
    }
  }

  #send(frame: Outgoing): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(frame);
  }

  #record(): void {
    const turn = this.#turn;
    const media: TurnMedia = {
      protocol: this.#protocolId,
      measures: "token",
      firstAudioMs: turn.firstTokenAt !== undefined && turn.reference !== undefined ? turn.firstTokenAt - turn.reference : undefined,
      agentAudioMs: turn.text.trim() ? speechMs(turn.text) : 0,
      stoppedOnInterrupt: turn.interruptedAt === undefined ? undefined : turn.tokensAfterInterrupt === 0,
      marks: { sent: 0, acknowledged: 0 },
    };
    this.#script.record(media, turn.findings);
  }
}
