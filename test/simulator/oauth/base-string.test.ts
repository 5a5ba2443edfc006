import { describe, expect, it } from '@jest/globals';
import {
  hmacSignature,
  normaliseBaseUrl,
  signatureBaseString,
} from '../../../src/simulator/oauth/base-string.js';
import { rawurldecode, rfc3986, strnatcmp, urldecode } from '../../../src/simulator/oauth/encoding.js';
import { parseAuthorizationHeader, parseSignedQuery } from '../../../src/simulator/oauth/request-params.js';

const rfc = { sort: 'byte', doubleEncodeValues: false } as const;

describe('the simulator’s own signature code against published examples', () => {
  it('reproduces the OAuth Core 1.0 appendix signature (HMAC-SHA1)', () => {
    const params = {
      file: 'vacation.jpg',
      size: 'original',
      oauth_consumer_key: 'dpf43f3p2l4k3l03',
      oauth_token: 'nnch734d00sl2jdk',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_timestamp: '1191242096',
      oauth_nonce: 'kllo9940pd9333jh',
      oauth_version: '1.0',
    };
    const base = signatureBaseString('GET', 'http://photos.example.net/photos', params, rfc);
    expect(hmacSignature('HMAC-SHA1', base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe(
      'tR3+Ty81lMeYAr/Fid0kMTYa/WM=',
    );
  });

  it('builds the RFC 5849 §3.4.1.1 base string (one value per name, as Magento keeps)', () => {
    const auth = parseAuthorizationHeader(
      'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", ' +
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", ' +
        'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"',
    )!;
    expect(auth).not.toHaveProperty('realm');
    expect(auth.oauth_signature).toBe('bYT5CMsGcbgUdFHObYMEfcx6bsw=');
    const query = parseSignedQuery('b5=%3D%253D&c%40=&a2=r%20b', 'raw');
    const params = { ...query, a3: '2 q', c2: '', ...auth };
    const url = normaliseBaseUrl('http', 'Example.com:80', '/request', 'rfc');
    expect(signatureBaseString('POST', url, params, rfc)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26' +
        'oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26' +
        'oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('orders names naturally only in natural mode', () => {
    const names = ['k%5B10%5D', 'k%5B2%5D', 'k%5B1%5D'];
    expect([...names].sort(strnatcmp)).toEqual(['k%5B1%5D', 'k%5B2%5D', 'k%5B10%5D']);
    const params = { 'k[10]': 'x', 'k[2]': 'y' };
    expect(signatureBaseString('GET', 'http://h/p', params, rfc)).toContain(
      rfc3986('k%5B10%5D=x&k%5B2%5D=y'),
    );
    expect(
      signatureBaseString('GET', 'http://h/p', params, { sort: 'natural', doubleEncodeValues: false }),
    ).toContain(rfc3986('k%5B2%5D=y&k%5B10%5D=x'));
  });

  it('normalises the URL per era', () => {
    expect(normaliseBaseUrl('HTTP', 'Shop.Example:80', '/rest/V1/products/A%2Fb%7e', 'laminas')).toBe(
      'http://shop.example/rest/V1/products/A/b~',
    );
    expect(normaliseBaseUrl('https', 'shop.example:443', '/rest/V1/products/A%2fb%7e', 'unreserved')).toBe(
      'https://shop.example/rest/V1/products/A%2Fb~',
    );
    expect(normaliseBaseUrl('http', 'Shop.example:80', '/a/./b/../c', 'raw')).toBe(
      'http://Shop.example:80/a/./b/../c',
    );
  });

  it('decodes like PHP', () => {
    expect(rawurldecode('a+b%20c%zz%C3%A9')).toBe('a+b c%zzé');
    expect(urldecode('a+b%2B')).toBe('a b+');
    expect(rfc3986("!*'()~ é")).toBe('%21%2A%27%28%29~%20%C3%A9');
    expect(parseSignedQuery('a=1&flag&b=x=y&oauth_token=t&a=2', 'raw')).toEqual({ a: '2' });
  });
});
