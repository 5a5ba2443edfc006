import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { MagentoError } from './errors.js';

/**
 * Which addresses calls to a store may connect to. The store URL comes from an unauthenticated
 * callback, so in production a store must be a public host: the check runs when each connection
 * is made, on the address actually used, so a name that resolved to a public address when the
 * callback arrived and to 127.0.0.1 later (DNS rebinding) is still refused.
 */
export interface OutboundPolicy {
  /** Refuse every address that is not public unicast (production). */
  refusePrivate: boolean;
  /** STORE_URL_ALLOWLIST entries: a listed store may resolve anywhere. */
  allowlist: string[];
  /** Resolves a host name to its addresses (injected by tests); default: the system resolver. */
  resolve?: (host: string) => Promise<string[]>;
}

/** Loopback allowed: the bundled simulator and local stores. */
export const DEVELOPMENT_OUTBOUND: OutboundPolicy = { refusePrivate: false, allowlist: [] };
export const PRODUCTION_OUTBOUND: OutboundPolicy = { refusePrivate: true, allowlist: [] };

let processDefault: OutboundPolicy = DEVELOPMENT_OUTBOUND;

/**
 * The policy for calls made without one (the app sets it from its configuration at start; CLIs
 * that an operator points at a store keep the permissive default).
 */
export function setDefaultOutboundPolicy(policy: OutboundPolicy): void {
  processDefault = policy;
}

export function defaultOutboundPolicy(): OutboundPolicy {
  return processDefault;
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

type V4 = ipaddr.IPv4;

const v4 = (hi: number, lo: number): V4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

/** The IPv4 address an IPv6 form carries, or undefined when it carries none. */
function embeddedIPv4(address: ipaddr.IPv6): V4[] | undefined {
  const p = address.parts as [number, number, number, number, number, number, number, number];
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return [v4(p[6], p[7])];
    case 'rfc6052': // NAT64 64:ff9b::a.b.c.d (the /48 local-use prefix is refused outright)
      return p[2] === 0 ? [v4(p[6], p[7])] : undefined;
    case '6to4': // 2002:AABB:CCDD::
      return [v4(p[1], p[2])];
    case 'teredo': // 2001:0:<server>:<flags>:<port>:<client xor ffff>
      return [v4(p[2], p[3]), v4(p[6] ^ 0xffff, p[7] ^ 0xffff)];
    default:
      return undefined;
  }
}

/** Null for a public unicast address; otherwise why it is refused. */
export function addressRefusal(address: string): string | null {
  const text = address.replace(/^\[|\]$/g, '');
  if (!isIP(text.split('%')[0] ?? '')) return `${address} is not an IP address.`;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(text);
  } catch {
    return `${address} is not an IP address.`;
  }
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    return range === 'unicast' ? null : `${address} is not a public address (${range}).`;
  }
  const v6 = parsed as ipaddr.IPv6;
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d; none is a public host.
  if (v6.parts.slice(0, 6).every((part) => part === 0)) {
    return `${address} is not a public address (unspecified, loopback or IPv4-compatible).`;
  }
  const inner = embeddedIPv4(v6);
  if (inner) {
    const refused = inner.find((a) => a.range() !== 'unicast');
    return refused
      ? `${address} is not a public address: it carries ${refused.toString()} (${refused.range()}).`
      : null;
  }
  const range = v6.range();
  return range === 'unicast' ? null : `${address} is not a public address (${range}).`;
}

/** Thrown (inside got) when a store's address is refused. */
export class StoreAddressRefused extends MagentoError {
  override name = 'StoreAddressRefused';
  declare readonly code: 'MAGENTO_ADDRESS_REFUSED';
  constructor(host: string, reason: string) {
    super(
      `Refused to connect to the store at ${host}: ${reason} Production calls only stores on public ` +
        'addresses; list the store in STORE_URL_ALLOWLIST if it is meant to be private.',
      'MAGENTO_ADDRESS_REFUSED',
    );
  }
}

function systemResolve(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, order: 'verbatim' }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    );
  });
}

export interface ConnectGuard {
  /** For got's `dnsLookup`: resolves, then refuses the connection if an address is not allowed. */
  lookup?: LookupFunction;
  /** Call before each request: an IP-literal host skips the lookup, so it is checked here. */
  checkUrl: (url: URL) => void;
}

/** The connect-time checks for calls to one store. */
export function connectGuard(storeUrl: URL, policy: OutboundPolicy): ConnectGuard {
  const enforce = policy.refusePrivate && !matchesAllowlist(storeUrl, policy.allowlist);
  const resolve = policy.resolve ?? (enforce ? systemResolve : undefined);
  const checkUrl = (url: URL) => {
    if (!enforce) return;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const refused = addressRefusal(host);
      if (refused) throw new StoreAddressRefused(url.host, refused);
    }
  };
  if (!resolve) return { checkUrl };
  const lookup = ((hostname: string, options: unknown, callback: unknown) => {
    // Node calls lookup(host, options, cb) and, in older code paths, lookup(host, cb).
    const cb = (typeof options === 'function' ? options : callback) as (
      error: NodeJS.ErrnoException | null,
      address: string | { address: string; family: number }[],
      family?: number,
    ) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as {
      family?: number | string;
      all?: boolean;
    };
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : Number(opts.family ?? 0);
    resolve(hostname).then(
      (all) => {
        const addresses = all.filter((a) => isIP(a) !== 0 && (family === 0 || isIP(a) === family));
        if (addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          cb(error, '');
          return;
        }
        if (enforce) {
          for (const address of addresses) {
            const refused = addressRefusal(address);
            if (refused) {
              cb(new StoreAddressRefused(hostname, `it resolves to ${refused}`), '');
              return;
            }
          }
        }
        if (opts.all)
          cb(
            null,
            addresses.map((address) => ({ address, family: isIP(address) })),
          );
        else cb(null, addresses[0] as string, isIP(addresses[0] as string));
      },
      (error: NodeJS.ErrnoException) => cb(error, ''),
    );
  }) as LookupFunction;
  return { lookup, checkUrl };
}
