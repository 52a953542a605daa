/**
 * Text from outside (a CA's problem detail, a document any fleet member may write) made safe to print: without
 * control characters a terminal would act on (escape sequences, carriage returns), on one line.
 */
export function printableLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
}
