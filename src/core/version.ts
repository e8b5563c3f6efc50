import { readFileSync } from "node:fs";

// dist/src/version.js → ../../package.json; read once, on demand (only --version and user-agent need it).
let cached: string | undefined;
export function vwhVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return cached;
}
