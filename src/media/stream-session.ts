/**
 * What every media session does the same way (issue 17): the socket's events, the step-by-step run of
 * the rest of the script, the agent's turn (listen until its reply is over, or until the next step
 * interrupts it), and time passing in 20 ms steps through the injected clock. Audio and text sessions
 * say what "talking", "replied" and "a 20 ms step" mean for them.
 */
import type WebSocket from "ws";
import type { Finding } from "../core/findings.js";
import type { CallerInput, StreamEnd } from "../platforms/types.js";
import type { Outgoing } from "./protocol.js";
import { closeSocket, pingBarrier } from "./socket.js";
import { streamTiming, type StreamClock, type StreamScript, type StreamStep, type TurnMedia } from "./script.js";

export interface SessionTurn {
  /** When the caller's input ended (the stream's start, for the turn that opened it): first audio counts from here. */
  reference: number | undefined;
  firstAudioLimitMs: number | undefined;
  findings: Finding[];
}

/** Findings one turn keeps from the agent's messages; an agent flooding bad messages gets one line for the rest. */
export const maxStreamFindingsPerTurn = 100;

export type SpokenInput = Extract<CallerInput, { kind: "say" | "interrupt" }>;

export abstract class StreamSession<Turn extends SessionTurn> {
  protected readonly socket: WebSocket;
  protected readonly clock: StreamClock;
  protected readonly script: StreamScript;
  protected readonly protocolId: string;
  protected closed: StreamEnd | undefined;
  protected turn: Turn;
  #received = 0;
  #due: number;
  /** Findings left out of `#boundedTurn` past maxStreamFindingsPerTurn. */
  #leftOut = 0;
  #boundedTurn: Turn | undefined;

  constructor(socket: WebSocket, protocolId: string, clock: StreamClock, script: StreamScript, firstAudioLimitMs: number | undefined) {
    this.socket = socket;
    this.protocolId = protocolId;
    this.clock = clock;
    this.script = script;
    this.#due = clock.now();
    this.turn = this.newTurn(clock.now(), firstAudioLimitMs);
    socket.on("message", (data: Buffer, binary: boolean) => {
      this.onMessage(data, binary, `ws[${this.#received++}]`);
      this.#bound();
    });
    socket.on("close", () => (this.closed ??= { kind: "closed_by_agent" }));
    socket.on("error", (error) => {
      this.turn.findings.push({ kind: "media", message: `the media stream failed: ${error.message}` });
      this.closed ??= { kind: "failed", message: error.message };
    });
  }

  /** Keeps a turn's findings to maxStreamFindingsPerTurn and one line counting the rest, so a flood cannot fill memory and the report. */
  #bound(): void {
    const { findings } = this.turn;
    if (findings.length <= maxStreamFindingsPerTurn + (this.#boundedTurn === this.turn ? 1 : 0)) return;
    if (this.#boundedTurn !== this.turn) {
      this.#boundedTurn = this.turn;
      this.#leftOut = 0;
    } else findings.splice(maxStreamFindingsPerTurn, 1);
    this.#leftOut += findings.length - maxStreamFindingsPerTurn;
    findings.length = maxStreamFindingsPerTurn;
    findings.push({ kind: "media", message: `${this.#leftOut} more findings from the agent's messages left out (at most ${maxStreamFindingsPerTurn} a turn)` });
  }

  protected abstract newTurn(reference: number | undefined, firstAudioLimitMs: number | undefined): Turn;
  protected abstract opening(): Outgoing[];
  /** The platform's last message when the caller hangs up, if it has one. */
  protected abstract stopMessage(): Outgoing | undefined;
  protected abstract onMessage(data: Buffer, binary: boolean, at: string): void;
  /** Plays a say or interrupt step (the caller's input ends with it). */
  protected abstract speak(step: StreamStep, input: SpokenInput): Promise<void>;
  /** The platform's DTMF message, undefined when its message set has none. */
  protected abstract dtmf(digit: string): Outgoing | undefined;
  /** How long the agent has been talking (its audio playing, its reply being spoken); undefined when it is not. */
  protected abstract talkingFor(now: number): number | undefined;
  /** Whether anything of the agent's reply came in this turn. */
  protected abstract replied(): boolean;
  /** Whether the agent's reply in this turn is over. */
  protected abstract replyOver(now: number): boolean;
  /** One 20 ms step with the caller silent. */
  protected abstract idle(): Promise<void>;
  protected abstract figures(): TurnMedia;
  /** The agent's turn ends because the caller is about to talk over it. */
  protected onInterruptPoint(): void {}
  /** Why a key press cannot be sent on this stream. */
  protected noDtmf(): string {
    return `the ${this.protocolId} stream has no DTMF messages: the key press cannot be sent`;
  }
  /** The caller stays silent for `ms` (a platform that reminds the agent meanwhile, as Retell does, overrides it). */
  protected async silence(ms: number): Promise<void> {
    await this.idleFor(ms);
  }

  async run(): Promise<StreamEnd> {
    for (const frame of this.opening()) this.send(frame);
    await this.agentPhase();
    for (;;) {
      this.record();
      if (this.closed) {
        await closeSocket(this.socket);
        return this.closed;
      }
      const step = this.script.advance();
      this.turn = this.newTurn(undefined, step?.firstAudioLimitMs);
      if (!step || step.input.kind === "hangup") {
        await this.idleFor(step?.afterMs ?? 0);
        const stop = this.stopMessage();
        if (stop !== undefined) this.send(stop);
        if (this.turn.findings.length) this.script.record(undefined, this.turn.findings);
        await closeSocket(this.socket);
        return { kind: "caller_hangup" };
      }
      if ((await this.#play(step)) === "skip") continue;
      this.turn.reference ??= this.clock.now();
      await this.agentPhase();
    }
  }

  /** Plays the caller's side of a step; "skip" when nothing reached the agent, so there is no reply to wait for. */
  async #play(step: StreamStep): Promise<"listen" | "skip"> {
    const { input } = step;
    const turn = this.turn;
    switch (input.kind) {
      case "say":
      case "interrupt":
        await this.speak(step, input);
        return "listen";
      case "press":
        await this.idleFor(step.afterMs ?? 0);
        for (const [index, digit] of [...input.digits].entries()) {
          if (digit === "w") {
            await this.idleFor(500);
            continue;
          }
          const message = this.dtmf(digit);
          if (message === undefined) {
            turn.findings.push({ kind: "script", path: "press", message: this.noDtmf() });
            return "skip";
          }
          this.send(message);
          // The last key's message is the end of the caller's input.
          if (index === input.digits.length - 1) turn.reference = this.clock.now();
          await this.idleFor(streamTiming.digitMs);
        }
        return "listen";
      case "silence":
        // A silence step's reply (a reprompt) counts from the start of the silence.
        turn.reference = this.clock.now();
        await this.silence(input.ms);
        return "listen";
      default:
        turn.findings.push({ kind: "script", message: `a ${input.kind} step cannot be played on a media stream: skipped` });
        return "skip";
    }
  }

  /** Listens until the agent's turn is over, or until the next step is to interrupt it. */
  protected async agentPhase(): Promise<void> {
    const turn = this.turn;
    const next = this.script.upcoming();
    const interruptAfter = next?.input.kind === "interrupt" ? (next.afterMs ?? streamTiming.interruptAfterMs) : undefined;
    const window = Math.max(streamTiming.replyWindowMs, (turn.firstAudioLimitMs ?? 0) + 1000);
    const reference = turn.reference ?? this.clock.now();
    for (;;) {
      if (this.closed) return;
      const now = this.clock.now();
      const talking = this.talkingFor(now);
      if (interruptAfter !== undefined && talking !== undefined && talking >= interruptAfter) {
        this.onInterruptPoint();
        return;
      }
      if (this.replyOver(now)) return;
      if (!this.replied() && now - reference >= window) return;
      if (now - reference >= streamTiming.maxTurnMs) {
        turn.findings.push({ kind: "media", message: `the agent's reply was not over ${streamTiming.maxTurnMs / 1000} s after the caller's input: cut off` });
        return;
      }
      await this.idle();
    }
  }

  protected async idleFor(ms: number): Promise<void> {
    for (let elapsed = 0; elapsed < ms && !this.closed; elapsed += 20) await this.idle();
  }

  /** Lets 20 ms pass on the run's clock (with the lockstep: once the agent has read what was sent). */
  protected async elapse(): Promise<void> {
    // Behind schedule (the machine stalled): pick up from now rather than burst the backlog out —
    // a platform's stream has a gap then, not a fast-forward.
    this.#due = Math.max(this.#due + 20, this.clock.now() - 20);
    await this.clock.wait(Math.max(0, this.#due - this.clock.now()));
    if (this.clock.lockstep) await pingBarrier(this.socket);
  }

  protected send(frame: Outgoing): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame);
  }

  protected record(): void {
    this.script.record(this.figures(), this.turn.findings);
  }
}
