/**
 * Text from a request (an event type, a call id, a path, a recorded event id) on its way to a
 * terminal. A hostile sender could otherwise put control sequences in it: erase its own line, print a
 * fake "200 ✓ signature", hide the lines after it, or reorder text with bidi overrides. Every C0 and C1
 * control, DEL, and the Unicode line separators and direction overrides are shown escaped (`\x1b`,
 * `\r`, `\u202e`); all other text passes unchanged.
 */
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(character: string): string {
  const named_ = named[character];
  if (named_) return named_;
  const code = character.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** `text` with every control character escaped, safe to print on one terminal line. */
export function terminalSafe(text: string): string {
  return text.replace(unsafe, escapeOne);
}
