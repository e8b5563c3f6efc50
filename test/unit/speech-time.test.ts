/** The platform time speech takes (speechMs): words counted in place, exactly as `\s` splits them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { speechMs, wordCount } from "../../src/platforms/shared/timing.js";

/** The definition: the runs of characters between what `\s` matches. */
const wordsBySplit = (text: string) => text.trim().split(/\s+/).filter(Boolean).length;

describe("speechMs", () => {
  it("counts words as \\s splits them: every UTF-16 code unit between two letters, and runs of space at either end", () => {
    for (let unit = 0; unit <= 0xffff; unit++) {
      const char = String.fromCharCode(unit);
      if (wordCount(`a${char}b`) !== (/\s/.test(char) ? 2 : 1))
        assert.fail(`U+${unit.toString(16).padStart(4, "0")} between two letters: ${wordCount(`a${char}b`)} words`);
    }
    for (const text of ["", " ", "a", " a", "a ", "  a  b  ", "\ta\n\nb\u3000c\ufeff", "\ud83d\ude00 \ud83d\ude00", "a\u200bb c"])
      assert.equal(wordCount(text), wordsBySplit(text), JSON.stringify(text));
  });

  it("is 400 ms a word, at least 300 ms", () => {
    assert.equal(speechMs(""), 300);
    assert.equal(speechMs(" \u00a0\u3000\n"), 300);
    assert.equal(speechMs("hello"), 400);
    assert.equal(speechMs("  Sure,\tI can\u2003help \ud83d\ude00 "), 2000);
    assert.equal(speechMs("word ".repeat(2000)), 800_000);
  });
});
