/**
 * JUnit XML of a load run: one testcase per event type, one for the caller scripts' turns and one for
 * the turns on media streams, each failing when any of its kind failed (counts by kind and the first
 * failures in the text). A load run keeps aggregates, not each event, so that is what CI gets.
 */
import type { LoadResult } from "../engine/load/run.js";
import type { FailureSample, TurnCounts } from "../engine/load/stats.js";
import { escapeXml } from "./junit.js";
import { sampleWhere, type LoadDescription } from "./load-report.js";

interface LoadCase {
  name: string;
  total: number;
  failed: number;
  kinds: ReadonlyMap<string, number>;
  samples: FailureSample[];
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function toLoadJUnitXml(result: LoadResult, run: LoadDescription): string {
  const { stats } = result;
  const samples = stats.samples;
  const cases: LoadCase[] = stats.perType().map((entry) => ({
    name: `events: ${entry.eventType}`,
    total: entry.events,
    failed: entry.failed,
    kinds: new Map(),
    samples: samples.filter((sample) => sample.source === "event" && sample.eventType === entry.eventType),
  }));
  // Kinds are counted over all events, not per type: they go with the first failing type's case.
  const firstFailing = cases.find((testCase) => testCase.failed > 0);
  if (firstFailing) firstFailing.kinds = stats.failuresByKind;
  const turnCase = (name: string, counts: TurnCounts, source: FailureSample["source"]): LoadCase => ({
    name,
    total: counts.total,
    failed: counts.failed,
    kinds: counts.failuresByKind,
    samples: samples.filter((sample) => sample.source === source),
  });
  if (stats.turns.total) cases.push(turnCase("turns", stats.turns, "turn"));
  if (stats.streams.total) cases.push(turnCase("streams", stats.streams, "stream"));
  const failures = cases.filter((testCase) => testCase.failed > 0).length;
  const name = `load: ${run.calls} calls, concurrency ${run.concurrency}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    ...(result.interrupted ? ["<!-- interrupted (Ctrl-C): partial results -->"] : []),
    `<testsuites name="vwh simulate" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds(result.durationMs)}">`,
    `  <testsuite name="${escapeXml(name)}" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds(result.durationMs)}">`,
    `    <properties><property name="seed" value="${result.seed}"/><property name="target" value="${escapeXml(run.target)}"/><property name="calls_started" value="${stats.callsStarted}"/><property name="calls_failed" value="${stats.callsFailed}"/>${result.warmup ? `<property name="warmup_calls" value="${result.warmup.calls}"/><property name="warmup_failed" value="${result.warmup.failed}"/>` : ""}${result.interrupted ? `<property name="interrupted" value="true"/>` : ""}</properties>`,
  ];
  for (const testCase of cases) {
    const open = `    <testcase classname="${escapeXml(name)}" name="${escapeXml(testCase.name)}" time="0.000"`;
    if (testCase.failed === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    const summary = `${testCase.failed} of ${testCase.total} failed`;
    const body = [
      summary,
      ...(testCase.kinds.size ? [`by kind: ${[...testCase.kinds].map(([kind, count]) => `${kind} ${count}`).join(", ")}`] : []),
      ...testCase.samples.map((sample) => `${sampleWhere(sample)}: ${sample.message}`),
    ];
    lines.push(
      `${open}>`,
      `      <failure message="${escapeXml(summary)}" type="${escapeXml(testCase.samples[0]?.kind ?? "check")}">${escapeXml(body.join("\n"))}</failure>`,
      "    </testcase>",
    );
  }
  if (result.unreachable) lines.push(`    <system-err>${escapeXml(`could not reach the handler: ${result.unreachable}`)}</system-err>`);
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
