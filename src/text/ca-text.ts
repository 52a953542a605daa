/**
 * Text a CA (or anything else remote) sent, made safe to print: control characters (which could move the cursor,
 * clear the screen or forge a line) become one space, and the length is capped.
 */
export function caText(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}
