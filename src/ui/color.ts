/**
 * The one place colour is decided. chalk does not read NO_COLOR itself (README: Commands, no-color.org), so:
 * off under --no-color, a non-empty NO_COLOR, or a stream that is not a TTY; FORCE_COLOR wins over TTY
 * detection (chalk's own rule) so tests and pipes can ask for it.
 */
import { Chalk, supportsColor, type ChalkInstance } from "chalk";

export function colorEnabled(options: { color?: boolean }, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (options.color === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false";
  return stream.isTTY === true;
}

export function createColors(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? (supportsColor ? supportsColor.level : 1) || 1 : 0 });
}
