/**
 * A text media stream (Twilio ConversationRelay, issue 17): the platform does speech-to-text and
 * text-to-speech itself, so the socket carries the caller's utterances as prompts and the agent's reply
 * as tokens. vwh paces it like an audio stream (20 ms steps through the injected `wait`): a prompt goes
 * out when the caller's speech would have ended, the agent's tokens are "spoken" for their speaking time
 * (speechMs), and the figures are the time to the first token and whether the agent stopped streaming
 * its interrupted reply.
 */
import type WebSocket from "ws";
import { speechMs } from "../platforms/shared/timing.js";
import type { Outgoing, TextProtocol } from "./protocol.js";
import { type StreamClock, type StreamScript, type StreamStep, type TurnMedia } from "./script.js";
import { StreamSession, type SessionTurn, type SpokenInput } from "./stream-session.js";

/** Text a turn keeps of the agent's reply (about 3 hours of speech): an agent streaming tokens without end would reach V8's string limit. */
export const maxTurnTextChars = 65_536;
const bounded = (kept: string, more: string): string => (kept.length >= maxTurnTextChars ? kept : (kept + more).slice(0, maxTurnTextChars));

interface TextTurn extends SessionTurn {
  firstTokenAt: number | undefined;
  /** The text the agent sent in this turn (tokens joined). */
  text: string;
  /** A token with last: true (or a play) came: the reply is complete. */
  complete: boolean;
  /** Set when the caller talked over the agent in this turn. */
  interruptedAt: number | undefined;
  /** Tokens of the interrupted reply that still came while the caller talked over it. */
  tokensAfterInterrupt: number;
}

export class TextSession extends StreamSession<TextTurn> {
  readonly #protocol: TextProtocol;
  /** The platform speaks the agent's reply from `since` until `until`. */
  #speaking: { since: number; until: number; text: string } | undefined;
  /** Between the interruption and the caller's prompt: tokens still coming continue the old reply. */
  #interrupting = false;

  constructor(socket: WebSocket, protocol: TextProtocol, protocolId: string, clock: StreamClock, script: StreamScript, firstAudioLimitMs: number | undefined) {
    super(socket, protocolId, clock, script, firstAudioLimitMs);
    this.#protocol = protocol;
  }

  protected newTurn(reference: number | undefined, firstAudioLimitMs: number | undefined): TextTurn {
    return { reference, firstAudioLimitMs, findings: [], firstTokenAt: undefined, text: "", complete: false, interruptedAt: undefined, tokensAfterInterrupt: 0 };
  }

  protected opening(): Outgoing[] {
    return this.#protocol.opening();
  }

  protected stopMessage(): Outgoing | undefined {
    return undefined;
  }

  protected async speak(step: StreamStep, input: SpokenInput): Promise<void> {
    if (input.kind === "say") {
      await this.idleFor((step.afterMs ?? 0) + speechMs(input.text));
      this.send(this.#protocol.prompt(input.text, input.confidence));
      return;
    }
    const speaking = this.#speaking;
    const now = this.clock.now();
    if (speaking && now < speaking.until) {
      // What the caller heard of the reply: its words in proportion to the time spoken.
      const words = speaking.text.trim().split(/\s+/);
      const share = (now - speaking.since) / Math.max(1, speaking.until - speaking.since);
      this.send(this.#protocol.interrupt(words.slice(0, Math.floor(words.length * share)).join(" "), now - speaking.since));
      this.#speaking = undefined;
      this.turn.interruptedAt = now;
    } else this.turn.findings.push({ kind: "script", path: "interrupt", message: "the agent was not talking when the caller interrupted (no reply was being spoken)" });
    await this.idleFor(speechMs(input.text));
    this.#interrupting = false;
    this.send(this.#protocol.prompt(input.text, input.confidence));
  }

  protected dtmf(digit: string): Outgoing {
    return this.#protocol.dtmf(digit);
  }

  protected talkingFor(now: number): number | undefined {
    const speaking = this.#speaking;
    return speaking && now < speaking.until ? now - speaking.since : undefined;
  }

  protected replied(): boolean {
    return this.turn.complete || this.turn.firstTokenAt !== undefined;
  }

  protected replyOver(now: number): boolean {
    return this.turn.complete && (this.#speaking === undefined || now >= this.#speaking.until);
  }

  protected override onInterruptPoint(): void {
    this.#interrupting = true;
  }

  protected idle(): Promise<void> {
    return this.elapse();
  }

  protected onMessage(data: Buffer, binary: boolean, at: string): void {
    const turn = this.turn;
    const { message, findings } = this.#protocol.parse(data, binary, at);
    turn.findings.push(...findings);
    for (const finding of findings) {
      const reply = this.#protocol.invalid(`${finding.path ?? at}: ${finding.message}`);
      if (reply !== undefined) this.send(reply);
    }
    if (!message) return;
    const now = this.clock.now();
    switch (message.kind) {
      case "token":
      case "play": {
        if (this.#interrupting) {
          turn.tokensAfterInterrupt++;
          return;
        }
        if (turn.reference !== undefined) turn.firstTokenAt ??= now;
        const text = message.kind === "token" ? message.text : "";
        turn.text = bounded(turn.text, text);
        // A play is spoken for 3 s (vwh's platform time for audio it does not fetch).
        const duration = message.kind === "play" ? 3000 : text.trim() ? speechMs(text) : 0;
        const current = this.#speaking && now < this.#speaking.until ? this.#speaking : undefined;
        this.#speaking = { since: current?.since ?? now, until: (current?.until ?? now) + duration, text: bounded(current?.text ?? "", text) };
        if (message.kind === "play" || message.last) turn.complete = true;
        return;
      }
      case "end":
        this.closed ??= { kind: "closed_by_agent" };
        return;
      case "digits":
      case "none":
        return;
    }
  }

  protected figures(): TurnMedia {
    const turn = this.turn;
    return {
      protocol: this.protocolId,
      measures: "token",
      firstAudioMs: turn.firstTokenAt !== undefined && turn.reference !== undefined ? Math.round(turn.firstTokenAt - turn.reference) : undefined,
      agentAudioMs: turn.text.trim() ? speechMs(turn.text) : 0,
      stoppedOnInterrupt: turn.interruptedAt === undefined ? undefined : turn.tokensAfterInterrupt === 0,
      marks: { sent: 0, acknowledged: 0 },
    };
  }
}
