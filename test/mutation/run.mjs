/**
 * `npm run test:mutation [area …]`: StrykerJS over each area of test/mutation/areas.mjs in turn (all by
 * default), then the score of each from its JSON report. Run from the repository's root. Not part of
 * `npm test` or CI: a run of every area takes tens of minutes on 2 cores.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { areas } from "./areas.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const stryker = fileURLToPath(new URL("node_modules/@stryker-mutator/core/bin/stryker.js", import.meta.url));
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(areas);
for (const name of chosen) if (!areas[name]) throw new Error(`unknown area "${name}" (expected one of ${Object.keys(areas).join(", ")})`);

/** Killed (a test failed or timed out) over every mutant that ran or was not covered. */
export function score(report) {
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const file of Object.values(report.files)) for (const mutant of file.mutants) if (mutant.status in counts) counts[mutant.status] += 1;
  const detected = counts.Killed + counts.Timeout;
  const total = detected + counts.Survived + counts.NoCoverage;
  return { ...counts, total, score: total === 0 ? 100 : (100 * detected) / total };
}

const rows = [];
for (const name of chosen) {
  const result = spawnSync(process.execPath, [stryker, "run", "test/mutation/stryker.config.mjs"], { cwd: root, stdio: "inherit", env: { ...process.env, VWH_MUTATION_AREA: name } });
  if (result.status !== 0) {
    console.error(`stryker failed on ${name} (exit ${result.status})`);
    process.exitCode = 1;
    continue;
  }
  rows.push([name, score(JSON.parse(readFileSync(`${root}reports/mutation/${name}.json`, "utf8")))]);
}
console.log("\narea        score    killed  timeout  survived  no coverage");
for (const [name, s] of rows) {
  console.log(`${name.padEnd(11)} ${s.score.toFixed(1).padStart(5)} %  ${String(s.Killed).padStart(6)}  ${String(s.Timeout).padStart(7)}  ${String(s.Survived).padStart(8)}  ${String(s.NoCoverage).padStart(11)}`);
}
