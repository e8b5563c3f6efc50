/** What the verdict tests (test/unit/verdicts*.test.ts) share: a turn or a webhook's reply checked in process, findings as lines. */
import assert from "node:assert/strict";
import { checkReply, type ReplyCheckInput } from "../src/checks/reply.js";
import type { Finding } from "../src/core/findings.js";
import { checkTurn } from "../src/engine/script-call.js";
import type { Action } from "../src/platforms/types.js";
import { vwhPlatform } from "../src/platforms/vwh/index.js";

export type TurnInput = Parameters<typeof checkTurn>[0];
export type Expect = NonNullable<TurnInput["expect"]>;

/** Findings as `path: message` lines, the way the assertions read them. */
export const shown = (findings: readonly Finding[]) => findings.map((finding) => `${finding.path ?? ""}: ${finding.message}`);

/** A turn that executed nothing, with `expect` and whatever `over` sets. */
export const turn = (expect: Expect | undefined, over: Partial<TurnInput> = {}): TurnInput => ({
  step: 0,
  label: "step",
  expect,
  actions: [],
  replied: [],
  natives: [],
  failures: [],
  ended: undefined,
  media: undefined,
  notes: [],
  ...over,
});

/** The findings of a turn's expectations, each of kind "expect" (the kind --json reports and load mode counts by). */
export const expectFindings = (findings: readonly Finding[]) => {
  for (const finding of findings) assert.equal(finding.kind, "expect", finding.message);
  return shown(findings);
};

/** checkTurn's findings for `expect` over the turn `over` describes. */
export const verdict = (expect: Expect, over: Partial<TurnInput> = {}) => expectFindings(checkTurn(turn(expect, over)));

export const speak = (text: string, at = 0): Action => ({ type: "speak", path: `instructions[${at}]`, text });

export const jsonHeaders = { "content-type": "application/json" };

/** checkReply over a vwh reply (`json`, serialized; none: an empty body), 200 in 10 ms unless `over` says otherwise. */
export function reply(over: Partial<ReplyCheckInput> & { json?: unknown }) {
  const { json, ...rest } = over;
  return checkReply({
    platform: vwhPlatform,
    eventType: "call.started",
    expect: undefined,
    status: 200,
    headers: jsonHeaders,
    body: Buffer.from(json === undefined ? "" : JSON.stringify(json)),
    latencyMs: 10,
    budgetMs: 200,
    strictLatency: false,
    ...rest,
  });
}

export const speakListen = { instructions: [{ type: "speak", text: "Hello, how can I help?" }, { type: "listen" }] };
