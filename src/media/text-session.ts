/**
 * A text media stream (Twilio ConversationRelay, issue 17; Retell's custom-LLM socket, issue 28): the
 * platform does speech-to-text and text-to-speech itself, so the socket carries the caller's utterances
 * as prompts and the agent's reply as tokens. vwh paces it like an audio stream (20 ms steps through the
 * injected `wait`): a prompt goes out when the caller's speech would have ended, the agent's tokens are
 * "spoken" for their speaking time (speechMs), and each turn gives the shared LLM-turn figures (TurnText):
 * the time to the first token, the text, what the agent played, sent, ended or transferred, and whether
 * it stopped streaming its interrupted reply.
 *
 * When a reply is over: once it has been spoken and either the agent marked it complete (`last: true`,
 * `content_complete`) or no token came for streamTiming.quietMs. The platforms speak tokens as they
 * arrive whether or not the flag ever comes (Twilio's best practices: stream tokens as the LLM makes
 * them; its Voice Insights count first_token_received and end_of_agent_speech, not the flag), so a reply
 * without it is spoken in full, not held.
 */
import type WebSocket from "ws";
import { speechMs } from "../platforms/shared/timing.js";
import type { AgentText, Outgoing, TextProtocol } from "./protocol.js";
import { emptyTurnText, streamTiming, type StreamClock, type StreamScript, type StreamStep, type TurnMedia, type TurnText } from "./script.js";
import { StreamSession, type SessionTurn, type SpokenInput } from "./stream-session.js";

/** Text a turn keeps of the agent's reply (about 3 hours of speech): an agent streaming tokens without end would reach V8's string limit. */
export const maxTurnTextChars = 65_536;
const bounded = (kept: string, more: string): string => (kept.length >= maxTurnTextChars ? kept : (kept + more).slice(0, maxTurnTextChars));
/** Another utterance after `kept`: a space between them unless one side already has it (or nothing came before). */
const spaced = (kept: string, more: string): string => (kept === "" || more === "" || /\s$/.test(kept) || /^\s/.test(more) ? more : ` ${more}`);
/** Tool calls and plays a turn keeps (an agent looping on them cannot fill memory). */
const maxTurnItems = 100;

interface TextTurn extends SessionTurn {
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  /** The agent marked its reply complete (last: true, content_complete, a play). */
  complete: boolean;
  /** Set when the caller talked over the agent in this turn. */
  interruptedAt: number | undefined;
  said: TurnText;
}

/** What the platform is speaking: since when, until when, the words, and how it may be cut. */
interface Speaking {
  since: number;
  until: number;
  text: string;
  interruptible: boolean;
  preemptible: boolean;
  /** The talk cycle is complete (last: true): the agent's next tokens start a new one. */
  cycleDone: boolean;
}

export class TextSession extends StreamSession<TextTurn> {
  protected readonly protocol: TextProtocol;
  #speaking: Speaking | undefined;
  /** Between the interruption and the caller's prompt: tokens still coming continue the old reply. */
  #interrupting = false;
  /** When the last prompt (a new request) went out: an older answer still streaming well after it is a finding. */
  #promptAt: number | undefined;
  #firstTurn = true;

  constructor(socket: WebSocket, protocol: TextProtocol, protocolId: string, clock: StreamClock, script: StreamScript, firstAudioLimitMs: number | undefined) {
    super(socket, protocolId, clock, script, firstAudioLimitMs);
    this.protocol = protocol;
  }

  protected newTurn(reference: number | undefined, firstAudioLimitMs: number | undefined): TextTurn {
    return {
      reference,
      firstAudioLimitMs,
      findings: [],
      firstTokenAt: undefined,
      lastTokenAt: undefined,
      complete: false,
      interruptedAt: undefined,
      said: emptyTurnText(),
    };
  }

  protected opening(): Outgoing[] {
    const greeting = this.protocol.greeting;
    if (greeting) {
      // The platform speaks the greeting as the session opens, before the agent says anything.
      const now = this.clock.now();
      this.#speaking = {
        since: now,
        until: now + speechMs(greeting.text),
        text: greeting.text,
        interruptible: greeting.interruptible,
        preemptible: true,
        cycleDone: true,
      };
      this.turn.said.text = greeting.text;
      this.turn.complete = true;
    }
    return this.protocol.opening();
  }

  protected stopMessage(): Outgoing | undefined {
    return undefined;
  }

  protected async speak(step: StreamStep, input: SpokenInput): Promise<void> {
    if (input.kind === "say") {
      await this.idleFor(step.afterMs ?? 0);
      const speaking = this.protocol.userSpeaking?.();
      if (speaking !== undefined) this.send(speaking);
      await this.idleFor(speechMs(input.text));
      this.#prompt(input.text, input.confidence);
      return;
    }
    const speaking = this.#speaking;
    const now = this.clock.now();
    if (speaking && now < speaking.until && !speaking.interruptible) {
      // interruptible: false — the platform keeps talking and does not report what the caller said over it.
      this.#interrupting = false;
      this.turn.said.notInterruptible = true;
      await this.idleFor(speechMs(input.text));
      return;
    }
    if (speaking && now < speaking.until) {
      // What the caller heard of the reply: its words in proportion to the time spoken.
      const words = speaking.text.trim().split(/\s+/);
      const share = (now - speaking.since) / Math.max(1, speaking.until - speaking.since);
      this.send(this.interruptMessage(words.slice(0, Math.floor(words.length * share)).join(" "), now - speaking.since));
      this.#speaking = undefined;
      this.turn.interruptedAt = now;
    } else
      this.turn.findings.push({
        kind: "script",
        path: "interrupt",
        message: "the agent was not talking when the caller interrupted (no reply was being spoken)",
      });
    await this.idleFor(speechMs(input.text));
    this.#interrupting = false;
    this.#prompt(input.text, input.confidence);
  }

  /** The caller's utterance as the protocol sends it (Retell: the transcript with a new response_id). */
  #prompt(text: string, confidence: number): void {
    this.send(this.protocol.prompt(text, confidence));
    this.#promptAt = this.clock.now();
  }

  protected interruptMessage(spokenSoFar: string, durationMs: number): Outgoing {
    return this.protocol.interrupt(spokenSoFar, durationMs);
  }

  protected override async silence(ms: number): Promise<void> {
    let elapsed = 0;
    for (const at of this.protocol.reminderTimes?.(ms) ?? []) {
      await this.idleFor(at - elapsed);
      elapsed = at;
      if (this.closed || !this.protocol.reminder) break;
      this.send(this.protocol.reminder());
      // The agent's answer to the reminder counts from the reminder.
      this.#promptAt = this.turn.reference = this.clock.now();
    }
    await this.idleFor(ms - elapsed);
  }

  protected override record(): void {
    const turn = this.turn;
    const own = this.protocol.turnFindings?.(this.#firstTurn);
    this.#firstTurn = false;
    if (own) {
      turn.findings.push(...own.findings);
      if (own.fatal) this.closed ??= { kind: "failed", message: own.findings[0]?.message ?? "the session failed" };
    }
    if (this.closed?.kind === "closed_by_agent" && !this.closed.ends && this.closed.transferTo === undefined && !turn.said.end && this.protocol.unendedClose) {
      turn.findings.push({ kind: "media", message: this.protocol.unendedClose });
      this.closed = { kind: "failed", message: this.protocol.unendedClose };
    }
    super.record();
  }

  protected dtmf(digit: string): Outgoing | undefined {
    return this.protocol.dtmf(digit);
  }

  protected override noDtmf(): string {
    return this.protocol.noDtmf ?? super.noDtmf();
  }

  protected talkingFor(now: number): number | undefined {
    const speaking = this.#speaking;
    return speaking && now < speaking.until ? now - speaking.since : undefined;
  }

  protected replied(): boolean {
    return this.turn.complete || this.turn.firstTokenAt !== undefined;
  }

  protected replyOver(now: number): boolean {
    const turn = this.turn;
    if (this.#speaking !== undefined && now < this.#speaking.until) return false;
    if (turn.complete) return true;
    return turn.lastTokenAt !== undefined && now - turn.lastTokenAt >= streamTiming.quietMs;
  }

  protected override onInterruptPoint(): void {
    this.#interrupting = true;
  }

  /** Whether agent messages now belong to an answer the caller talked over. */
  protected get interrupting(): boolean {
    return this.#interrupting;
  }

  protected idle(): Promise<void> {
    for (const message of this.protocol.tick?.(this.clock.now()) ?? []) this.send(message);
    return this.elapse();
  }

  protected onMessage(data: Buffer, binary: boolean, at: string): void {
    const { message, findings, fatal } = this.protocol.parse(data, binary, at);
    this.turn.findings.push(...findings);
    for (const finding of findings) {
      const reply = this.protocol.invalid(`${finding.path ?? at}: ${finding.message}`);
      if (reply !== undefined) this.send(reply);
    }
    if (fatal) this.closed ??= { kind: "failed", message: findings[0]?.message ?? "the session failed" };
    if (message) this.agentText(message, at);
  }

  /** Applies one valid agent message to the turn. */
  protected agentText(message: AgentText, at: string): void {
    const turn = this.turn;
    const said = turn.said;
    const now = this.clock.now();
    switch (message.kind) {
      case "token":
      case "play": {
        if (this.#interrupting) {
          said.staleTokens++;
          return;
        }
        const text = message.kind === "token" ? message.text : "";
        // A new utterance (Retell: another response) is spoken after the one before: a space between them.
        const joins = (kept: string) => (message.kind === "token" && message.newUtterance ? spaced(kept, text) : text);
        if (turn.reference !== undefined && (text !== "" || message.kind === "play")) turn.firstTokenAt ??= now;
        turn.lastTokenAt = now;
        if (message.kind === "token") {
          said.tokens++;
          said.text = bounded(said.text, joins(said.text));
        } else if (said.plays.length < maxTurnItems) said.plays.push(message.source);
        // A play is spoken for 3 s (vwh's platform time for audio it does not fetch).
        const duration = message.kind === "play" ? 3000 : text.trim() ? speechMs(text) : 0;
        const current = this.#speaking && now < this.#speaking.until ? this.#speaking : undefined;
        // A new talk cycle cuts the one being spoken only if that one is preemptible; otherwise it queues behind it.
        const continues = current !== undefined && !(current.cycleDone && current.preemptible);
        const interruptible =
          message.interruptible ?? (continues && current.cycleDone === false ? current.interruptible : this.protocol.defaults.interruptible);
        const preemptible = message.preemptible ?? (continues && current.cycleDone === false ? current.preemptible : this.protocol.defaults.preemptible);
        this.#speaking = continues
          ? {
              since: current.since,
              until: current.until + duration,
              text: bounded(current.text, joins(current.text)),
              interruptible,
              preemptible,
              cycleDone: false,
            }
          : { since: now, until: now + duration, text, interruptible, preemptible, cycleDone: false };
        if (message.kind === "play" || message.last) {
          turn.complete = true;
          this.#speaking.cycleDone = true;
        }
        if (message.kind === "token" && message.transferTo !== undefined) {
          said.transferTo = message.transferTo;
          this.closed ??= { kind: "closed_by_agent", transferTo: message.transferTo };
        } else if (message.kind === "token" && message.endCall) {
          said.end = { handoffData: undefined };
          this.closed ??= { kind: "closed_by_agent", ends: true };
        }
        return;
      }
      case "stale": {
        said.staleTokens++;
        // In flight when the new request went out is normal; still streaming a second later is not.
        const since = this.#promptAt === undefined ? 0 : now - this.#promptAt;
        if (since > streamTiming.clearGraceMs && !turn.findings.some((finding) => finding.path === "stale")) {
          turn.findings.push({
            kind: "media",
            path: "stale",
            message: `${at}: ${message.what} kept streaming ${Math.round(since)} ms after a newer request superseded it (the platform drops it)`,
          });
        }
        return;
      }
      case "tool-call":
        if (said.toolCalls.length < maxTurnItems) said.toolCalls.push({ id: message.id, name: message.name, arguments: message.arguments, result: undefined });
        return;
      case "tool-result": {
        const call = said.toolCalls.find((item) => item.id === message.id);
        if (call) call.result = message.content;
        else
          turn.findings.push({
            kind: "media",
            path: at,
            message: `a tool call result for ${JSON.stringify(message.id)}, which no tool call invocation in this turn named`,
          });
        return;
      }
      case "digits":
        said.digits = bounded(said.digits, message.digits);
        return;
      case "end":
        said.end = { handoffData: message.handoffData };
        this.closed ??= { kind: "closed_by_agent", ...(message.handoffData !== undefined && { handoffData: message.handoffData }) };
        return;
      case "none":
        return;
    }
  }

  protected figures(): TurnMedia {
    const turn = this.turn;
    const spoken = turn.said.text.trim() ? speechMs(turn.said.text) : 0;
    return {
      protocol: this.protocolId,
      measures: "token",
      firstAudioMs: turn.firstTokenAt !== undefined && turn.reference !== undefined ? Math.round(turn.firstTokenAt - turn.reference) : undefined,
      agentAudioMs: spoken + turn.said.plays.length * 3000,
      stoppedOnInterrupt: turn.interruptedAt === undefined ? undefined : turn.said.staleTokens === 0,
      marks: { sent: 0, acknowledged: 0 },
      text: { ...turn.said, plays: [...turn.said.plays], toolCalls: [...turn.said.toolCalls] },
    };
  }
}
