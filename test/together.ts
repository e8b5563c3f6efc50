/**
 * Which test files share a process. `node --test` gives each file a process of its own, and starting it
 * (Node, the test runner, zod, undici, playwright, the platform SDKs every file imports again) cost more CPU
 * than many files' tests: in one process the unit files took 22 s of CPU instead of 38, the platform files 18
 * instead of 41. So the files of each group below run in one process (dist/test/together-<group>.js), each
 * file's tests in a suite named after it (its hooks stay its own). Every other file, and any new one in
 * test/cli or test/e2e, keeps a process of its own: files that spawn for long or wait on real-time streams.
 * npm test runs dist/test/run.js, which hands node --test both; a file still runs alone with
 * node --test dist/test/<folder>/<name>.test.js.
 */
import { readdirSync } from "node:fs";
import { describe } from "node:test";

const dist = new URL("./", import.meta.url);

/**
 * The shared processes: each group runs the files listed of its folder (all of them when none is listed) in
 * dist/test/together-<group>.js. The tunnel and browser files share theirs apart from e2e's, so that neither
 * process is much longer than the longest file that runs alone.
 */
export const together: Record<string, { folder: string; files?: readonly string[] }> = {
  unit: { folder: "unit" },
  e2e: { folder: "e2e", files: ["api-signing", "evidence", "media-stream", "mixed-runs", "recording-lock", "signatures", "simulate"] },
  tunnel: {
    folder: "e2e",
    files: [
      "inspector-actions",
      "inspector-bound-browser",
      "inspector-browser",
      "inspector-tools-browser",
      "tunnel-faults",
      "tunnel-hardening",
      "tunnel-inspector",
      "tunnel-proxy",
    ],
  },
  platforms: { folder: "platforms" },
  cli: { folder: "cli", files: ["cli-options", "export-artillery", "flag-coverage", "hardening", "piped-output", "precedence", "secrets-on-disk"] },
};

/** The built test files of a folder (dist/test/<folder>/*.test.js), sorted. */
export function testFiles(folder: string): string[] {
  return readdirSync(new URL(`${folder}/`, dist))
    .filter((name) => name.endsWith(".test.js"))
    .sort();
}

/** The files of `group` that share its process, as paths under dist/test/ (<folder>/<name>.test.js). */
export function togetherFiles(group: string): string[] {
  const { folder, files } = together[group]!;
  return testFiles(folder)
    .filter((name) => files === undefined || files.includes(name.replace(/\.test\.js$/, "")))
    .map((name) => `${folder}/${name}`);
}

/**
 * The files that wait longest (the README's demo streams audio in real time; runs-as-printed waits on npm):
 * started first, their waiting overlaps the CPU-bound groups instead of ending the run alone.
 */
export const startFirst = ["cli/package.test.js", "e2e/runs-as-printed.test.js"];

/** What node --test runs, relative to the repository: the files that wait longest, each group's shared process, then every other file. */
export function testEntries(): string[] {
  const folders = readdirSync(dist, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && testFiles(entry.name).length > 0)
    .map((entry) => entry.name)
    .sort();
  const grouped = new Set(Object.keys(together).flatMap(togetherFiles));
  const shared = Object.keys(together).map((group) => `dist/test/together-${group}.js`);
  const alone = folders.flatMap((folder) =>
    testFiles(folder)
      .map((name) => `${folder}/${name}`)
      .filter((path) => !grouped.has(path))
      .map((path) => `dist/test/${path}`),
  );
  const first = startFirst.map((path) => `dist/test/${path}`).filter((entry) => alone.includes(entry));
  return [...first, ...shared, ...alone.filter((entry) => !first.includes(entry))];
}

/** Runs the shared files of `group` in this process, each in a suite of its own. */
export function runTogether(group: string): void {
  for (const path of togetherFiles(group)) {
    describe(path, async () => {
      await import(new URL(path, dist).href);
    });
  }
}
