/**
 * Runs every test file of one folder of dist/test in this one process, each file's tests in a suite named
 * after it (its hooks stay its own). `node --test` gives each file a process of its own; for the in-process
 * tests of test/unit and test/platforms, starting that process (Node, the test runner, zod, undici and the
 * platform SDKs every file imports again) cost more CPU than the tests: in one process the unit files took
 * 22 s of CPU instead of 38, the platform files 18 instead of 41. npm test runs dist/test/all-unit.js and
 * dist/test/all-platforms.js; a file still runs alone with node --test dist/test/<folder>/<name>.test.js.
 */
import { readdirSync } from "node:fs";
import { describe } from "node:test";

export function runFolder(folder: string): void {
  const dir = new URL(`./${folder}/`, import.meta.url);
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith(".test.js"))
    .sort()) {
    describe(`${folder}/${name}`, async () => {
      await import(new URL(name, dir).href);
    });
  }
}
