/**
 * One seeded random source for every random choice of a run (jitter, duplicates, shuffles), so a
 * failing CI run replays exactly with its printed --seed. mulberry32: small, fast, good enough for
 * test scheduling (not for secrets: ids and keys use node:crypto).
 */
import { randomInt } from "node:crypto";

export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Shuffles a copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

export function newSeed(): number {
  return randomInt(0, 2 ** 31);
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    chance: (p) => p > 0 && next() < p,
    shuffle: (items) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy;
    },
  };
}
