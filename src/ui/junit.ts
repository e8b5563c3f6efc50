/** JUnit XML: one testsuite per flow, one testcase per event, as CI systems render it. */
import type { SimulationResult } from "../simulate.js";
import { formatProblem } from "../validation.js";

function escapeXml(text: string): string {
  // Drop characters XML 1.0 cannot carry at all, then escape markup.
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

export function toJUnitXml(result: SimulationResult): string {
  const events = result.flows.flatMap((flow) => flow.events);
  const failures = events.filter((event) => !event.passed).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    ...(result.interrupted ? ["<!-- interrupted (Ctrl-C): partial results -->"] : []),
    `<testsuites name="vwh simulate" tests="${events.length}" failures="${failures}" errors="0" time="${seconds(result.durationMs)}">`,
  ];
  for (const flow of result.flows) {
    const flowFailures = flow.events.filter((event) => !event.passed).length;
    const flowTime = flow.events.reduce((sum, event) => sum + (event.latencyMs ?? 0), 0);
    lines.push(
      `  <testsuite name="${escapeXml(flow.name)}" file="${escapeXml(flow.file)}" tests="${flow.events.length}" failures="${flowFailures}" errors="0" time="${seconds(flowTime)}">`,
    );
    const interrupted = result.interrupted ? `<property name="interrupted" value="true"/>` : "";
    lines.push(`    <properties><property name="seed" value="${result.seed}"/>${interrupted}</properties>`);
    for (const event of flow.events) {
      const name = escapeXml(`${event.sequence} ${event.eventType}`);
      const open = `    <testcase classname="${escapeXml(flow.name)}" name="${name}" time="${seconds(event.latencyMs)}"`;
      if (event.passed && event.warnings.length === 0) {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (!event.passed) {
        const reasons = event.failures.map((finding) => formatProblem({ path: finding.path ?? "", message: finding.message }));
        lines.push(`      <failure message="${escapeXml(reasons[0] ?? "failed")}" type="${escapeXml(event.failures[0]?.kind ?? "check")}">${escapeXml(reasons.join("\n"))}</failure>`);
      }
      if (event.warnings.length) {
        lines.push(`      <system-out>${escapeXml(event.warnings.map((w) => `warning: ${w.message}`).join("\n"))}</system-out>`);
      }
      lines.push("    </testcase>");
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}
