/**
 * The layout's promises (issue 22): no import circles, few files loose at src/'s root, no hand-written source
 * file over 450 lines, the same file set in every platform folder, and every setting declared once in the
 * settings table (src/cli/settings.ts) from which the CLI, the config schema and `vwh config` are generated.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { cliColumnsOf, commandNames, defaultOf, helpOf, settings, settingsOf, type Setting } from "../../src/cli/settings.js";
import { cliColumns } from "../../src/cli/settings/columns.js";
import { configSchema } from "../../src/cli/config-schema.js";
import { platformIds } from "../../src/platforms/registry.js";
import { binPath, repoRoot } from "../helpers.js";

const srcRoot = join(repoRoot, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative imports (static, re-exports and dynamic) of each source file, as source paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const text = readFileSync(file, "utf8");
      const targets = [...text.matchAll(/(?:from\s+|import\s*\(\s*)"(\.{1,2}\/[^"]+)\.js"/g)].map((match) => resolve(dirname(file), `${match[1]}.ts`));
      return [file, targets.filter((target) => known.has(target))];
    }),
  );
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.get(file)?.includes(file)) circles.push(component);
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}

describe("the source layout", () => {
  const files = sourceFiles(srcRoot);

  it("has no import circles", () => {
    const circles = importCircles(importGraph(files)).map((circle) => circle.map((file) => relative(repoRoot, file)).join(" ↔ "));
    assert.deepEqual(circles, []);
  });

  it("finds a circle when there is one (the check itself)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    assert.deepEqual(
      importCircles(graph).map((circle) => circle.sort()),
      [["a", "b", "c"]],
    );
  });

  it("keeps tests in test/{unit,cli,e2e,platforms}/ and the benches in test/bench/, none at test/'s root", () => {
    const loose = readdirSync(join(repoRoot, "test")).filter((name) => name.endsWith(".test.ts"));
    assert.deepEqual(loose, [], "move them into test/unit, test/cli, test/e2e or test/platforms (npm test runs dist/test/*/*.test.js)");
  });

  it("keeps at most 4 files at src/'s root and no hand-written source file over 450 lines", () => {
    const loose = readdirSync(srcRoot).filter((name) => statSync(join(srcRoot, name)).isFile());
    assert.ok(loose.length <= 4, `src/ root holds ${loose.join(", ")}`);
    const long = files.map((file) => [relative(repoRoot, file), readFileSync(file, "utf8").split("\n").length] as const).filter(([, lines]) => lines > 450);
    assert.deepEqual(long, []);
  });

  it("gives every platform folder the same file set behind the Platform interface", () => {
    const fileSet = ["index.ts", "driver.ts", "reply.ts", "starters.ts", "grammar.ts"];
    for (const id of platformIds) {
      const present = readdirSync(join(srcRoot, "platforms", id));
      assert.deepEqual(
        fileSet.filter((name) => !present.includes(name)),
        [],
        `src/platforms/${id}/ lacks files of the set`,
      );
    }
  });
});

describe("the settings table", () => {
  const rows = Object.entries(settings) as [string, Setting][];

  it("gives each command one row per flag and option name, with help", () => {
    for (const command of commandNames) {
      const own = settingsOf(command);
      const flags = own.map((row) => row.flag.replace(/^-\w, /, "").split(" ")[0]);
      assert.equal(new Set(flags).size, flags.length, `${command}: a flag declared twice`);
      assert.equal(new Set(own.map((row) => row.key)).size, own.length, `${command}: an option name declared twice`);
      for (const row of own) assert.ok(helpOf(row, command).length > 0, `${command} ${row.flag}: no help`);
    }
  });

  it("keeps columns.json, what commander and --help read without zod, equal to the table (npm run generate:cli-columns)", () => {
    assert.deepEqual(cliColumns(), JSON.parse(JSON.stringify(Object.values(settings).map(cliColumnsOf))));
  });

  it("lets `vwh --help` load no zod and no command (each costs start-up time)", () => {
    const loaded = spawnSync(
      process.execPath,
      [
        "--import",
        "data:text/javascript,import{register}from'node:module';register('data:text/javascript,export async function resolve(s,c,n){const r=await n(s,c);process.stderr.write(\"LOAD \"+r.url+\"\\n\");return r}')",
        binPath,
        "--help",
      ],
      { encoding: "utf8" },
    );
    assert.equal(loaded.status, 0, loaded.stderr);
    const urls = loaded.stderr.split("\n").filter((line) => line.startsWith("LOAD "));
    assert.ok(
      urls.some((url) => url.includes("commander")),
      "the hook saw the modules loaded",
    );
    assert.deepEqual(
      urls.filter((url) => /\/zod\/|\/commands\/|\/platforms\//.test(url)),
      [],
    );
  });

  it("parses every default with its own schema, and names each variable and config key once", () => {
    for (const [id, row] of rows) if (row.default !== undefined) assert.doesNotThrow(() => row.schema.parse(row.default), `${id}: default ${row.default}`);
    const envs = rows.flatMap(([, row]) => (row.env ? [row.env] : []));
    assert.equal(new Set(envs).size, envs.length);
    const keys = rows.flatMap(([, row]) => (row.config ? [row.config.key] : []));
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(defaultOf("budget"), 200);
    assert.equal(defaultOf("maxHops"), 50);
  });

  it("generates the config file's schema: every row's key is accepted there, typed", () => {
    const hmac = configSchema.shape.hmac.unwrap() as unknown as { shape: Record<string, unknown> };
    for (const [, row] of rows) {
      if (!row.config) continue;
      const [head, tail] = row.config.key.split(".");
      if (tail) assert.ok(tail in hmac.shape, `config ${row.config.key}`);
      else assert.ok(head! in configSchema.shape, `config ${row.config.key}`);
    }
    assert.equal(configSchema.safeParse({ budget_ms: "200" }).success, false, "a config number is a number");
    assert.equal(configSchema.safeParse({ budget_ms: 150, hmac: { header: "x-sig" } }).success, true);
  });

  it("writes the budget's default once in src/", () => {
    const mentions = sourceFiles(srcRoot).filter((file) => /budget[^\n]*\b200\b|\b200\b[^\n]*budget/i.test(readFileSync(file, "utf8")));
    assert.deepEqual(
      mentions.map((file) => relative(repoRoot, file)),
      [],
      "the budget default lives in src/cli/settings.ts as the row's default only",
    );
  });
});
