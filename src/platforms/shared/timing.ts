/** Platform time that speech takes: about 150 words a minute, as text-to-speech voices speak. */
export function speechMs(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return Math.max(300, words * 400);
}
