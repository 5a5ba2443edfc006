import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { magentoToken, sleep } from './common.js';

/**
 * A canned Magento store for load and crash runs: one HTTP server answering for many store origins,
 * told apart by the Host header (`127.X.Y.Z:<port>`). It keeps Magento's token rules per consumer key
 * (contract §3.4, §3.5, §3.8) but does NOT check signatures: it is a load peer, and the signature
 * rules are tested against the bundled simulator elsewhere.
 */

export interface CannedStoreOptions {
  /** Added before every token answer. */
  tokenLatencyMs?: number;
  /** Added before every REST answer (long enough to see two syncs of one store overlap). */
  restLatencyMs?: number;
}

export interface Registration {
  key: string;
  secret: string;
  verifier: string;
  storeBaseUrl: string;
}

export interface KeyStats {
  host: string;
  requestTokens: number;
  accessTokens: number;
  /** Token calls refused (second request token, reused request token...). */
  refusals: number;
  restCalls: number;
  restByPath: Record<string, number>;
  /** Calls that started while another call to the same path of the same store was running. */
  overlaps: number;
}

export interface CannedStoreStats {
  totals: {
    registered: number;
    requestTokens: number;
    accessTokens: number;
    refusals: number;
    restCalls: number;
    restInFlight: number;
    overlaps: number;
  };
  keys?: Record<string, KeyStats>;
}

interface KeyState extends KeyStats {
  verifier: string;
  /** Magento's single token row per consumer: verifier → request → access. */
  tokenType: 'verifier' | 'request' | 'access';
  requestToken?: string;
  accessToken?: string;
  inFlightByPath: Map<string, number>;
}

/** The oauth_* parameters of an `Authorization: OAuth …` header (contract §3.3, simplified). */
function oauthParams(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  const at = header.toLowerCase().indexOf('oauth ');
  if (at < 0) return out;
  for (const part of header.slice(at + 6).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = decodeURIComponent(part.slice(0, eq).trim());
    const value = decodeURIComponent(
      part
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, ''),
    );
    if (name.startsWith('oauth_')) out[name] = value;
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

export function createCannedStore(options: CannedStoreOptions = {}) {
  const settings = { tokenLatencyMs: options.tokenLatencyMs ?? 0, restLatencyMs: options.restLatencyMs ?? 0 };
  const keys = new Map<string, KeyState>();
  const byRequestToken = new Map<string, string>();
  const byAccessToken = new Map<string, string>();
  let restInFlight = 0;

  const problem = (res: http.ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' });
    res.end(`oauth_problem=${encodeURIComponent(message).replace(/%20/g, '+')}`);
  };

  const register = (r: Registration) => {
    const host = new URL(r.storeBaseUrl).host;
    const existing = keys.get(r.key);
    if (existing) {
      // Reauthorize: the store deletes the token row and posts a new verifier (contract §1.1).
      if (existing.requestToken) byRequestToken.delete(existing.requestToken);
      if (existing.accessToken) byAccessToken.delete(existing.accessToken);
      Object.assign(existing, {
        verifier: r.verifier,
        host,
        tokenType: 'verifier',
        requestToken: undefined,
        accessToken: undefined,
      });
      return;
    }
    keys.set(r.key, {
      host,
      verifier: r.verifier,
      tokenType: 'verifier',
      requestTokens: 0,
      accessTokens: 0,
      refusals: 0,
      restCalls: 0,
      restByPath: {},
      overlaps: 0,
      inFlightByPath: new Map(),
    });
  };

  const tokenRequest = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = oauthParams(req.headers.authorization);
    const key = p.oauth_consumer_key ?? '';
    const state = keys.get(key);
    if (!state || state.host !== req.headers.host) {
      problem(res, 401, 'A consumer having the specified key does not exist');
      return;
    }
    if (state.tokenType !== 'verifier') {
      state.refusals++;
      problem(res, 401, 'Cannot create request token because consumer token is not a verifier token');
      return;
    }
    // The row changes type before the answer leaves, as in Magento: a lost answer cannot be asked again.
    const token = magentoToken();
    state.tokenType = 'request';
    state.requestToken = token;
    state.requestTokens++;
    byRequestToken.set(token, key);
    if (settings.tokenLatencyMs) await sleep(settings.tokenLatencyMs);
    res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' });
    res.end(`oauth_token=${token}&oauth_token_secret=${magentoToken()}`);
  };

  const tokenAccess = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = oauthParams(req.headers.authorization);
    const owner = byRequestToken.get(p.oauth_token ?? '');
    const state = owner === undefined ? undefined : keys.get(owner);
    if (owner === undefined || !state || state.host !== req.headers.host) {
      const caller = keys.get(p.oauth_consumer_key ?? '');
      if (caller) caller.refusals++;
      problem(res, 401, 'Specified token does not exist');
      return;
    }
    if (owner !== p.oauth_consumer_key) {
      state.refusals++;
      problem(res, 401, 'Request token is not associated with the specified consumer');
      return;
    }
    if (p.oauth_verifier !== state.verifier) {
      state.refusals++;
      problem(res, 401, 'Token verifier and verifier token do not match');
      return;
    }
    const token = magentoToken();
    byRequestToken.delete(p.oauth_token ?? '');
    state.tokenType = 'access';
    state.requestToken = undefined;
    state.accessToken = token;
    state.accessTokens++;
    byAccessToken.set(token, owner);
    if (settings.tokenLatencyMs) await sleep(settings.tokenLatencyMs);
    res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' });
    res.end(`oauth_token=${token}&oauth_token_secret=${magentoToken()}`);
  };

  const rest = async (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => {
    const p = oauthParams(req.headers.authorization);
    const owner = byAccessToken.get(p.oauth_token ?? '');
    const state = owner === undefined ? undefined : keys.get(owner);
    if (!state || state.host !== req.headers.host) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: "The consumer isn't authorized to access %resources." }));
      return;
    }
    state.restCalls++;
    state.restByPath[pathname] = (state.restByPath[pathname] ?? 0) + 1;
    const running = state.inFlightByPath.get(pathname) ?? 0;
    if (running > 0) state.overlaps++;
    state.inFlightByPath.set(pathname, running + 1);
    restInFlight++;
    try {
      if (settings.restLatencyMs) await sleep(settings.restLatencyMs);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [], search_criteria: {}, total_count: 0 }));
    } finally {
      restInFlight--;
      state.inFlightByPath.set(pathname, (state.inFlightByPath.get(pathname) ?? 1) - 1);
    }
  };

  const stats = (withKeys: boolean): CannedStoreStats => {
    const totals = {
      registered: keys.size,
      requestTokens: 0,
      accessTokens: 0,
      refusals: 0,
      restCalls: 0,
      restInFlight,
      overlaps: 0,
    };
    const perKey: Record<string, KeyStats> = {};
    for (const [key, s] of keys) {
      totals.requestTokens += s.requestTokens;
      totals.accessTokens += s.accessTokens;
      totals.refusals += s.refusals;
      totals.restCalls += s.restCalls;
      totals.overlaps += s.overlaps;
      if (withKeys) {
        perKey[key] = {
          host: s.host,
          requestTokens: s.requestTokens,
          accessTokens: s.accessTokens,
          refusals: s.refusals,
          restCalls: s.restCalls,
          restByPath: s.restByPath,
          overlaps: s.overlaps,
        };
      }
    }
    return withKeys ? { totals, keys: perKey } : { totals };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://store.invalid');
    const route = `${req.method} ${url.pathname}`;
    const handle = async () => {
      if (route === 'POST /__register') {
        const body = JSON.parse(await readBody(req)) as { integrations: Registration[] };
        for (const r of body.integrations) register(r);
        res.writeHead(204).end();
      } else if (route === 'POST /__config') {
        Object.assign(settings, JSON.parse(await readBody(req)) as Partial<typeof settings>);
        res.writeHead(204).end();
      } else if (route === 'GET /__stats') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(stats(url.searchParams.get('keys') !== '0')));
      } else if (url.pathname.endsWith('/oauth/token/request')) {
        await readBody(req);
        await tokenRequest(req, res);
      } else if (url.pathname.endsWith('/oauth/token/access')) {
        await readBody(req);
        await tokenAccess(req, res);
      } else if (url.pathname.includes('/rest/')) {
        await rest(req, res, url.pathname);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `No route ${route} on the canned store.` }));
      }
    };
    handle().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  // Many short connections from one client: do not let the backlog refuse a burst.
  server.maxConnections = 20_000;

  return {
    server,
    listen: (port: number, host = '0.0.0.0') =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: 4096 }, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
