/**
 * What each mutation run mutates (a file, or lines of one) and the fast, in-process test files that cover
 * it (dist/test/<dir>/<name>.test.js). A test file that spawns the CLI reaches no coverage Stryker can see, so
 * only in-process tests count here; the CLI's exit codes over mixed runs are in mixed-runs.test.ts.
 * The tap runner runs a mutant's files one after another until one fails, so one fast file written
 * for the area (verdicts, redaction, exit-codes) beats several broad ones: TESTING.md's "before" ran the
 * older, broader files (VWH_MUTATION_TESTS), at several times the cost.
 */
export const areas = {
  signing: { mutate: ["src/signing/**/*.ts"], tests: ["unit/signing-strict", "unit/signing"] },
  checks: {
    mutate: ["src/checks/**/*.ts", "src/engine/script-call.ts:61-121", "src/media/script.ts:140-170"],
    tests: ["unit/verdicts", "unit/verdicts-more", "unit/verdicts-corners"],
  },
  delivery: { mutate: ["src/engine/deliver-event.ts", "src/engine/retry-policy.ts"], tests: ["unit/delivery", "unit/faults", "unit/round-trips", "unit/engine-faults"] },
  redaction: { mutate: ["src/tunnel/redact.ts"], tests: ["unit/redaction-cases", "unit/redaction"] },
  "exit-codes": { mutate: ["src/ui/report-error.ts", "src/core/errors.ts"], tests: ["unit/exit-codes"] },
};
