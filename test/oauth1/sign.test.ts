import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import got from 'got';
import { hmacsign, hmacsign256 } from 'oauth-sign';
import {
  RFC_PROFILE,
  alternativeProfiles,
  authorizationHeader,
  encodeQuery,
  sameBaseString,
  strnatcmp,
  type SigningProfile,
} from '../../src/oauth1/index.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { adminJson } from '../helpers/http.js';
import { manualIntegration } from '../helpers/simulator.js';
import { parseOAuthHeader, startStore, type StoreCredentials } from '../magento/store.js';

/**
 * Recomputes the signature with the independent `oauth-sign` package from what a server decodes
 * of the wire URL (Magento's rule: items with exactly one `=`, decoded, last one wins).
 */
function verifies(
  method: string,
  url: string,
  header: string,
  secrets: { consumerSecret: string; tokenSecret?: string },
  form: Record<string, string> = {},
): boolean {
  const { oauth_signature: signature, ...oauth } = parseOAuthHeader(header);
  const wire = new URL(url);
  const params: Record<string, string> = {};
  for (const item of wire.search.slice(1).split('&')) {
    const parts = item.split('=');
    if (parts.length !== 2) continue;
    const name = decodeURIComponent(parts[0] as string);
    if (!name.startsWith('oauth_')) params[name] = decodeURIComponent(parts[1] as string);
  }
  Object.assign(params, form, oauth);
  const sign = oauth.oauth_signature_method === 'HMAC-SHA1' ? hmacsign : hmacsign256;
  const base = `${wire.protocol}//${wire.host}${wire.pathname}`;
  return sign(method, base, params, secrets.consumerSecret, secrets.tokenSecret ?? '') === signature;
}

// prettier-ignore
const NASTY = [' ', '+', '*', '~', '!', "'", '(', ')', '%', '&', '=', '[', ']', '/', '?', '#', ',', ';', ':', '@',
  '$', 'a', 'Z', '0', '9', '_', '-', '.', 'é', '✓', '😀', '中'];
const text = fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 12 });
const bracketKey = fc
  .tuple(fc.nat(15), fc.nat(15), fc.constantFrom('field', 'value', 'condition_type'))
  .map(([g, f, leaf]) => `searchCriteria[filter_groups][${g}][filters][${f}][${leaf}]`);
const key = fc.oneof(
  bracketKey,
  fc.constantFrom(
    'searchCriteria[pageSize]',
    'searchCriteria[currentPage]',
    'searchCriteria[sortOrders][0][field]',
  ),
  text.filter((s) => s.length > 0 && !s.startsWith('oauth_') && s !== '__proto__'),
);
const pairs = fc.array(fc.tuple(key, text), { maxLength: 14 });

const CREDS = {
  consumerKey: 'ck+key',
  consumerSecret: "cs!secret*(1)' é",
  token: 't0ken',
  tokenSecret: 'ts secret+é',
};

describe('authorizationHeader', () => {
  it('verifies with oauth-sign for nested keys and nasty values (property)', () => {
    fc.assert(
      fc.property(
        pairs,
        text,
        text,
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        (query, consumerSecret, tokenSecret, method) => {
          const url = `https://Shop.Example.COM:443/index.php/rest/default/V1/products?${encodeQuery(query)}`;
          const creds = { consumerKey: 'key', consumerSecret, token: 'tok', tokenSecret };
          const header = authorizationHeader({ method, url }, creds);
          expect(verifies(method, url, header, creds)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes the header Magento parses: quoted, percent-encoded, 32-char [A-Za-z0-9] nonces, fresh each call', () => {
    const url = 'http://127.0.0.1:8080/rest/V1/products';
    const headers = Array.from({ length: 50 }, () => authorizationHeader({ method: 'GET', url }, CREDS));
    const fields = headers.map(parseOAuthHeader);
    for (const f of fields) {
      expect(f.oauth_nonce).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(f.oauth_signature_method).toBe('HMAC-SHA256');
      expect(f.oauth_version).toBe('1.0');
      expect(f.oauth_consumer_key).toBe('ck+key');
      expect(f.oauth_token).toBe('t0ken');
      expect(Number(f.oauth_timestamp)).toBeGreaterThan(1_600_000_000);
    }
    expect(new Set(fields.map((f) => f.oauth_nonce)).size).toBe(50);
    expect(headers[0]).toMatch(/^OAuth oauth_consumer_key="ck%2Bkey", oauth_nonce="/);
  });

  it('is deterministic with a fixed nonce and timestamp, and leaves the token out when there is none', () => {
    const req = { method: 'POST', url: 'http://store.test/oauth/token/request' };
    const creds = { consumerKey: 'k', consumerSecret: 's' };
    const a = authorizationHeader(req, creds, { nonce: 'n'.repeat(32), timestamp: 1_700_000_000 });
    const b = authorizationHeader(req, creds, { nonce: 'n'.repeat(32), timestamp: 1_700_000_000 });
    expect(a).toBe(b);
    expect(parseOAuthHeader(a).oauth_token).toBeUndefined();
    expect(verifies('POST', req.url, a, { consumerSecret: 's' })).toBe(true);
  });

  it('signs extra protocol parameters such as oauth_verifier and puts them in the header', () => {
    const url = 'http://store.test/oauth/token/access';
    const header = authorizationHeader({ method: 'POST', url }, CREDS, {
      extraOauth: { oauth_verifier: 'v 1+2' },
    });
    expect(parseOAuthHeader(header).oauth_verifier).toBe('v 1+2');
    expect(verifies('POST', url, header, CREDS)).toBe(true);
  });

  it('signs HMAC-SHA1 when asked (Magento 2.4.3 and older)', () => {
    const url = `http://store.test/rest/V1/products?${encodeQuery([['searchCriteria[pageSize]', '10']])}`;
    const header = authorizationHeader({ method: 'GET', url }, CREDS, { signatureMethod: 'HMAC-SHA1' });
    expect(parseOAuthHeader(header).oauth_signature_method).toBe('HMAC-SHA1');
    expect(parseOAuthHeader(header).oauth_signature).toHaveLength(28);
    expect(verifies('GET', url, header, CREDS)).toBe(true);
  });

  it('signs form fields but never JSON, and lower-cases the host and drops the default port', () => {
    const url = 'HTTP://Store.Test:80/oauth/token/request';
    const form = { a: 'x y', 'b[c]': '1+1' };
    const header = authorizationHeader({ method: 'POST', url }, CREDS, {});
    const withForm = authorizationHeader({ method: 'POST', url }, CREDS, {
      nonce: parseOAuthHeader(header).oauth_nonce,
      timestamp: Number(parseOAuthHeader(header).oauth_timestamp),
    });
    expect(withForm).toBe(header);
    const formHeader = authorizationHeader({ method: 'POST', url, form }, CREDS);
    expect(verifies('POST', 'http://store.test/oauth/token/request', formHeader, CREDS, form)).toBe(true);
  });

  it('leaves out what Magento leaves out: items without `=`, a raw `=` in a value, oauth_* query names', () => {
    const fixed = { nonce: 'x'.repeat(32), timestamp: 1_700_000_000 };
    const plain = authorizationHeader({ method: 'GET', url: 'http://s.test/p?a=1' }, CREDS, fixed);
    for (const extra of ['flag', 'b=c=d', 'oauth_callback=oob', '']) {
      const url = `http://s.test/p?a=1&${extra}`;
      expect(authorizationHeader({ method: 'GET', url }, CREDS, fixed)).toBe(plain);
    }
    // A raw `+` is signed as a plus (as 2.4.8 reads it); encodeQuery never writes one.
    const plus = 'http://s.test/p?a=1+2';
    expect(verifies('GET', plus, authorizationHeader({ method: 'GET', url: plus }, CREDS), CREDS)).toBe(true);
  });

  it('refuses a malformed escape instead of signing something the store decodes differently', () => {
    expect(() => authorizationHeader({ method: 'GET', url: 'http://s.test/p?a=%zz' }, CREDS)).toThrow(
      /not valid percent-encoded UTF-8/,
    );
  });
});

describe('encodeQuery', () => {
  it('writes RFC 3986: %20 for a space, %2B for a plus, brackets encoded', () => {
    expect(encodeQuery([['searchCriteria[filter_groups][0][filters][0][value]', "a b+c*d~e!'()é"]])).toBe(
      'searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=a%20b%2Bc%2Ad~e%21%27%28%29%C3%A9',
    );
    expect(encodeQuery({ a: '', 'b&c': '=' })).toBe('a=&b%26c=%3D');
  });
});

describe('strnatcmp (PHP natural order)', () => {
  it.each([
    ['img2', 'img10', -1],
    ['img12', 'img10', 1],
    ['%5B2%5D', '%5B10%5D', -1],
    ['a01', 'a1', -1],
    ['01', '1', 0],
    ['a', 'a', 0],
    ['', 'a', -1],
    ['x9y', 'x10', -1],
    ['abc', 'abd', -1],
  ])('%s vs %s', (a, b, expected) => {
    expect(Math.sign(strnatcmp(a, b))).toBe(expected);
    expect(Math.sign(strnatcmp(b, a)) + expected).toBe(0);
  });
});

const PROFILES: SigningProfile[] = [
  RFC_PROFILE,
  { sort: 'natural', path: 'as-sent' },
  { sort: 'natural', path: 'laminas' },
  { sort: 'byte', path: 'laminas' },
];

describe('signing profiles', () => {
  const signature = (url: string, profile: SigningProfile) =>
    parseOAuthHeader(
      authorizationHeader({ method: 'GET', url }, CREDS, {
        profile,
        nonce: 'n'.repeat(32),
        timestamp: 1_700_000_000,
      }),
    ).oauth_signature;

  it('differ from RFC exactly when alternativeProfiles says so (property)', () => {
    const path = fc.constantFrom(
      '/rest/V1/products',
      '/rest/V1/products/ABC%2F10',
      '/rest/V1/products/a%40b%7Ec',
    );
    fc.assert(
      fc.property(pairs, path, (query, p) => {
        const url = `http://store.test${p}?${encodeQuery(query)}`;
        const alternatives = alternativeProfiles(url);
        const rfc = signature(url, RFC_PROFILE);
        const all = PROFILES.map((profile) => signature(url, profile));
        expect(new Set(all).size).toBe(1 + alternatives.length);
        expect(new Set(alternatives.map((profile) => signature(url, profile))).size).toBe(
          alternatives.length,
        );
        for (const alt of alternatives) expect(signature(url, alt)).not.toBe(rfc);
        PROFILES.forEach((profile, i) => {
          expect(all[i] !== rfc).toBe(!sameBaseString(url, profile, RFC_PROFILE));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('natural order matters only once an index reaches 10; the laminas path only with such escapes', () => {
    const groups = (n: number) =>
      encodeQuery(
        Array.from({ length: n }, (_, g): [string, string] => [
          `searchCriteria[filter_groups][${g}][filters][0][field]`,
          'sku',
        ]),
      );
    expect(alternativeProfiles(`http://s.test/rest/V1/products?${groups(10)}`)).toEqual([]);
    expect(alternativeProfiles(`http://s.test/rest/V1/products?${groups(11)}`)).toEqual([
      { sort: 'natural', path: 'as-sent' },
    ]);
    expect(alternativeProfiles('http://s.test/rest/V1/products/A%2FB')).toEqual([
      { sort: 'natural', path: 'laminas' },
    ]);
    expect(alternativeProfiles('http://s.test/rest/V1/products/A%20B')).toEqual([]);
    expect(alternativeProfiles(`http://s.test/rest/V1/products/A%2FB?${groups(12)}`)).toEqual([
      { sort: 'natural', path: 'as-sent' },
      { sort: 'natural', path: 'laminas' },
      { sort: 'byte', path: 'laminas' },
    ]);
  });
});

describe('signing against the store simulator', () => {
  let sim: RunningSimulator;
  let creds: StoreCredentials;

  beforeAll(async () => {
    sim = await startStore();
    ({ credentials: creds } = await manualIntegration(sim.url));
  });
  afterAll(() => sim.close());

  const signedGet = (url: string, profile?: SigningProfile) =>
    got(url, {
      headers: { authorization: authorizationHeader({ method: 'GET', url }, creds, { profile }) },
      throwHttpErrors: false,
      retry: { limit: 0 },
    });

  it('never gets a 401 for nested searchCriteria queries with nasty values (property, real HTTP)', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, async (query) => {
        const url = `${sim.url}/rest/V1/products?${encodeQuery(query)}`;
        const response = await signedGet(url);
        expect([200, 400]).toContain(response.statusCode);
      }),
      { numRuns: 30 },
    );
    const rejected = await adminJson<unknown[]>(sim.url, 'GET', '/oauth-log?outcome=rejected');
    expect(rejected.body).toEqual([]);
  });

  it('matches the store quirks only with the matching profile', async () => {
    const twelve = encodeQuery(
      Array.from({ length: 12 }, (_, g): [string, string] => [
        `searchCriteria[filter_groups][${g}][filters][0][field]`,
        'sku',
      ]).concat(
        Array.from({ length: 12 }, (_, g): [string, string] => [
          `searchCriteria[filter_groups][${g}][filters][0][value]`,
          '%',
        ]),
        Array.from({ length: 12 }, (_, g): [string, string] => [
          `searchCriteria[filter_groups][${g}][filters][0][condition_type]`,
          'like',
        ]),
      ),
    );
    const list = `${sim.url}/rest/V1/products?${twelve}`;
    const sku = `${sim.url}/rest/V1/products/NO%2FSUCH`;
    try {
      await adminJson(sim.url, 'PUT', '/settings', { signature: { sort: 'natural' } });
      expect((await signedGet(list)).statusCode).toBe(401);
      expect((await signedGet(list, { sort: 'natural', path: 'as-sent' })).statusCode).toBe(200);

      await adminJson(sim.url, 'PUT', '/settings', {
        magento_version: '2.4.8',
        signature: { url: 'laminas' },
      });
      expect((await signedGet(sku)).statusCode).toBe(401);
      // 404: past the signature check, the product just does not exist.
      expect((await signedGet(sku, { sort: 'byte', path: 'laminas' })).statusCode).toBe(404);
    } finally {
      await adminJson(sim.url, 'PUT', '/settings', { magento_version: '2.4.8' });
    }
  });
});
