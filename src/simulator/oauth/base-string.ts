import { createHmac, timingSafeEqual } from 'node:crypto';
import { byteOrder, rawurldecode, rfc3986, strnatcmp } from './encoding.js';
import type { SignatureProfile } from './profile.js';

const LAMINAS_DECODED = new Set(':@&=+$,/;%'.split(''));
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** The URL part of the base string (contract §4.1), from the scheme, Host header and raw path. */
export function normaliseBaseUrl(
  scheme: string,
  host: string,
  rawPath: string,
  mode: SignatureProfile['url'],
): string {
  if (mode === 'raw') return `${scheme}://${host}${rawPath}`;
  const lowerScheme = scheme.toLowerCase();
  let lowerHost = host.toLowerCase();
  if (
    (lowerScheme === 'http' && lowerHost.endsWith(':80')) ||
    (lowerScheme === 'https' && lowerHost.endsWith(':443'))
  ) {
    lowerHost = lowerHost.slice(0, lowerHost.lastIndexOf(':'));
  }
  const path =
    mode === 'rfc' ? rawPath : normalisePath(rawPath, mode === 'laminas' ? 'laminas' : 'unreserved');
  return `${lowerScheme}://${lowerHost}${path || '/'}`;
}

/** laminas-uri normalizePath: dot segments removed, some escapes decoded, the rest upper-cased. */
function normalisePath(path: string, decode: 'laminas' | 'unreserved'): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    const keep = UNRESERVED.test(ch) || (decode === 'laminas' && LAMINAS_DECODED.has(ch));
    return keep ? ch : escape.toUpperCase();
  });
  return removeDotSegments(decoded);
}

function removeDotSegments(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '..') out.pop();
    else if (segment !== '.') out.push(segment);
  }
  const joined = out.join('/');
  return path.startsWith('/') && !joined.startsWith('/') ? `/${joined}` : joined;
}

/** `METHOD&enc(url)&enc(sorted name=value pairs)` (RFC 5849 §3.4.1; Laminas getBaseSignatureString). */
export function signatureBaseString(
  method: string,
  baseUrl: string,
  params: Record<string, string>,
  profile: Pick<SignatureProfile, 'sort' | 'doubleEncodeValues'>,
): string {
  const pairs = Object.entries(params)
    .filter(([name]) => name !== 'oauth_signature')
    .map(([name, value]) => {
      const v = profile.doubleEncodeValues ? rfc3986(value) : value;
      return [rfc3986(name), rfc3986(v)] as const;
    });
  const compare = profile.sort === 'natural' ? strnatcmp : byteOrder;
  pairs.sort((a, b) => compare(a[0], b[0]) || byteOrder(a[1], b[1]));
  const joined = pairs.map(([n, v]) => `${n}=${v}`).join('&');
  return [method.toUpperCase(), rfc3986(baseUrl), rfc3986(joined)].join('&');
}

/** HMAC over the base string; key = enc(consumer secret) & enc(token secret). Base64 with padding. */
export function hmacSignature(
  method: string,
  baseString: string,
  consumerSecret: string,
  tokenSecret = '',
): string {
  const algorithm = method.split('-')[1]?.toLowerCase() ?? '';
  const key = `${rfc3986(consumerSecret)}&${rfc3986(tokenSecret)}`;
  return createHmac(algorithm, key).update(baseString).digest('base64');
}

/** Constant-time compare; the client may send the signature percent-encoded or raw (§4.3). */
export function signatureMatches(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(rawurldecode(received));
  return a.length === b.length && timingSafeEqual(a, b);
}
