/** What `\s` (and String#trim) counts as white space: the code units of WhiteSpace and LineTerminator. */
function isSpace(unit: number): boolean {
  if (unit <= 0x20) return unit === 0x20 || (unit >= 0x09 && unit <= 0x0d);
  if (unit < 0x2000) return unit === 0xa0 || unit === 0x1680;
  return unit <= 0x200a || unit === 0x2028 || unit === 0x2029 || unit === 0x202f || unit === 0x205f || unit === 0x3000 || unit === 0xfeff;
}

/** The words of `text`: its runs of characters between white space (counted in place: an agent's reply can be a long one). */
export function wordCount(text: string): number {
  let words = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const word = !isSpace(text.charCodeAt(index));
    if (word && !inWord) words++;
    inWord = word;
  }
  return words;
}

/** Platform time that speech takes: about 150 words a minute, as text-to-speech voices speak. */
export function speechMs(text: string): number {
  return Math.max(300, wordCount(text) * 400);
}
