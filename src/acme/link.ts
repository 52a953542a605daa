/**
 * RFC 8288 `Link` headers as ACME uses them (RFC 8555 §7.4.2: `<url>;rel="alternate"` for each alternate chain).
 * Node joins repeated headers with ", "; a header may also list several links itself.
 */

/** The URLs of the links with relation `rel`, resolved against the request URL, in order. */
export function linksOf(header: unknown, rel: string, base: string): string[] {
  const values = Array.isArray(header) ? header.filter((v): v is string => typeof v === 'string') : typeof header === 'string' ? [header] : [];
  const urls: string[] = [];
  // `<target>` then `;param` parts up to the next link; a comma inside <…> or "…" does not end a link.
  const link = /<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,\s]*))?)*)/g;
  for (const value of values) {
    for (const match of value.matchAll(link)) {
      const [, target = '', params = ''] = match;
      if (relationsOf(params).includes(rel.toLowerCase())) urls.push(new URL(target, base).toString());
    }
  }
  return urls;
}

/** The relation types of a link's parameters (`rel` may hold several, space-separated; case-insensitive). */
function relationsOf(params: string): string[] {
  const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))/i.exec(params);
  const value = rel?.[1] ?? rel?.[2] ?? '';
  return value.toLowerCase().split(/\s+/).filter((r) => r !== '');
}
