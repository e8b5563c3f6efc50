/**
 * Which test files share a process. `node --test` gives each file a process of its own, and starting it
 * (Node, the test runner, zod, undici, the platform SDKs every file imports again) cost more CPU than
 * many files' tests: in one process the unit files took 22 s of CPU instead of 38, the platform files 18
 * instead of 41. So every file of test/unit and test/platforms, and the listed files of test/cli and
 * test/e2e, run in one process per folder (dist/test/together-<folder>.js), each file's tests in a suite
 * named after it (its hooks stay its own). Every other file, and any new one in test/cli or test/e2e, keeps
 * a process of its own: files that spawn for long, drive a browser, or run the tunnel. npm test runs
 * dist/test/run.js, which hands node --test both; a file still runs alone with node --test dist/test/<folder>/<name>.test.js.
 */
import { readdirSync } from "node:fs";
import { describe } from "node:test";

const dist = new URL("./", import.meta.url);

/** The folders whose files share a process: all of them (undefined), or those named. */
export const together: Record<string, readonly string[] | undefined> = {
  unit: undefined,
  e2e: ["api-signing", "evidence", "media-stream", "mixed-runs", "recording-lock", "signatures", "simulate"],
  platforms: undefined,
  cli: ["cli-options", "flag-coverage", "hardening", "piped-output", "precedence"],
};

/** The built test files of a folder (dist/test/<folder>/*.test.js), sorted. */
export function testFiles(folder: string): string[] {
  return readdirSync(new URL(`${folder}/`, dist))
    .filter((name) => name.endsWith(".test.js"))
    .sort();
}

/** The files of `folder` that share its process. */
export function togetherFiles(folder: string): string[] {
  const listed = together[folder];
  return testFiles(folder).filter((name) => listed === undefined || listed.includes(name.replace(/\.test\.js$/, "")));
}

/** What node --test runs, relative to the repository: each folder's shared process first, then every other file. */
export function testEntries(): string[] {
  const folders = readdirSync(dist, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && testFiles(entry.name).length > 0)
    .map((entry) => entry.name)
    .sort();
  const shared = Object.keys(together).map((folder) => `dist/test/together-${folder}.js`);
  const alone = folders.flatMap((folder) =>
    testFiles(folder)
      .filter((name) => !(folder in together) || !togetherFiles(folder).includes(name))
      .map((name) => `dist/test/${folder}/${name}`),
  );
  return [...shared, ...alone];
}

/** Runs the shared files of `folder` in this process, each in a suite of its own. */
export function runTogether(folder: string): void {
  for (const name of togetherFiles(folder)) {
    describe(`${folder}/${name}`, async () => {
      await import(new URL(`${folder}/${name}`, dist).href);
    });
  }
}
