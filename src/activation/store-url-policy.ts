import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which store URLs the callback may make us call. The store URL arrives in an unauthenticated
 * POST, so without this anyone could point the token exchange at an internal host.
 */
export interface StoreUrlPolicyOptions {
  /** Origins (`https://shop.example.com`), hosts (`shop.example.com`, `127.0.0.1:3100`) or patterns (`*.example.com`). */
  allowlist: string[];
  production: boolean;
  /** Resolves a host name to its addresses (injected by tests). */
  resolve?: (host: string) => Promise<string[]>;
}

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['::ffff:0:0', 96],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export function matchesAllowlist(url: URL, allowlist: string[]): boolean {
  const host = url.hostname.toLowerCase();
  const hostPort = url.port ? `${host}:${url.port}` : host;
  return allowlist.some((raw) => {
    const entry = raw.toLowerCase().replace(/\/+$/, '');
    if (entry.includes('://')) return entry === url.origin.toLowerCase();
    if (entry.startsWith('*.')) return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
    return entry === hostPort || entry === host;
  });
}

/** Returns null when allowed, or the reason the URL is refused. */
export async function checkStoreUrl(raw: string, options: StoreUrlPolicyOptions): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'store_base_url is not a valid URL.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'store_base_url must be an http(s) URL.';
  if (url.username || url.password) return 'store_base_url must not contain credentials.';
  if (options.allowlist.length > 0) {
    return matchesAllowlist(url, options.allowlist)
      ? null
      : `Store ${url.origin} is not in STORE_URL_ALLOWLIST; add it there to accept activations from it.`;
  }
  if (!options.production) return null;
  if (url.protocol !== 'https:') {
    return `Store ${url.origin} uses plain http; production accepts only https stores unless listed in STORE_URL_ALLOWLIST.`;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await (options.resolve ?? resolveAll)(host).catch(() => [] as string[]);
  if (addresses.length === 0) return `Store host ${host} does not resolve.`;
  if (host === 'localhost' || addresses.some(isPrivateAddress)) {
    return `Store ${url.origin} resolves to a private, loopback or link-local address; list it in STORE_URL_ALLOWLIST if that is intended.`;
  }
  return null;
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}
