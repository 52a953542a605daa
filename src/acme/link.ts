/**
 * RFC 8288 `Link` headers as ACME uses them (RFC 8555 §7.4.2: `<url>;rel="alternate"` for each alternate chain).
 * Node joins repeated headers with ", "; a header may also list several links itself.
 */

export interface Links {
  /** The links to follow, resolved against the request URL, in order. */
  urls: string[];
  /** Targets not followed: not a URL, or not https on the request URL's origin. */
  refused: string[];
}

/**
 * The links with relation `rel`. Only https links on the origin of `base` are followed: following one means a
 * signed POST-as-GET, and a CA's alternates are its own resources; anything else is refused, never thrown.
 */
export function linksOf(header: unknown, rel: string, base: string): Links {
  const values = Array.isArray(header) ? header.filter((v): v is string => typeof v === 'string') : typeof header === 'string' ? [header] : [];
  const links: Links = { urls: [], refused: [] };
  const origin = new URL(base).origin;
  // `<target>` then `;param` parts up to the next link; a comma inside <…> or "…" does not end a link.
  const link = /<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,\s]*))?)*)/g;
  for (const value of values) {
    for (const match of value.matchAll(link)) {
      const [, target = '', params = ''] = match;
      if (!relationsOf(params).includes(rel.toLowerCase())) continue;
      const url = URL.canParse(target, base) ? new URL(target, base) : undefined;
      if (url?.protocol === 'https:' && url.origin === origin) links.urls.push(url.toString());
      else links.refused.push(target);
    }
  }
  return links;
}

/** The relation types of a link's parameters (`rel` may hold several, space-separated; case-insensitive). */
function relationsOf(params: string): string[] {
  const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))/i.exec(params);
  const value = rel?.[1] ?? rel?.[2] ?? '';
  return value.toLowerCase().split(/\s+/).filter((r) => r !== '');
}
