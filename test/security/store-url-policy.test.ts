import { describe, expect, it } from '@jest/globals';
import { canonicalStoreUrl, checkImsTokenUrl, checkStoreUrl } from '../../src/activation/store-url-policy.js';
import { addressRefusal } from '../../src/magento/outbound-guard.js';

/** Every form an address can take, public or not. */
const PUBLIC = [
  '8.8.8.8',
  '93.184.216.34',
  '1.1.1.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:80b::200e',
  // Embeddings of a public IPv4 reach a public host.
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
];
const PRIVATE = [
  '127.0.0.1',
  '127.1.2.3',
  '10.0.0.1',
  '172.16.5.4',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '224.0.0.1',
  '198.18.0.1',
  '192.0.2.1',
  '::1',
  '::',
  'fe80::1',
  'fc00::1',
  'fd12:3456::1',
  'ff02::1',
  // IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4 and Teredo forms of private IPv4.
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '::ffff:0:127.0.0.1',
  '::127.0.0.1',
  '::7f00:1',
  '::a00:1',
  '64:ff9b::7f00:1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::7f00:1',
  '2002:7f00:1::',
  '2002:a00:1::1',
  '2002:c0a8:101::1',
  // Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted: 80ff:fffe).
  '2001:0:4136:e378:8000:63bf:80ff:fffe',
  // Teredo with a private server address.
  '2001:0:a00:1:8000:63bf:3fff:fdd2',
  '100::1',
];

describe('addressRefusal: only public unicast addresses pass', () => {
  it.each(PUBLIC)('accepts %s', (address) => {
    expect(addressRefusal(address)).toBeNull();
  });
  it.each(PRIVATE)('refuses %s', (address) => {
    expect(addressRefusal(address)).toEqual(expect.any(String));
  });
  it('refuses what is not an address', () => {
    expect(addressRefusal('shop.example.com')).toEqual(expect.any(String));
  });
});

describe('checkStoreUrl in production', () => {
  const production = { production: true, allowlist: [] as string[] };
  it.each([
    'https://[::127.0.0.1]/',
    'https://[64:ff9b::7f00:1]/',
    'https://[2002:7f00:1::]/',
    'https://[::ffff:169.254.169.254]/',
    'https://127.0.0.1/',
    'https://0x7f.1/',
    'https://2130706433/',
    'https://localhost/',
  ])('refuses %s', async (url) => {
    const refused = await checkStoreUrl(url, { ...production, resolve: async () => ['127.0.0.1'] });
    expect(refused).toMatch(/private, loopback|not a public/);
  });

  it.each(['https://8.8.8.8/', 'https://93.184.216.34/', 'https://[2606:4700:4700::1111]/'])(
    'accepts the public %s',
    async (url) => {
      expect(await checkStoreUrl(url, production)).toBeNull();
    },
  );

  it('refuses a name when any of its addresses is private', async () => {
    const resolve = async () => ['93.184.216.34', '10.0.0.8'];
    expect(await checkStoreUrl('https://shop.example.com/', { ...production, resolve })).toMatch(/private/);
    const publicOnly = async () => ['93.184.216.34'];
    expect(
      await checkStoreUrl('https://shop.example.com/', { ...production, resolve: publicOnly }),
    ).toBeNull();
  });

  it('development accepts loopback (the simulator)', async () => {
    expect(await checkStoreUrl('http://127.0.0.1:3100/', { production: false, allowlist: [] })).toBeNull();
  });
});

describe('checkImsTokenUrl: where a client secret may be posted', () => {
  const production = { production: true, allowlist: [] as string[], resolve: async () => ['93.184.216.34'] };
  it('in production refuses plain http, and private or loopback endpoints', async () => {
    expect(await checkImsTokenUrl('http://ims.example.com/ims/token/v3', production)).toMatch(
      /IMS token endpoint http:\/\/ims\.example\.com uses plain http/,
    );
    expect(await checkImsTokenUrl('https://127.0.0.1/ims/token/v3', production)).toMatch(/private, loopback/);
    expect(
      await checkImsTokenUrl('https://ims.example.com/ims/token/v3', {
        ...production,
        resolve: async () => ['10.0.0.8'],
      }),
    ).toMatch(/private/);
    expect(await checkImsTokenUrl('https://ims.example.com/ims/token/v3?x=1', production)).toMatch(/query/);
  });

  it("accepts Adobe's https endpoint, also when STORE_URL_ALLOWLIST lists only stores", async () => {
    const url = 'https://ims-na1.adobelogin.com/ims/token/v3';
    expect(await checkImsTokenUrl(url, production)).toBeNull();
    expect(await checkImsTokenUrl(url, { ...production, allowlist: ['shop.example.com'] })).toBeNull();
  });

  it('accepts a listed endpoint anywhere, and anything in development', async () => {
    const url = 'http://127.0.0.1:3100/ims/token/v3';
    expect(await checkImsTokenUrl(url, { ...production, allowlist: ['127.0.0.1:3100'] })).toBeNull();
    expect(await checkImsTokenUrl(url, { production: false, allowlist: [] })).toBeNull();
  });
});

describe('canonicalStoreUrl', () => {
  it.each([
    ['https://Shop.Example.com:443/magento', 'https://shop.example.com/magento/'],
    ['https://shop.example.com', 'https://shop.example.com/'],
    ['https://shop.example.com/', 'https://shop.example.com/'],
    ['https://shop.example.com//', 'https://shop.example.com/'],
    ['http://SHOP.example.com:80/index.php/', 'http://shop.example.com/index.php/'],
    ['http://127.0.0.1:3100', 'http://127.0.0.1:3100/'],
    ['https://shop.example.com:8443/a/b///', 'https://shop.example.com:8443/a/b/'],
    ['https://[2606:4700::1111]/', 'https://[2606:4700::1111]/'],
    ['https://xn--bcher-kva.example/', 'https://xn--bcher-kva.example/'],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalStoreUrl(raw)).toBe(canonical);
  });

  it.each([
    ['a query', 'https://shop.example.com/?a=1', /query/],
    ['an empty query', 'https://shop.example.com/?', /query/],
    ['a fragment', 'https://shop.example.com/#x', /fragment/],
    ['userinfo', 'https://user:pw@shop.example.com/', /credentials|user/],
    ['an empty userinfo', 'https://@shop.example.com/', /credentials|user/],
    ['a NUL', 'https://shop.example.com/\u0000', /control/],
    ['a tab', 'https://shop.exa\tmple.com/', /control/],
    ['a newline', 'https://shop.example.com/\nX', /control/],
    ['a DEL', 'https://shop.example.com/\u007f', /control/],
    ['a space', 'https://shop.example.com/a b', /space|control/],
    ['a backslash', 'https://shop.example.com\\@evil.example/', /backslash/],
    ['ftp', 'ftp://shop.example.com/', /http\(s\)/],
    ['javascript', 'javascript:alert(1)', /http\(s\)/],
    ['file', 'file:///etc/passwd', /http\(s\)/],
    ['no scheme', 'shop.example.com', /not a valid URL|http\(s\)/],
    ['a Unicode host', 'https://bücher.example/', /ASCII|xn--/],
    ['empty', '', /not a valid URL/],
  ])('refuses %s', (_name, raw, reason) => {
    const result = canonicalStoreUrl(raw);
    expect(typeof result).toBe('object');
    expect((result as { error: string }).error).toMatch(reason);
  });
});
