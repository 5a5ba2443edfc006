import { rawurldecode, urldecode } from './encoding.js';
import type { SignatureProfile } from './profile.js';

/** What the store's Helper\Request::prepareRequest sees of one request (contract §3.3, §11.5). */
export interface OauthRequestView {
  /** oauth_* parameters from the Authorization header; null when the header has no `OAuth ` part. */
  protocol: Record<string, string> | null;
  /** Non-oauth query and form-body parameters, decoded, flat (bracket names kept literally). */
  extra: Record<string, string>;
}

const OAUTH_NAME = /oauth_[a-z_-]+/;

/** Parses `Authorization: OAuth k="v", ...` the way Magento does: after the first `oauth `. */
export function parseAuthorizationHeader(header: string | undefined): Record<string, string> | null {
  if (!header) return null;
  const at = header.toLowerCase().indexOf('oauth ');
  if (at < 0) return null;
  const params: Record<string, string> = {};
  for (const part of header.slice(at + 'oauth '.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!OAUTH_NAME.test(name)) continue;
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/^"|"$/g, '');
    params[rawurldecode(name)] = rawurldecode(value);
  }
  return params;
}

/**
 * Query pairs as Magento signs them: split on `&` then `=`; a pair that does not split into
 * exactly two parts (`?flag`, `a=b=c`) is left out, oauth_* names are left out, last one wins.
 */
export function parseSignedQuery(
  rawQuery: string,
  decode: SignatureProfile['queryDecode'],
): Record<string, string> {
  const params: Record<string, string> = {};
  if (!rawQuery) return params;
  const dec = decode === 'plus' ? urldecode : rawurldecode;
  for (const item of rawQuery.split('&')) {
    const parts = item.split('=');
    if (parts.length !== 2) continue;
    const name = dec(parts[0] as string);
    if (name.startsWith('oauth_')) continue;
    params[name] = dec(parts[1] as string);
  }
  return params;
}

/** Form body as PHP parse_str reads it (`+` is a space); only non-oauth fields are signed extras. */
export function parseFormBody(body: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of body.split('&')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    const name = urldecode(eq < 0 ? item : item.slice(0, eq));
    params[name] = eq < 0 ? '' : urldecode(item.slice(eq + 1));
  }
  return params;
}

export function collectRequestView(input: {
  authorization: string | undefined;
  rawQuery: string;
  contentType: string | undefined;
  rawBody: string;
  profile: SignatureProfile;
}): OauthRequestView {
  const protocol = parseAuthorizationHeader(input.authorization);
  const extra = parseSignedQuery(input.rawQuery, input.profile.queryDecode);
  // Case-sensitive prefix check, as Magento's strpos(...) === 0.
  if (input.contentType?.startsWith('application/x-www-form-urlencoded') && input.rawBody) {
    for (const [name, value] of Object.entries(parseFormBody(input.rawBody))) {
      if (!name.startsWith('oauth_')) extra[name] = value;
    }
  }
  return { protocol, extra };
}
