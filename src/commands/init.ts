/**
 * `vwh init`: asks (with @inquirer/prompts, imported only here) for the platform first, then the handler
 * URL, the scheme (where the platform has a choice), the secret's variable, the scenarios, the folder and
 * CI; then writes the flows, vwh.config.json, an optional GitHub workflow, and vwh into package.json
 * (vendoring the running vwh when the project does not list it). Every target is checked before the first write: an existing file is never
 * overwritten without --force, and Ctrl-C at a prompt writes nothing.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import * as z from "zod";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { ExitCode, UsageError, VwhError } from "../core/errors.js";
import { defaultAnswers, listsVwh, planProjectFiles, vendoredTarball, workflowSecrets, type InitAnswers } from "../init/project-files.js";
import { defaultPlatformId, loadPlatform, platformIds, type PlatformId } from "../platforms/registry.js";
import type { Platform } from "../platforms/types.js";
import { globalOptionsSchema, parseOptions } from "../cli/parse-options.js";
import { schemes, type SchemeName } from "../signing/index.js";
import { exists } from "../lib/file-exists.js";
import { readTextFile } from "../files/json-file.js";
import { vwhVersion } from "../core/version.js";
import { vwhTarball } from "../core/self-tarball.js";
import { createOutput, type Streams } from "../ui/output.js";

export const initOptionsSchema = globalOptionsSchema.extend({
  yes: z.boolean().default(false),
  force: z.boolean().default(false),
  // Absent: asked first (or the default platform under --yes).
  platform: z.enum(platformIds).optional(),
});

/** The subset of @inquirer/prompts that init uses (injected in tests). */
export interface Prompter {
  input(config: { message: string; default?: string; validate?: (value: string) => boolean | string }): Promise<string>;
  select(config: { message: string; choices: { name: string; value: string; description?: string }[]; default?: string }): Promise<string>;
  checkbox(config: { message: string; choices: { name: string; value: string; checked?: boolean }[]; required?: boolean }): Promise<string[]>;
  confirm(config: { message: string; default?: boolean }): Promise<boolean>;
}

const validUrl = (value: string) => (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)) || "expected an http:// or https:// URL";
const validEnvName = (value: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) || "expected an environment variable name like VOICE_WEBHOOK_SECRET";
const validFolder = (value: string) => (value.trim() !== "" && !value.includes("\0")) || "expected a folder name";

type InitPlatform = Pick<Platform, "id" | "summary" | "scheme" | "schemes" | "starters" | "examplePath">;

/** The answers `--yes` takes for a platform: its scheme and every starter it offers. */
export function platformDefaults(platform: Pick<Platform, "id" | "scheme" | "starters" | "examplePath">): InitAnswers {
  // The example handler's path, so `vwh simulate` works at once against examples/<id>-handler.js.
  const url = platform.examplePath ? new URL(platform.examplePath, defaultAnswers.url).href : defaultAnswers.url;
  return {
    ...defaultAnswers,
    platform: platform.id as InitAnswers["platform"],
    url,
    scheme: platform.scheme,
    scenarios: platform.starters.map((starter) => starter.id),
  };
}

/**
 * The questions, the platform first: it decides the scenarios on offer and the schemes a flow of it may be
 * signed with (a platform's own; vwh's generic ones only for vwh flows), so no answer mixes two platforms.
 * `chosen` skips that first question (--platform).
 */
export async function askAnswers(prompt: Prompter, chosen?: InitPlatform): Promise<InitAnswers> {
  let platform = chosen;
  if (!platform) {
    const summaries = await Promise.all(platformIds.map(async (id) => ({ id, summary: (await loadPlatform(id)).summary })));
    const id = await prompt.select({
      message: "Platform your handler serves",
      choices: summaries.map(({ id, summary }) => ({ name: id, value: id, description: summary })),
      default: defaultPlatformId,
    });
    platform = await loadPlatform(id as PlatformId);
  }
  const defaults = platformDefaults(platform);
  const url = await prompt.input({ message: "Your handler's webhook URL", default: defaults.url, validate: validUrl });
  const offered = platform.schemes ?? [platform.scheme];
  const scheme =
    offered.length > 1
      ? await prompt.select({
          message: "Signature scheme",
          choices: offered.map((name) => ({ name, value: name, description: schemes[name as SchemeName]?.summary ?? "" })),
          default: defaults.scheme,
        })
      : defaults.scheme;
  const secretEnv = await prompt.input({
    message: "Environment variable that holds the signing secret (for vwh)",
    default: defaultAnswers.secretEnv,
    validate: validEnvName,
  });
  const scenarios = await prompt.checkbox({
    message: "Scenarios to generate",
    choices: platform.starters.map((scenario) => ({ name: scenario.title, value: scenario.id, checked: true })),
    required: true,
  });
  const folder = await prompt.input({ message: "Folder for the call flows", default: defaultAnswers.folder, validate: validFolder });
  const ci = await prompt.confirm({ message: "Add a GitHub Actions workflow (.github/workflows/voice-webhooks.yml)?", default: true });
  const startCommand = ci
    ? await prompt.input({ message: "Command that starts your handler in CI", default: defaultAnswers.startCommand })
    : defaultAnswers.startCommand;
  return { platform: defaults.platform, url, scheme, secretEnv, scenarios, folder: folder.trim(), ci, startCommand };
}

/** What is at a path: a folder, something else (a file), or nothing; other errors (EACCES) say so. */
async function kindAt(path: string): Promise<"folder" | "file" | "none"> {
  try {
    return (await stat(path)).isDirectory() ? "folder" : "file";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "none";
    if (code === "ENOTDIR") return "file"; // a part of it is a file: reported at that part
    throw new UsageError(`${path}: cannot be checked (${code ?? (error as Error).message}): nothing written`);
  }
}

/**
 * Every target checked before the first write (issue 26, defect 7): each folder on the way must be a
 * folder or not exist yet, each file must not be a folder, and an existing file is refused without --force.
 */
async function checkTargets(files: readonly { path: string; kind: "create" | "update" }[], cwd: string, force: boolean): Promise<void> {
  const checked = new Set<string>();
  for (const file of files) {
    const parts = relative(cwd, file.path).split(sep);
    for (let end = 1; end < parts.length; end++) {
      const folder = parts.slice(0, end).join(sep);
      if (checked.has(folder)) continue;
      checked.add(folder);
      if ((await kindAt(join(cwd, folder))) === "file")
        throw new UsageError(`${folder} is a file, but vwh init needs a folder there: nothing written`, "move or rename it, then run vwh init again");
    }
    const kind = await kindAt(file.path);
    const name = relative(cwd, file.path);
    if (kind === "folder")
      throw new UsageError(`${name} is a folder, but vwh init writes a file there: nothing written`, "move or rename it, then run vwh init again");
    if (kind === "file" && file.kind === "create" && !force) throw new UsageError(`${name} already exists: nothing written (--force overwrites)`);
  }
}

export interface InitDependencies {
  prompt?: Prompter;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  interactive?: boolean;
  streams?: Streams;
}

export async function initCommand(rawOptions: unknown, dependencies: InitDependencies = {}): Promise<void> {
  const options = parseOptions(initOptionsSchema, rawOptions);
  const env = dependencies.env ?? process.env;
  const cwd = dependencies.cwd ?? process.cwd();
  const output = createOutput(options, env, dependencies.streams);

  let platform = options.platform === undefined ? undefined : await loadPlatform(options.platform);
  let answers: InitAnswers;
  if (options.yes) {
    platform ??= await loadPlatform(defaultPlatformId);
    answers = platformDefaults(platform);
  } else {
    const interactive = dependencies.interactive ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
    if (!dependencies.prompt && !interactive) throw new UsageError("vwh init asks questions: run it in a terminal, or pass --yes for the defaults");
    const prompt = dependencies.prompt ?? ((await import("@inquirer/prompts")) as unknown as Prompter);
    try {
      answers = await askAnswers(prompt, platform);
    } catch (error) {
      if ((error as Error).name === "ExitPromptError" || (error as Error).name === "AbortPromptError") {
        throw new VwhError("cancelled: nothing written", { exitCode: ExitCode.interrupted });
      }
      throw error;
    }
    platform ??= await loadPlatform(answers.platform);
  }

  const packageJsonPath = join(cwd, "package.json");
  const packageJson = (await exists(packageJsonPath)) ? await readTextFile(packageJsonPath, "package.json") : undefined;
  // Not in package.json yet: the running vwh goes into vendor/ and package.json points at it (see the README's
  // "In your own project"), so `npm install`, and `npm ci` on a fresh CI runner, install exactly this vwh.
  const vendored = listsVwh(packageJson, packageJsonPath) ? undefined : { path: vendoredTarball(), content: Buffer.alloc(0) };
  const files = planProjectFiles(answers, cwd, { packageJson, vendored }, vwhVersion(), platform.starters, platform.handlerSecret, platform.ciSetup);
  await checkTargets(files, cwd, options.force);
  // Packed once nothing is refused (npm pack takes a few seconds).
  const tarball = vendored && files.find((file) => file.path === join(cwd, vendored.path));
  if (tarball) tarball.content = await vwhTarball(env);
  for (const file of files) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFileAtomic(file.path, file.content);
  }

  const written = files.map((file) => relative(cwd, file.path));
  if (output.json) {
    output.out(JSON.stringify({ written, answers }, null, 2));
    return;
  }
  const { colors } = output;
  output.out(`${colors.green("✓")} wrote ${written.length} files:`);
  for (const path of written) output.out(`  ${path}`);
  output.out(
    `\nNext:\n${nextSteps(answers, platform, vendored !== undefined, colors.dim)
      .map((line) => `  ${line}`)
      .join("\n")}`,
  );
}

/** What to run after init, as printed: vwh is a devDependency, so it runs as `npx vwh`. */
export function nextSteps(
  answers: InitAnswers,
  platform: Pick<Platform, "secretName" | "handlerSecret">,
  installed: boolean,
  dim: (text: string) => string = (text) => text,
): string[] {
  const handler = platform.handlerSecret;
  const lines = [
    `npm install                       ${dim(installed ? `# installs vwh from ${vendoredTarball()}, locked in package-lock.json` : "# installs vwh as package.json and the lockfile say")}`,
    `export ${answers.secretEnv}=<${platform.secretName ?? "your signing secret"}>`,
  ];
  if (handler && handler.env !== answers.secretEnv) {
    lines.push(
      handler.publicKey
        ? `export ${handler.env}=<its public key>   ${dim(`# your handler's side: ${handler.readBy} read it`)}`
        : `export ${handler.env}="$${answers.secretEnv}"   ${dim(`# your handler's side: ${handler.readBy} read it`)}`,
    );
  }
  lines.push(
    `npx vwh simulate                  ${dim(`# the flows in vwh.config.json, against ${answers.url}`)}`,
    `npx vwh verify-signature --url ${answers.url}`,
  );
  if (answers.ci)
    lines.push(
      `commit package.json, package-lock.json${installed ? ` and ${vendoredTarball()}` : ""}; add ${workflowSecrets(answers, platform.handlerSecret).join(" and ")} to the repository's Actions secrets`,
    );
  return lines;
}
