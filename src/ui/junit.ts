/** JUnit XML: one testsuite per flow, one testcase per event, as CI systems render it. */
import type { Finding } from "../core/findings.js";
import { summarize, type Exchange, type FlowResult, type SimulationResult } from "../engine/results.js";
import { formatProblem } from "../lib/validation.js";
import { formatExchange, formatTurnMedia, quoteSays } from "./simulate-report.js";

export function escapeXml(text: string): string {
  // Drop characters XML 1.0 cannot carry at all, then escape markup.
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

interface TestCase {
  name: string;
  timeMs: number | undefined;
  passed: boolean;
  failures: Finding[];
  warnings: Finding[];
  /** What was sent and what came back (failed events). */
  exchange?: Exchange | undefined;
  /** Lines for system-out besides the warnings (a turn's text and media figures). */
  output?: string[];
}

/** A flow's test cases: one per webhook, and for caller scripts one per turn (its expectations). */
function testCases(flow: FlowResult): TestCase[] {
  const events = flow.events.map((event) => ({
    name: `${event.sequence} ${event.eventType}`,
    timeMs: event.latencyMs,
    passed: event.passed,
    failures: event.failures,
    warnings: event.warnings,
    exchange: event.exchange,
  }));
  const turns = (flow.turns ?? []).map((turn) => ({
    name: `step ${turn.step + 1}: ${turn.label}`,
    timeMs: undefined,
    passed: turn.passed,
    failures: turn.failures,
    warnings: [],
    output: [...(turn.says ? [`says ${quoteSays(turn.says)}`] : []), ...(turn.media ? [formatTurnMedia(turn.media)] : [])],
  }));
  return [...events, ...turns];
}

export function toJUnitXml(result: SimulationResult): string {
  // The totals come from the one summary the text and --json reports print: a test case per event and per turn.
  const summary = summarize(result);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    ...(result.interrupted ? ["<!-- interrupted (Ctrl-C): partial results -->"] : []),
    `<testsuites name="vwh simulate" tests="${summary.events + summary.turns}" failures="${summary.failed}" errors="0" time="${seconds(result.durationMs)}">`,
  ];
  for (const flow of result.flows) {
    const cases = testCases(flow);
    const flowFailures = cases.filter((testCase) => !testCase.passed).length;
    const flowTime = cases.reduce((sum, testCase) => sum + (testCase.timeMs ?? 0), 0);
    lines.push(
      `  <testsuite name="${escapeXml(flow.name)}" file="${escapeXml(flow.file)}" tests="${cases.length}" failures="${flowFailures}" errors="0" time="${seconds(flowTime)}">`,
    );
    const interrupted = result.interrupted ? `<property name="interrupted" value="true"/>` : "";
    lines.push(
      `    <properties><property name="seed" value="${result.seed}"/><property name="platform" value="${escapeXml(flow.platform)}"/>${interrupted}</properties>`,
    );
    for (const testCase of cases) {
      const open = `    <testcase classname="${escapeXml(flow.name)}" name="${escapeXml(testCase.name)}" time="${seconds(testCase.timeMs)}"`;
      const output = [...(testCase.output ?? []), ...testCase.warnings.map((w) => `warning: ${w.message}`)];
      if (testCase.passed && output.length === 0) {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (!testCase.passed) {
        const reasons = testCase.failures.map((finding) => formatProblem({ path: finding.path ?? "", message: finding.message }));
        const evidence = testCase.exchange ? [formatExchange(testCase.exchange)] : [];
        lines.push(
          `      <failure message="${escapeXml(reasons[0] ?? "failed")}" type="${escapeXml(testCase.failures[0]?.kind ?? "check")}">${escapeXml([...reasons, ...evidence].join("\n"))}</failure>`,
        );
      }
      if (output.length) lines.push(`      <system-out>${escapeXml(output.join("\n"))}</system-out>`);
      lines.push("    </testcase>");
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}
