/**
 * Percent-encoding as the store's PHP code does it. Written from RFC 5849 §3.6 and PHP's
 * rawurlencode/rawurldecode/urldecode, independently of the connector's signing code.
 */

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 encoding (PHP rawurlencode with `~` kept), over UTF-8 bytes. */
export function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** PHP rawurldecode: `%XX` to bytes, everything else (including `+` and bad escapes) kept. */
export function rawurldecode(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const hex = value.slice(i + 1, i + 3);
    if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** PHP urldecode: like rawurldecode, but `+` is a space. */
export function urldecode(value: string): string {
  return rawurldecode(value.replace(/\+/g, ' '));
}

/**
 * PHP strnatcmp, the "natural order" Laminas uses to sort parameter names: runs of digits
 * compare by numeric value, so `[2]` sorts before `[10]`.
 */
export function strnatcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a[i] as string;
    const cb = b[j] as string;
    if (isDigit(ca) && isDigit(cb)) {
      const ea = digitRunEnd(a, i);
      const eb = digitRunEnd(b, j);
      const na = a.slice(i, ea).replace(/^0+(?=\d)/, '');
      const nb = b.slice(j, eb).replace(/^0+(?=\d)/, '');
      if (na.length !== nb.length) return na.length < nb.length ? -1 : 1;
      if (na !== nb) return na < nb ? -1 : 1;
      i = ea;
      j = eb;
      continue;
    }
    if (ca !== cb) return ca < cb ? -1 : 1;
    i++;
    j++;
  }
  return a.length - i === b.length - j ? 0 : a.length - i < b.length - j ? -1 : 1;
}

/** Plain byte order, as RFC 5849 §3.4.1.3.2 asks. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

function digitRunEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isDigit(s[k] as string)) k++;
  return k;
}
