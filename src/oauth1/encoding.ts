/**
 * Query and path encoding for requests to Magento. The wire form chosen here is the one every
 * Magento release decodes the same way (contract §3.3, §4.6-2).
 */

/** RFC 3986 percent-encoding of UTF-8 (PHP rawurlencode): only `A-Z a-z 0-9 - . _ ~` stay as they are. */
export function rfc3986(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new TypeError(`Cannot percent-encode ${JSON.stringify(value)}: it is not well-formed Unicode.`);
  }
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type QueryPairs = readonly (readonly [string, string])[] | Readonly<Record<string, string>>;

/**
 * A query string (without `?`) with names and values RFC 3986-encoded: a space is `%20`, a plus
 * `%2B`, brackets `%5B`/`%5D`. Never a raw `+`, which 2.4.6 would read as a space and other
 * releases as a plus.
 */
export function encodeQuery(pairs: QueryPairs): string {
  const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
  return list.map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`).join('&');
}

/**
 * The query parameters Magento signs, decoded, last one winning (Helper\Request, contract §3.3):
 * the raw query is split on `&`, each item on `=`, and only items with exactly one `=` count.
 * So `?flag` and a raw `=` inside a value are not signed: callers should not send such items
 * (encodeQuery never produces them). `oauth_*` names are left out too, as the header carries them.
 */
export function signedQueryParams(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  if (!rawQuery) return params;
  for (const item of rawQuery.split('&')) {
    const parts = item.split('=');
    if (parts.length !== 2) continue;
    const name = decodeStrict(parts[0] as string);
    if (name.startsWith('oauth_')) continue;
    params.delete(name);
    params.set(name, decodeStrict(parts[1] as string));
  }
  return params;
}

function decodeStrict(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TypeError(
      `The query item ${JSON.stringify(raw)} is not valid percent-encoded UTF-8; build queries with encodeQuery().`,
    );
  }
}

const LAMINAS_DECODED = /^[A-Za-z0-9_\-.~:@&=+$,/;%]$/;
const LAMINAS_ENCODE = /[^A-Za-z0-9_\-.~:@&=+$,/;%]+|%(?![A-Fa-f0-9]{2})/g;

/**
 * laminas-uri `Uri::normalizePath`, which Magento 2.4.4–2.4.6 applies before signing
 * (magento/magento2#37913): dot segments removed, escapes of unreserved characters and of
 * `: @ & = + $ , / ; %` decoded, other escapes upper-cased, then disallowed characters encoded.
 */
export function laminasPath(path: string): string {
  const decoded = removeDotSegments(path).replace(/%[A-Fa-f0-9]{2}/g, (escape) => {
    const ch = String.fromCharCode(parseInt(escape.slice(1), 16));
    return LAMINAS_DECODED.test(ch) ? ch : escape.toUpperCase();
  });
  return decoded.replace(LAMINAS_ENCODE, (run) => rfc3986(run));
}

/** RFC 3986 §5.2.4. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '..') {
      if (out.length > 1) out.pop();
      if (last) out.push('');
    } else if (segment === '.') {
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  });
  return out.join('/');
}
