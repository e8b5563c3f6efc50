/**
 * Which test files share a process. `node --test` gives each file a process of its own, and starting it
 * (Node, the test runner, zod, undici, playwright, the platform SDKs every file imports again) cost more CPU
 * than many files' tests: in one process the unit files took 22 s of CPU instead of 38, the platform files 18
 * instead of 41. So the files of each group below run in one process (dist/test/together-<group>.js), each
 * file's tests in a suite named after it (its hooks stay its own). Every other file, and any new one in
 * test/cli or test/e2e, keeps a process of its own: files that spawn for long or wait on real-time streams.
 * npm test runs dist/test/run.js, which hands node's test runner both, in startOrder; a file still runs
 * alone with node --test dist/test/<folder>/<name>.test.js.
 */
import { readdirSync } from "node:fs";
import { describe } from "node:test";

const dist = new URL("./", import.meta.url);

/**
 * The shared processes: each group runs in dist/test/together-<group>.js the files it names, `<folder>/<name>`,
 * or `<folder>/*` for all of a folder's. The tunnel and browser files share theirs apart from e2e's, so that no
 * process is much longer than the longest file that runs alone; the files that mostly wait on processes they
 * spawn (handlers under attack, `vwh init` in a terminal, tunnels to signal) join a CPU-bound group.
 */
export const together: Record<string, readonly string[]> = {
  unit: ["unit/*"],
  e2e: ["e2e/api-signing", "e2e/evidence", "e2e/media-stream", "e2e/mixed-runs", "e2e/recording-lock", "e2e/signatures", "e2e/simulate"],
  tunnel: [
    "e2e/inspector-actions",
    "e2e/inspector-bound-browser",
    "e2e/inspector-browser",
    "e2e/inspector-tools-browser",
    "e2e/tunnel",
    "e2e/tunnel-faults",
    "e2e/tunnel-hardening",
    "e2e/tunnel-inspector",
    "e2e/tunnel-proxy",
  ],
  platforms: ["platforms/*", "e2e/handler-attacks"],
  // Not cli/export-artillery: where Artillery is installed it runs ~20 s of its own, started early.
  cli: ["cli/cli-options", "cli/flag-coverage", "cli/hardening", "cli/init-config", "cli/piped-output", "cli/precedence", "cli/secrets-on-disk"],
};

/** The built test files of a folder (dist/test/<folder>/*.test.js), sorted. */
export function testFiles(folder: string): string[] {
  return readdirSync(new URL(`${folder}/`, dist))
    .filter((name) => name.endsWith(".test.js"))
    .sort();
}

/** The files of `group` that share its process, as paths under dist/test/ (<folder>/<name>.test.js). */
export function togetherFiles(group: string): string[] {
  return together[group]!.flatMap((pattern) => {
    const [folder, name] = pattern.split("/") as [string, string];
    return testFiles(folder)
      .filter((file) => name === "*" || file === `${name}.test.js`)
      .map((file) => `${folder}/${file}`);
  });
}

/**
 * The order files start in: the longest CPU-bound groups first, then the README's demo (it streams audio in real
 * time) and runs-as-printed (it waits on npm) beside them, the shorter groups last, so that no long file starts
 * late and ends the run alone. Measured side by side on 2 cores, four at a time (test/run.ts): this order took
 * 52–54 s where the demo and runs-as-printed first took 59–63 s, and the tunnel group third 58–60 s. The
 * Artillery end-to-end test (about 20 s where test/artillery is installed, as in CI; it skips at once elsewhere)
 * starts third, alone, so that it is not what ends the run.
 * Unlisted entries start after, in path order.
 */
export const startOrder = [
  "together-unit.js",
  "together-platforms.js",
  "cli/export-artillery.test.js",
  "cli/package.test.js",
  "e2e/runs-as-printed.test.js",
  "together-tunnel.js",
  "together-e2e.js",
  "together-cli.js",
];

/** What npm test runs, relative to the repository, in startOrder: each group's shared process, and every other file. */
export function testEntries(): string[] {
  const folders = readdirSync(dist, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && testFiles(entry.name).length > 0)
    .map((entry) => entry.name)
    .sort();
  const grouped = new Set(Object.keys(together).flatMap(togetherFiles));
  const shared = Object.keys(together).map((group) => `together-${group}.js`);
  const alone = folders.flatMap((folder) =>
    testFiles(folder)
      .map((name) => `${folder}/${name}`)
      .filter((path) => !grouped.has(path)),
  );
  const rank = (entry: string) => (startOrder.includes(entry) ? startOrder.indexOf(entry) : startOrder.length);
  return [...shared, ...alone].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((entry) => `dist/test/${entry}`);
}

/** Runs the shared files of `group` in this process, each in a suite of its own. */
export function runTogether(group: string): void {
  for (const path of togetherFiles(group)) {
    describe(path, async () => {
      await import(new URL(path, dist).href);
    });
  }
}
