#!/usr/bin/env node
/**
 * Extracts the NCCO grammar (action names, their fields, which are required, and each field's type)
 * from the type declarations of the official `@vonage/voice` SDK, with the TypeScript checker (the
 * compiler's own API), into src/platforms/vonage/grammar.json, which tsc copies into dist/.
 * Run after upgrading @vonage/voice:
 *   node scripts/extract-vonage-grammar.mjs
 * A test re-runs `extractVonageGrammar()` and compares it with the committed data (staleness).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const grammarFile = join(root, "src", "platforms", "vonage", "grammar.json");
const require = createRequire(join(root, "package.json"));

/** A dependency's folder (packages whose `exports` hide package.json are found from their entry). */
function packageDir(name) {
  let dir = dirname(require.resolve(name));
  while (!dir.endsWith(join("node_modules", name))) dir = dirname(dir);
  return dir;
}

export async function extractVonageGrammar() {
  const voiceDir = packageDir("@vonage/voice");
  const version = JSON.parse(readFileSync(join(voiceDir, "package.json"), "utf8")).version;
  const ncco = join(voiceDir, "dist", "esm", "types", "NCCO", "NCCOActions.d.mts");
  const { API } = await import(pathToFileURL(join(packageDir("typescript"), "dist", "api", "sync", "api.js")).href);
  const enums = (name) => import(pathToFileURL(join(packageDir("typescript"), "dist", "enums", `${name}.js`)).href);
  const { SymbolFlags } = await enums("symbolFlags");
  const { TypeFlags } = await enums("typeFlags");
  const work = mkdtempSync(join(tmpdir(), "vwh-vonage-grammar-"));
  writeFileSync(
    join(work, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, noEmit: true, skipLibCheck: true }, files: [ncco] }),
  );
  const api = new API({ cwd: work });
  try {
    const project = api.updateSnapshot({ openProjects: [join(work, "tsconfig.json")] }).getProjects()[0];
    const { checker, program } = project;
    const file = program.getSourceFile(ncco);
    const alias = file.statements.find((statement) => statement.name?.text === "NCCOAction");
    if (!alias) throw new Error(`NCCOAction not found in ${ncco}`);
    const union = checker.getTypeFromTypeNode(alias.type);

    const isOptional = (symbol) => (symbol.flags & SymbolFlags.Optional) !== 0;
    const describe = (type, depth = 0) => {
      if (depth > 12) throw new Error(`type nesting too deep at ${checker.typeToString(type)}`);
      const flags = type.flags;
      if (flags & (TypeFlags.Any | TypeFlags.Unknown)) return { type: "any" };
      if (flags & TypeFlags.StringLiteral) return { type: "string", enum: [type.value] };
      if (flags & TypeFlags.NumberLiteral) return { type: "number", enum: [type.value] };
      if (flags & TypeFlags.Boolean) return { type: "boolean" };
      if (flags & TypeFlags.BooleanLiteral) return { type: "boolean" };
      if (flags & TypeFlags.String) return { type: "string" };
      if (flags & TypeFlags.Number) return { type: "number" };
      if (flags & TypeFlags.Union) {
        // Optional fields are `T | undefined`: absence is the field's `required: false`.
        const members = type
          .getTypes()
          .filter((member) => !(member.flags & TypeFlags.Undefined))
          .map((member) => describe(member, depth + 1));
        if (members.length === 1) return members[0];
        // `TTSLanguages | string` is any string; `'a' | 'b'` is an enum; true | false is boolean.
        if (members.every((member) => member.type === "string")) {
          return members.some((member) => !member.enum)
            ? { type: "string" }
            : { type: "string", enum: [...new Set(members.flatMap((member) => member.enum))].sort() };
        }
        if (members.every((member) => member.type === "boolean")) return { type: "boolean" };
        return { type: "oneOf", options: members };
      }
      if (flags & TypeFlags.Intersection) {
        // `{…} & Record<string, unknown>`: the object's known fields, extra fields allowed.
        const parts = type.getTypes().map((member) => describe(member, depth + 1));
        const objects = parts.filter((part) => part.type === "object");
        const records = parts.filter((part) => part.type === "record");
        if (objects.length !== 1 || objects.length + records.length !== parts.length) throw new Error(`unexpected intersection ${checker.typeToString(type)}`);
        return { ...objects[0], extra: records.length > 0 };
      }
      if (flags & TypeFlags.Object) {
        if (checker.isArrayLikeType(type)) return { type: "array", items: describe(checker.getTypeArguments(type)[0], depth + 1) };
        const properties = checker.getPropertiesOfType(type);
        const indexes = checker.getIndexInfosOfType(type);
        if (properties.length === 0 && indexes.length > 0)
          return { type: "record", values: describe(indexes[0].valueType ?? checker.getUnknownType(), depth + 1) };
        const fields = {};
        for (const property of [...properties].sort((a, b) => a.name.localeCompare(b.name))) {
          fields[property.name] = { ...describe(checker.getTypeOfSymbol(property), depth + 1), required: !isOptional(property) };
        }
        return { type: "object", fields, extra: indexes.length > 0 };
      }
      throw new Error(`unsupported type ${checker.typeToString(type)} (flags ${flags})`);
    };

    const actions = {};
    for (const member of union.getTypes()) {
      const described = describe(member);
      // InputAction is `{…} | Record<string, unknown>` (flattened into the union): that arm adds nothing to validate.
      if (described.type === "record") continue;
      const name = described.fields?.action?.enum?.[0];
      if (!name) throw new Error(`an NCCO action without an action name: ${checker.typeToString(member)}`);
      const { action: _action, ...fields } = described.fields;
      actions[name] = { fields, extra: described.extra };
    }
    const sorted = Object.fromEntries(
      Object.keys(actions)
        .sort()
        .map((name) => [name, actions[name]]),
    );
    return {
      sdk: { name: "@vonage/voice", version },
      source: "dist/esm/types/NCCO/NCCOActions.d.mts (NCCOAction), read with the TypeScript checker",
      actions: sorted,
    };
  } finally {
    api.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export const serialise = (grammar) => `${JSON.stringify(grammar, null, 1)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const grammar = await extractVonageGrammar();
  writeFileSync(grammarFile, serialise(grammar));
  console.log(`wrote ${grammarFile}: ${Object.keys(grammar.actions).length} NCCO actions from ${grammar.sdk.name}@${grammar.sdk.version}`);
}
