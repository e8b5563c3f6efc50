/**
 * What each mutation run mutates (a file, or lines of one) and the fast, in-process test files that cover
 * it (dist/test/<name>.test.js). A test file that spawns the CLI reaches no coverage Stryker can see, so
 * only in-process tests count here; the CLI's exit codes over mixed runs are in mixed-runs.test.ts.
 */
export const areas = {
  signing: { mutate: ["src/signing/**/*.ts"], tests: ["signing"] },
  checks: {
    mutate: ["src/checks/**/*.ts", "src/engine/script-call.ts:46-79", "src/media/script.ts:67-84"],
    tests: ["verdicts", "check-reply", "caller-scripts", "instructions"],
  },
  delivery: { mutate: ["src/engine/deliver-event.ts", "src/engine/retry-policy.ts"], tests: ["engine-faults", "faults", "round-trips"] },
  redaction: { mutate: ["src/tunnel/redact.ts"], tests: ["redaction", "tunnel-proxy"] },
  "exit-codes": { mutate: ["src/ui/report-error.ts", "src/core/errors.ts"], tests: ["exit-codes"] },
};
