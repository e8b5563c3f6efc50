/**
 * An HTTP field value without the spaces and tabs that end it (RFC 9110 §5.5: optional whitespace, not part
 * of the value). Both transports give header values this way, so a header expectation sees one value in a
 * single run and in load mode. A loop from the end: a regex such as /[ \t]+$/ retries from every space of a
 * long run that does not end the value, quadratic on a hostile reply's header.
 */
export function withoutTrailingWhitespace(value: string): string {
  let end = value.length;
  while (end > 0) {
    const code = value.charCodeAt(end - 1);
    if (code !== 32 && code !== 9) break;
    end--;
  }
  return end === value.length ? value : value.slice(0, end);
}
