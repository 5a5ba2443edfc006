import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { addressRefusal, matchesAllowlist, type OutboundPolicy } from '../magento/outbound-guard.js';

export { matchesAllowlist };

/**
 * Which store URLs the callback may make us call. The store URL arrives in an unauthenticated
 * POST, so without this anyone could point the token exchange at an internal host. This is the
 * first check, when the callback arrives; the outbound guard (magento/outbound-guard.ts) checks
 * again at every connection, since a name may resolve differently later.
 */
export interface StoreUrlPolicyOptions {
  /** Origins (`https://shop.example.com`), hosts (`shop.example.com`, `127.0.0.1:3100`) or patterns (`*.example.com`). */
  allowlist: string[];
  production: boolean;
  /** Resolves a host name to its addresses (injected by tests). */
  resolve?: (host: string) => Promise<string[]>;
}

/** The same rules for the calls made to the store later. */
export function outboundPolicyFor(options: StoreUrlPolicyOptions): OutboundPolicy {
  return { refusePrivate: options.production, allowlist: options.allowlist, resolve: options.resolve };
}

// C0 controls, DEL and C1 controls; WHATWG URL parsing would silently drop some of them.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The one spelling of a store's base URL, so the same store is always recognised as the same:
 * lower-case host, default port dropped, path kept with exactly one trailing slash. Anything that
 * a Magento base URL never has is refused: a query, a fragment, credentials, control characters.
 */
export function canonicalStoreUrl(raw: string): string | { error: string } {
  if (typeof raw !== 'string' || raw === '') return { error: 'store_base_url is not a valid URL.' };
  if (CONTROL.test(raw)) return { error: 'store_base_url must not contain control characters.' };
  if (/\s/.test(raw)) return { error: 'store_base_url must not contain spaces.' };
  if (raw.includes('\\')) return { error: 'store_base_url must not contain a backslash.' };
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u007f]/.test(raw)) {
    return {
      error:
        'store_base_url must be ASCII; write an international host name in its xn-- (punycode) form, as Magento stores it.',
    };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: 'store_base_url is not a valid URL.' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: 'store_base_url must be an http(s) URL.' };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(raw) || url.username || url.password) {
    return { error: 'store_base_url must not contain credentials (user@).' };
  }
  if (raw.includes('?')) return { error: 'store_base_url must not have a query (?…).' };
  if (raw.includes('#')) return { error: 'store_base_url must not have a fragment (#…).' };
  if (!url.hostname) return { error: 'store_base_url has no host.' };
  const path = `${url.pathname.replace(/\/+$/, '')}/`;
  return `${url.protocol}//${url.host}${path}`;
}

/** Returns null when allowed, or the reason the URL is refused. */
export async function checkStoreUrl(raw: string, options: StoreUrlPolicyOptions): Promise<string | null> {
  const canonical = canonicalStoreUrl(raw);
  if (typeof canonical !== 'string') return canonical.error;
  const url = new URL(canonical);
  if (options.allowlist.length > 0) {
    return matchesAllowlist(url, options.allowlist)
      ? null
      : `Store ${url.origin} is not in STORE_URL_ALLOWLIST; add it there to accept activations from it.`;
  }
  if (!options.production) return null;
  return publicHttpsRefusal(url, 'Store', options);
}

/**
 * The IMS token endpoint a Cloud Service store's client secret is posted to: in production https on
 * a public address, as a store, unless listed in STORE_URL_ALLOWLIST. The allowlist names stores, so
 * an endpoint not in it (Adobe's) is not refused for that. Returns null when allowed.
 */
export async function checkImsTokenUrl(raw: string, options: StoreUrlPolicyOptions): Promise<string | null> {
  const canonical = canonicalStoreUrl(raw);
  if (typeof canonical !== 'string') return canonical.error.replace('store_base_url', 'The IMS token URL');
  const url = new URL(canonical);
  if (!options.production || matchesAllowlist(url, options.allowlist)) return null;
  return publicHttpsRefusal(url, 'IMS token endpoint', options);
}

/** Production's rule for a URL we send credentials to: https, on public addresses only. */
async function publicHttpsRefusal(
  url: URL,
  what: string,
  options: StoreUrlPolicyOptions,
): Promise<string | null> {
  if (url.protocol !== 'https:') {
    return `${what} ${url.origin} uses plain http; production accepts only https unless listed in STORE_URL_ALLOWLIST.`;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return `${what} ${url.origin} is a private, loopback or link-local address; list it in STORE_URL_ALLOWLIST if that is intended.`;
  }
  const addresses = isIP(host)
    ? [host]
    : await (options.resolve ?? resolveAll)(host).catch(() => [] as string[]);
  if (addresses.length === 0) return `${what} host ${host} does not resolve.`;
  const refused = addresses.map(addressRefusal).find((r) => r !== null);
  if (refused) {
    return `${what} ${url.origin} resolves to a private, loopback or link-local address (${refused.replace(/\.$/, '')}); list it in STORE_URL_ALLOWLIST if that is intended.`;
  }
  return null;
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}
