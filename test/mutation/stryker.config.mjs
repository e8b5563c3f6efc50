/**
 * StrykerJS over the code where a bug means a wrong verdict or a leak (issue 30). One area per run, chosen
 * by VWH_MUTATION_AREA (test/mutation/run.mjs runs them all and prints the scores): each mutates its
 * sources in TypeScript, builds once in Stryker's sandbox (tsc; Stryker marks mutated files @ts-nocheck)
 * and runs only the fast, in-process test files that cover the area — each file is one "test" to the tap
 * runner, and per-test coverage sends a mutant only to the files that reach it.
 */
import { areas } from "./areas.mjs";

const name = process.env.VWH_MUTATION_AREA ?? "checks";
const area = areas[name];
if (!area) throw new Error(`VWH_MUTATION_AREA: unknown area "${name}" (expected one of ${Object.keys(areas).join(", ")})`);

// Seen by the test files (inherited through Stryker's workers): property tests skip shrinking.
process.env.VWH_MUTATION = "1";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: area.mutate,
  testRunner: "tap",
  // VWH_MUTATION_TESTS=a,b runs the area against those test files only (how TESTING.md's "before" was measured).
  tap: { testFiles: (process.env.VWH_MUTATION_TESTS?.split(",") ?? area.tests).map((file) => `dist/test/${file}.test.js`), forceBail: true },
  plugins: ["@stryker-mutator/tap-runner"],
  buildCommand: "npm run build",
  // typescript 7 has no compiler API for Stryker to rewrite tsconfig.json with: it has no references to rewrite.
  tsconfigFile: "test/mutation/no-tsconfig-rewrite.json",
  coverageAnalysis: "perTest",
  concurrency: Number(process.env.VWH_MUTATION_CONCURRENCY ?? 2),
  // A mutant that makes a test hang is killed by the timeout; tests on a fake clock never sleep.
  timeoutMS: 3_000,
  timeoutFactor: 1.5,
  ignorePatterns: ["test/mutation/node_modules", "test/artillery/node_modules", "reports", ".stryker-tmp"],
  tempDirName: ".stryker-tmp",
  reporters: ["clear-text", "json", "progress-append-only"],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 80, break: null },
  cleanTempDir: "always",
};
