/** "did you mean …?" for a misspelt name: the closest known one, when it is close enough to be a typo. */
import { closest, distance } from "fastest-levenshtein";

export function didYouMean(word: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(
    word.toLowerCase(),
    known.map((name) => name.toLowerCase()),
  );
  const index = known.findIndex((name) => name.toLowerCase() === best);
  // A typo is a few edits, not a different word: at most a third of the longer name (and at least 1).
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return distance(word.toLowerCase(), best) <= limit ? known[index] : undefined;
}
