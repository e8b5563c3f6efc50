/**
 * Writes src/cli/settings/columns.json: the columns of the settings table that commander and `--help`
 * need (flag, help, default, environment variable, commands…), without the zod schemas. `vwh --help` and the
 * parsing of argv then load no zod (≈80 ms of start-up); each command loads the schemas when it runs.
 * Run after changing a row: `npm run build && node scripts/write-cli-columns.mjs && npm run format`
 * (test/unit/layout.test.ts fails while the file is stale).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cliColumnsOf, settings } from "../dist/src/cli/settings.js";

const target = fileURLToPath(new URL("../src/cli/settings/columns.json", import.meta.url));
const rows = Object.values(settings).map(cliColumnsOf);
writeFileSync(target, `${JSON.stringify(rows, null, 2)}\n`);
console.log(`wrote ${rows.length} rows to ${target}`);
