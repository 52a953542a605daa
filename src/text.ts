/**
 * Text from outside (a CA's problem detail, a document any fleet member may write) made safe to print: without
 * control characters a terminal would act on (escape sequences, carriage returns), on one line, and at most
 * `max` characters when given (a CA's text could fill a screen).
 */
export function printableLine(text: string, max?: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
  return max !== undefined && clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}
