/**
 * `vwh export artillery <flows…> --url … --out <dir>` (issue 18): writes an Artillery test script, a
 * processor that runs each virtual user's call through vwh's API, and the package.json that installs
 * vwh wherever Artillery runs (locally, or on every `run-fargate` worker). Sends nothing.
 */
import { copyFile, mkdir, stat } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import * as z from "zod";
import { writeFileAtomic } from "../lib/atomic-write.js";
import {
  artilleryPhase,
  artilleryScript,
  exportPackageJson,
  processorSource,
  scriptYaml,
  stepName,
  type ArtilleryPhase,
  type ExportedFlow,
  type ProcessorSettings,
} from "../export/artillery.js";
import { configFlows, resolveSettings, type SettingsInput } from "../cli/config.js";
import { InputError, UsageError } from "../core/errors.js";
import { exists } from "../lib/file-exists.js";
import { type CallFlow } from "../files/call-flow.js";
import { loadFlows } from "../files/read-inputs.js";
import { parseOptions } from "../cli/parse-options.js";
import type { PlatformId } from "../platforms/registry.js";
import { getScheme } from "../signing/index.js";
import { schemeSettings } from "../signing/options.js";
import { optionsSchema } from "../cli/settings.js";
import { createOutput, type Streams } from "../ui/output.js";
import { vwhVersion } from "../core/version.js";
import { tarballName, vwhTarball } from "../core/self-tarball.js";

export const exportArtilleryOptionsSchema = optionsSchema("export artillery");
export type ExportArtilleryOptions = z.output<typeof exportArtilleryOptionsSchema>;

// Without --concurrency nothing caps a worker's calls in flight, so neither does its connection pool.
const uncappedConnections = 10_000;

/** A --vwh-spec that names a file: a tarball from `npm pack`, shipped beside the script. */
function tarballPath(spec: string): string | undefined {
  const path = spec.startsWith("file:") ? spec.slice("file:".length) : spec;
  return spec.startsWith("file:") || /\.(tgz|tar\.gz)$/.test(path) || /^\.{0,2}[\\/]/.test(path) ? path : undefined;
}

function withoutSchema(flow: CallFlow): CallFlow {
  const { $schema: _schema, ...rest } = flow;
  return rest;
}

interface PlannedFile {
  path: string;
  role: "script" | "processor" | "package.json" | "vwh tarball";
  content: string | Buffer | { copyOf: string };
}

function describePhase(phase: ArtilleryPhase): string {
  const arrivals = "arrivalRate" in phase ? `${phase.arrivalRate} calls/s for ${phase.duration} s` : `${phase.arrivalCount} calls over ${phase.duration} s`;
  return phase.maxVusers === undefined ? arrivals : `${arrivals}, at most ${phase.maxVusers} in flight`;
}

export async function exportArtilleryCommand(
  files: string[],
  input: SettingsInput,
  env: NodeJS.ProcessEnv = process.env,
  streams?: Streams,
  cwd = process.cwd(),
): Promise<void> {
  const { options: settings, provenance, loaded } = await resolveSettings(input, env, cwd);
  const options = parseOptions(exportArtilleryOptionsSchema, settings, provenance);
  const output = createOutput(options, env, streams);
  if (options.secret?.length) {
    throw new UsageError(
      "--secret: an export never holds a secret; the processor reads it where Artillery runs",
      `set ${options.secretEnv ?? "VWH_SECRET"} there (or name another variable with --secret-env)`,
    );
  }
  const flowFiles = files.length ? files : configFlows(loaded);
  if (flowFiles.length === 0) throw new UsageError("no call flows: give flow files, or list them under flows in vwh.config.json");
  if (!options.url)
    throw new UsageError(
      "missing --url: the handler's webhook URL",
      "e.g. --url https://staging.example.com/webhooks/voice, or set VWH_URL, or url in vwh.config.json",
    );
  if (options.url.protocol === "ws:" || options.url.protocol === "wss:")
    throw new UsageError(`--url ${options.url.href}: Artillery scripts send webhooks, to an http:// or https:// URL`);
  const phase = artilleryPhase(options);

  const flows = await loadFlows(flowFiles, options.platform);
  const recorded = flows.find((flow) => flow.flow.events?.some((event) => event.raw !== undefined));
  if (recorded) throw new UsageError(`${recorded.file}: recordings and dead letters carry fixed ids; export call flows or caller scripts`);
  // A platform whose calls need a run-level resource the handler calls back (a local platform API)
  // cannot be played by Artillery's workers, which the handler does not reach.
  const needsRun = flows.find((flow) => flow.platform.openRun !== undefined && flow.flow.script !== undefined);
  if (needsRun) {
    throw new UsageError(
      `${needsRun.file}: ${needsRun.platform.id} caller scripts need a local ${needsRun.platform.id} API that the handler calls back; Artillery's workers cannot serve one`,
      "run it with vwh simulate --calls instead",
    );
  }
  // As in `vwh simulate`: a flow's platform brings its scheme and profile; flags, VWH_* and the config win.
  const exported: ExportedFlow[] = flows.map((flow, index) => ({
    file: flow.file,
    scenario: `${flow.flow.name} (${basename(flow.file)})`,
    step: stepName(index),
    scheme: getScheme(options.scheme ?? flow.platform.scheme).name,
    profile: options.profile ?? flow.platform.profile,
    // The platform made explicit; $schema points at a file the export does not carry.
    flow: { ...withoutSchema(flow.flow), platform: flow.platform.id as PlatformId },
  }));
  const processorSettings: ProcessorSettings = {
    url: options.url.href,
    secretEnv: options.secretEnv,
    connections: options.concurrency ?? uncappedConnections,
    call: {
      ...(options.publicUrl && { publicUrl: options.publicUrl.href }),
      maxHops: options.maxHops,
      ...(exported.some((flow) => flow.scheme === "hmac") && { hmac: schemeSettings(options, "sign").hmac }),
      ...(options.timeout !== undefined && { timeoutMs: options.timeout }),
      ...(options.retries !== undefined && { retries: options.retries }),
      ...(options.backoff !== undefined && { backoffMs: options.backoff }),
      timeScale: options.timeScale,
      budgetMs: options.budget,
      strictLatency: options.strictLatency,
      realtime: options.realtime,
    },
  };

  const outDir = resolve(cwd, options.out);
  const version = vwhVersion();
  // Without --vwh-spec the running vwh itself goes beside the script (npm pack of it): `npm install` there,
  // and on every Fargate worker, installs exactly this vwh, whether or not it is on the registry.
  const tarball = options.vwhSpec === undefined ? undefined : tarballPath(options.vwhSpec);
  let dependency = options.vwhSpec ?? `file:${tarballName(version)}`;
  const planned: PlannedFile[] = [];
  if (options.vwhSpec === undefined) {
    // Packed below, once nothing is refused (npm pack takes a few seconds).
    planned.push({ path: join(outDir, tarballName(version)), role: "vwh tarball", content: Buffer.alloc(0) });
  } else if (tarball !== undefined) {
    const source = resolve(cwd, tarball);
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) {
      throw new InputError(
        `--vwh-spec: ${tarball}: expected a tarball written by npm pack (${info ? "not a file" : "no such file"})`,
        "npm pack in a clone of vwh writes vwh-<version>.tgz",
      );
    }
    dependency = `file:${basename(source)}`;
    planned.push({ path: join(outDir, basename(source)), role: "vwh tarball", content: { copyOf: source } });
  }
  const scriptFile = `vwh-load.${options.format === "yaml" ? "yml" : "json"}`;
  const processorFile = "vwh-processor.mjs";
  const script = artilleryScript({ url: options.url.href, processorFile, phase, flows: exported, includeFiles: planned.map((file) => basename(file.path)) });
  const secretVariable = options.secretEnv ?? "VWH_SECRET";
  const notes = [
    `Each virtual user runs one call of a flow through vwh (${processorFile}) and reports vwh.* metrics.`,
    `The signing secret is read from ${secretVariable} where Artillery runs; it is not in these files.`,
    `Run: npm install && ${secretVariable}=... artillery run ${scriptFile} --output report.json (Artillery: npm install -g artillery; on Node 20 artillery@2.0.21)`,
    `Distributed: artillery run-fargate ${scriptFile} --secret ${secretVariable} (the secret in AWS SSM Parameter Store under /artilleryio/${secretVariable})`,
  ];
  const scriptText = options.format === "yaml" ? await scriptYaml(script, notes, version) : `${JSON.stringify(script, null, 2)}\n`;
  planned.push(
    { path: join(outDir, scriptFile), role: "script", content: scriptText },
    { path: join(outDir, processorFile), role: "processor", content: processorSource(processorSettings, exported, version) },
    { path: join(outDir, "package.json"), role: "package.json", content: exportPackageJson(dependency, version) },
  );

  if (!options.force) {
    for (const file of planned) {
      if (await exists(file.path)) throw new UsageError(`${relative(cwd, file.path) || file.path} already exists: nothing written (--force overwrites)`);
    }
  }
  const packed = options.vwhSpec === undefined ? planned.find((file) => file.role === "vwh tarball") : undefined;
  if (packed) packed.content = await vwhTarball(env);
  try {
    await mkdir(outDir, { recursive: true });
    for (const file of planned) {
      if (typeof file.content === "string" || Buffer.isBuffer(file.content)) await writeFileAtomic(file.path, file.content);
      else await copyFile(file.content.copyOf, file.path);
    }
  } catch (error) {
    throw new InputError(`${options.out}: cannot write the export: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }

  // Paths inside the working directory relative to it, others absolute.
  const shown = (path: string) => (relative(cwd, path).startsWith("..") ? path : relative(cwd, path) || path);
  if (output.json) {
    output.out(
      JSON.stringify(
        {
          out: outDir,
          written: planned.map((file) => ({ path: shown(file.path), role: file.role })),
          phase,
          scenarios: exported.map((flow) => ({ name: flow.scenario, file: flow.file, function: flow.step, scheme: flow.scheme, platform: flow.flow.platform })),
          secret_env: secretVariable,
          vwh_dependency: dependency,
        },
        null,
        2,
      ),
    );
    return;
  }
  const { colors } = output;
  output.out(
    `${colors.green("✓")} wrote ${planned.length} files for Artillery: ${exported.length} scenario${exported.length === 1 ? "" : "s"}, ${describePhase(phase)}`,
  );
  const width = Math.max(...planned.map((file) => shown(file.path).length));
  for (const file of planned) output.out(`  ${shown(file.path).padEnd(width)}  ${colors.dim(file.role)}`);
  output.out(
    `\nNext:\n${[
      `cd ${shown(outDir)} && npm install     ${colors.dim(`# installs vwh from ${dependency}`)}`,
      `export ${secretVariable}=<your signing secret>`,
      `artillery run ${scriptFile} --output report.json   ${colors.dim("# Artillery installed: npm install -g artillery (on Node 20: artillery@2.0.21)")}`,
      `artillery run-fargate ${scriptFile} --secret ${secretVariable}   ${colors.dim("# many machines (AWS)")}`,
    ]
      .map((line) => `  ${line}`)
      .join("\n")}`,
  );
}
