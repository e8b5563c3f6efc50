#!/usr/bin/env node
/**
 * Extracts the Telnyx Call Control grammar from the official `telnyx` npm SDK (a devDependency): every
 * command of `client.calls.actions` (its URL name, HTTP method and the fields of its *Params interface:
 * required or not, their types and string enums), and the webhook event types of `client.webhooks`.
 * It parses the SDK's own TypeScript sources with the TypeScript compiler's parser (typescript/unstable),
 * so nothing is typed in by hand. Writes src/platforms/telnyx/grammar.json; `--stdout` prints instead
 * (the staleness test compares the two).
 *
 *   node scripts/extract-telnyx-grammar.mjs [--stdout]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { API } from "typescript/unstable/sync";
import { SyntaxKind } from "typescript/unstable/ast";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(join(root, "package.json"));
// The package root: its main file sits there (package.json is not in its exports).
const sdkRoot = dirname(require.resolve("telnyx"));
const sdk = JSON.parse(readFileSync(join(sdkRoot, "package.json"), "utf8"));
const sources = {
  actions: join(sdkRoot, "src/resources/calls/actions.ts"),
  calls: join(sdkRoot, "src/resources/calls/calls.ts"),
  shared: join(sdkRoot, "src/resources/shared.ts"),
  webhooks: join(sdkRoot, "src/resources/webhooks.ts"),
};

const work = mkdtempSync(join(tmpdir(), "vwh-telnyx-grammar-"));
const config = join(work, "tsconfig.json");
writeFileSync(config, JSON.stringify({ compilerOptions: { noEmit: true, noResolve: true, noLib: true, skipLibCheck: true }, files: Object.values(sources) }));
const api = new API({ cwd: work });
try {
  const project = api.updateSnapshot({ openProject: config }).getProjects()[0];
  const file = (path) => project.program.getSourceFile(path);
  const grammar = extract(file(sources.actions), [file(sources.calls), file(sources.shared)], file(sources.webhooks));
  const text = `${JSON.stringify(grammar, null, 2)}\n`;
  if (process.argv.includes("--stdout")) process.stdout.write(text);
  else writeFileSync(join(root, "src/platforms/telnyx/grammar.json"), text);
} finally {
  api.close();
  rmSync(work, { recursive: true, force: true });
}

function children(node) {
  const list = [];
  node.forEachChild((child) => void list.push(child));
  return list;
}

function nameOf(node) {
  const name = node.name;
  if (!name) return undefined;
  return name.kind === SyntaxKind.Identifier || name.kind === SyntaxKind.StringLiteral ? name.text : name.getText();
}

/** Interfaces and type aliases by name (namespaced ones also as `Namespace.Name`). */
function declarations(sourceFiles) {
  const table = new Map();
  const visit = (statements, prefix) => {
    for (const statement of statements) {
      if (statement.kind === SyntaxKind.InterfaceDeclaration || statement.kind === SyntaxKind.TypeAliasDeclaration) {
        const name = nameOf(statement);
        table.set(prefix + name, statement);
        if (!table.has(name)) table.set(name, statement);
      } else if (statement.kind === SyntaxKind.ModuleDeclaration && statement.body?.statements) {
        visit(statement.body.statements, `${prefix}${nameOf(statement)}.`);
      }
    }
  };
  for (const sourceFile of sourceFiles) visit(sourceFile.statements, "");
  return table;
}

function entityName(node) {
  return node.kind === SyntaxKind.QualifiedName ? `${entityName(node.left)}.${node.right.text}` : node.text;
}

/** What JSON a type node accepts: `types` (string, number, boolean, array, object, null) and string `enum`s. */
function describe(node, table, depth = 0) {
  const result = { types: new Set(), enum: new Set() };
  const add = (other) => {
    for (const type of other.types) result.types.add(type);
    for (const value of other.enum) result.enum.add(value);
  };
  switch (node.kind) {
    case SyntaxKind.StringKeyword:
      result.types.add("string");
      break;
    case SyntaxKind.NumberKeyword:
      result.types.add("number");
      break;
    case SyntaxKind.BooleanKeyword:
      result.types.add("boolean");
      break;
    case SyntaxKind.NullKeyword:
      result.types.add("null");
      break;
    case SyntaxKind.ArrayType:
    case SyntaxKind.TupleType:
      result.types.add("array");
      break;
    case SyntaxKind.TypeLiteral:
    case SyntaxKind.MappedType:
      result.types.add("object");
      break;
    case SyntaxKind.ParenthesizedType:
      add(describe(node.type, table, depth));
      break;
    case SyntaxKind.UnionType:
      for (const member of node.types) add(describe(member, table, depth));
      break;
    case SyntaxKind.LiteralType: {
      const literal = node.literal;
      if (literal.kind === SyntaxKind.StringLiteral) result.enum.add(literal.text);
      else if (literal.kind === SyntaxKind.NullKeyword) result.types.add("null");
      else if (literal.kind === SyntaxKind.TrueKeyword || literal.kind === SyntaxKind.FalseKeyword) result.types.add("boolean");
      else result.types.add("number");
      break;
    }
    case SyntaxKind.TypeReference: {
      const name = entityName(node.typeName);
      if (name === "Array" || name === "ReadonlyArray") result.types.add("array");
      else if (name === "Record") result.types.add("object");
      else {
        const target = table.get(name) ?? table.get(name.split(".").pop());
        if (!target || depth > 8) result.types.add("any");
        else if (target.kind === SyntaxKind.InterfaceDeclaration) result.types.add("object");
        else add(describe(target.type, table, depth + 1));
      }
      break;
    }
    default:
      // unknown, any, intersections, template literals …: accepted as they come.
      result.types.add("any");
  }
  return result;
}

function fieldSpec(member, table) {
  const described = describe(member.type, table);
  const types = [...described.types];
  // The parser exposes the `?` of an optional property as its postfix token.
  const spec = { required: member.postfixToken?.kind !== SyntaxKind.QuestionToken && !member.questionToken };
  if (described.enum.size > 0 && !types.includes("string") && !types.includes("any")) spec.enum = [...described.enum].sort();
  else if (described.enum.size > 0) types.push("string");
  spec.types = [...new Set(types)].sort();
  if (spec.types.length === 0) delete spec.types;
  return spec;
}

function extract(actionsFile, otherFiles, webhooksFile) {
  const table = declarations([actionsFile, ...otherFiles]);
  const actionsClass = actionsFile.statements.find((statement) => statement.kind === SyntaxKind.ClassDeclaration && nameOf(statement) === "Actions");
  if (!actionsClass) throw new Error("telnyx SDK: class Actions not found in src/resources/calls/actions.ts");
  const commands = {};
  for (const member of actionsClass.members) {
    if (member.kind !== SyntaxKind.MethodDeclaration) continue;
    const route = /_client\.(\w+)\(path`\/calls\/\$\{\w+\}\/actions\/([a-z_]+)`/.exec(member.getText(actionsFile));
    const paramsType = member.parameters
      .map((parameter) => parameter.type)
      .find((type) => type?.kind === SyntaxKind.TypeReference && /Params$/.test(entityName(type.typeName)));
    if (!route || !paramsType) continue;
    const paramsName = entityName(paramsType.typeName);
    const declaration = table.get(paramsName);
    const fields = {};
    for (const field of declaration?.members ?? []) {
      if (field.kind === SyntaxKind.PropertySignature) fields[nameOf(field)] = fieldSpec(field, table);
    }
    // The SDK renames path parameters that travel in the body (bridge's call_control_id_to_bridge_with).
    const renamed = /const \{ (\w+), \.\.\.body \} = params;[\s\S]*?body: \{ (\w+): \1/.exec(member.getText(actionsFile));
    if (renamed && fields[renamed[1]]) {
      fields[renamed[2]] = fields[renamed[1]];
      delete fields[renamed[1]];
    }
    commands[route[2]] = {
      method: route[1].toUpperCase(),
      sdk_method: nameOf(member),
      params: paramsName,
      fields: Object.fromEntries(Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))),
    };
  }
  const events = new Set();
  const visit = (node) => {
    if (
      node.kind === SyntaxKind.PropertySignature &&
      nameOf(node) === "event_type" &&
      node.type?.kind === SyntaxKind.LiteralType &&
      node.type.literal.kind === SyntaxKind.StringLiteral
    ) {
      events.add(node.type.literal.text);
    }
    node.forEachChild(visit);
  };
  visit(webhooksFile);
  return {
    source: { package: sdk.name, version: sdk.version, files: ["src/resources/calls/actions.ts", "src/resources/webhooks.ts"] },
    commands: Object.fromEntries(Object.entries(commands).sort(([a], [b]) => a.localeCompare(b))),
    events: [...events].sort(),
  };
}
