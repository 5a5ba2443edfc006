/**
 * Writes malformed-requests.json: callback and identity-link requests that must each be refused
 * with a 4xx and a reason, changing nothing. Run once after editing: npx tsx test/security/generate-corpus.ts
 * The output is committed, so the test does not depend on this script's code at run time.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CorpusEntry {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** Sent byte for byte (UTF-8). */
  body?: string;
}

const FORM = 'application/x-www-form-urlencoded';
const KEY = 'a'.repeat(32);
const SECRET = 'b'.repeat(32);
const VERIFIER = 'c'.repeat(32);
const STORE = 'https://shop.example.com/';
const CREDENTIALS = ['oauth_consumer_key', 'oauth_consumer_secret', 'oauth_verifier'] as const;
const FIELDS = [...CREDENTIALS, 'store_base_url'] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], string>>;
const VALID: Required<Fields> = {
  oauth_consumer_key: KEY,
  oauth_consumer_secret: SECRET,
  oauth_verifier: VERIFIER,
  store_base_url: STORE,
};

const entries: CorpusEntry[] = [];
const encode = (pairs: [string, string][]) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

function callback(name: string, fields: Fields | [string, string][], contentType: string | null = FORM) {
  const pairs = Array.isArray(fields)
    ? fields
    : (Object.entries(fields).filter(([, v]) => v !== undefined) as [string, string][]);
  rawCallback(name, encode(pairs), contentType);
}

function rawCallback(name: string, body: string, contentType: string | null = FORM) {
  entries.push({
    name: `callback: ${name}`,
    method: 'POST',
    path: '/magento/callback',
    headers: contentType === null ? {} : { 'content-type': contentType },
    body,
  });
}

// Missing fields: every non-empty subset left out.
for (let mask = 1; mask < 1 << FIELDS.length; mask++) {
  const kept: Fields = {};
  const missing: string[] = [];
  FIELDS.forEach((field, i) => {
    if (mask & (1 << i)) missing.push(field);
    else kept[field] = VALID[field];
  });
  callback(`missing ${missing.join(' + ')}`, kept);
}

// Empty values.
for (const field of FIELDS) callback(`empty ${field}`, { ...VALID, [field]: '' });
callback('every field empty', {
  oauth_consumer_key: '',
  oauth_consumer_secret: '',
  oauth_verifier: '',
  store_base_url: '',
});
rawCallback('empty body', '');
rawCallback('no body and no content type', '', null);

// Oversized.
for (const field of FIELDS)
  callback(`${field} of 10 000 characters (body over 8 KB)`, { ...VALID, [field]: 'x'.repeat(10_000) });
for (const n of [2049, 4000, 7000])
  callback(`store_base_url of ${n} characters`, {
    ...VALID,
    store_base_url: `https://shop.example.com/${'p'.repeat(n - 25)}`,
  });
for (const field of CREDENTIALS) {
  for (const n of [0, 1, 31, 33, 64, 512]) {
    if (n === 0) continue;
    callback(`${field} of ${n} characters`, { ...VALID, [field]: 'd'.repeat(n) });
  }
}
callback('25 extra fields (over the parameter limit)', [
  ...(Object.entries(VALID) as [string, string][]),
  ...Array.from({ length: 25 }, (_, i) => [`extra${i}`, 'x'] as [string, string]),
]);

// Duplicated fields.
for (const field of FIELDS) {
  const pairs = Object.entries(VALID) as [string, string][];
  callback(`${field} twice, same value`, [...pairs, [field, VALID[field]]]);
  callback(`${field} twice, different values`, [
    ...pairs,
    [field, field === 'store_base_url' ? 'https://evil.example/' : 'e'.repeat(32)],
  ]);
}

// Wrong content types.
const validBody = encode(Object.entries(VALID) as [string, string][]);
for (const type of [
  'application/json',
  'text/plain',
  'text/html',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/x-www-form-urlencoded-fake',
  'image/png',
]) {
  rawCallback(`content type ${type}`, validBody, type);
}
rawCallback('no content type', validBody, null);
rawCallback('a JSON body', JSON.stringify(VALID), 'application/json');
rawCallback('form type with a UTF-16 charset', validBody, `${FORM}; charset=utf-16`);
rawCallback('form type with an unknown charset', validBody, `${FORM}; charset=x-unknown`);

// Malformed form encoding.
for (const [name, body] of [
  ['only ampersands', '&&&&'],
  ['only an equals sign', '='],
  ['names without values', 'oauth_consumer_key&oauth_consumer_secret&oauth_verifier&store_base_url'],
  [
    'a broken percent escape in the key',
    `oauth_consumer_key=%ZZ${'a'.repeat(30)}&oauth_consumer_secret=${SECRET}&oauth_verifier=${VERIFIER}&store_base_url=${encodeURIComponent(STORE)}`,
  ],
  [
    'a truncated percent escape in the URL',
    `oauth_consumer_key=${KEY}&oauth_consumer_secret=${SECRET}&oauth_verifier=${VERIFIER}&store_base_url=https%3A%2F%2Fshop%2`,
  ],
  [
    'bracket names (extended syntax)',
    `oauth_consumer_key[]=${KEY}&oauth_consumer_secret=${SECRET}&oauth_verifier=${VERIFIER}&store_base_url=${encodeURIComponent(STORE)}`,
  ],
  [
    'nested bracket names',
    `oauth_consumer_key[a][b]=${KEY}&oauth_consumer_secret=${SECRET}&oauth_verifier=${VERIFIER}&store_base_url=x`,
  ],
  ['__proto__ field', `__proto__=x&oauth_consumer_key=${KEY}`],
  ['plain text', 'hello world'],
  ['binary bytes', '\u0000\u0001\u0002\u00ff'],
] as const) {
  rawCallback(name, body);
}

// Unicode, NUL and look-alike characters in the credentials.
const tricks: [string, (v: string) => string][] = [
  ['a NUL at the end', (v) => `${v.slice(0, 31)}\u0000`],
  ['a NUL in the middle', (v) => `${v.slice(0, 16)}\u0000${v.slice(17)}`],
  ['upper case', (v) => v.toUpperCase()],
  ['a Cyrillic look-alike letter', (v) => `\u0430${v.slice(1)}`],
  ['fullwidth letters', (v) => '\uff41'.repeat(32).slice(0, v.length)],
  ['Arabic-Indic digits', () => '\u0661'.repeat(32)],
  ['a zero-width space', (v) => `${v.slice(0, 31)}\u200b`],
  ['a right-to-left override', (v) => `\u202e${v.slice(1)}`],
  ['an emoji', (v) => `${v.slice(0, 30)}🔑`],
  ['a leading space', (v) => ` ${v.slice(1)}`],
  ['a trailing newline', (v) => `${v.slice(0, 31)}\n`],
  ['a hyphen', (v) => `${v.slice(0, 31)}-`],
  ['base64 characters', () => `${'A'.repeat(30)}+/`],
  ['a combining accent', (v) => `${v.slice(0, 31)}\u0301`],
];
for (const field of CREDENTIALS) {
  for (const [name, change] of tricks)
    callback(`${field} with ${name}`, { ...VALID, [field]: change(VALID[field]) });
}

// Store URL forms that must never be called.
const urls: [string, string][] = [
  ['a query', 'https://shop.example.com/?a=1'],
  ['an empty query', 'https://shop.example.com/?'],
  ['a query before the path ends', 'https://shop.example.com/magento?x=/'],
  ['a fragment', 'https://shop.example.com/#top'],
  ['an empty fragment', 'https://shop.example.com/#'],
  ['userinfo', 'https://user:pass@shop.example.com/'],
  ['a user only', 'https://admin@shop.example.com/'],
  ['an empty userinfo', 'https://@shop.example.com/'],
  ['userinfo hiding the host', 'https://shop.example.com@evil.example/'],
  ['a NUL', 'https://shop.example.com/\u0000'],
  ['a NUL in the host', 'https://shop.exam\u0000ple.com/'],
  ['a tab in the host', 'https://shop.exa\tmple.com/'],
  ['a CR LF', 'https://shop.example.com/\r\nX-Injected: 1'],
  ['a DEL', 'https://shop.example.com/\u007f'],
  ['a C1 control', 'https://shop.example.com/\u0085'],
  ['a space', 'https://shop.example.com/a b'],
  ['a leading space', ' https://shop.example.com/'],
  ['a backslash', 'https://shop.example.com\\@evil.example/'],
  ['ftp', 'ftp://shop.example.com/'],
  ['file', 'file:///etc/passwd'],
  ['javascript', 'javascript:alert(1)'],
  ['data', 'data:text/html,<script>alert(1)</script>'],
  ['gopher', 'gopher://127.0.0.1:6379/_INFO'],
  ['ws', 'ws://shop.example.com/'],
  ['wss', 'wss://shop.example.com/'],
  ['mailto', 'mailto:admin@shop.example.com'],
  ['dict', 'dict://127.0.0.1:11211/stats'],
  ['ldap', 'ldap://127.0.0.1/'],
  ['no scheme', 'shop.example.com'],
  ['scheme-relative', '//shop.example.com/'],
  ['a relative path', '/magento/'],
  ['no host', 'https:///'],
  ['a port out of range', 'https://shop.example.com:99999/'],
  ['IDN (Unicode) host', 'https://bücher.example/'],
  ['IDN look-alike host', 'https://shop.exаmple.com/'],
  ['IDN fullwidth host', 'https://ｓｈｏｐ.example.com/'],
  ['IDN emoji host', 'https://🛒.example/'],
  ['Unicode path', 'https://shop.example.com/magasin-été/'],
  ['plain http in production', 'http://8.8.8.8/'],
  ['localhost', 'https://localhost/'],
  ['a .localhost name', 'https://shop.localhost/'],
  ['IPv4 loopback', 'https://127.0.0.1/'],
  ['IPv4 loopback with a port', 'https://127.0.0.1:3100/'],
  ['IPv4 loopback, decimal', 'https://2130706433/'],
  ['IPv4 loopback, hex', 'https://0x7f.1/'],
  ['IPv4 loopback, octal', 'https://0177.0.0.1/'],
  ['IPv4 loopback, short', 'https://127.1/'],
  ['IPv4 loopback, percent-encoded', 'https://%31%32%37.0.0.1/'],
  ['IPv4 private 10/8', 'https://10.0.0.1/'],
  ['IPv4 private 172.16/12', 'https://172.16.0.1/'],
  ['IPv4 private 192.168/16', 'https://192.168.1.1/'],
  ['IPv4 metadata (link-local)', 'https://169.254.169.254/'],
  ['IPv4 carrier-grade NAT', 'https://100.64.0.1/'],
  ['IPv4 unspecified', 'https://0.0.0.0/'],
  ['IPv4 broadcast', 'https://255.255.255.255/'],
  ['IPv4 multicast', 'https://224.0.0.1/'],
  ['IPv4 documentation range', 'https://192.0.2.1/'],
  ['IPv6 loopback', 'https://[::1]/'],
  ['IPv6 unspecified', 'https://[::]/'],
  ['IPv6 link-local', 'https://[fe80::1]/'],
  ['IPv6 unique-local', 'https://[fd00::1]/'],
  ['IPv6 multicast', 'https://[ff02::1]/'],
  ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/'],
  ['IPv4-mapped metadata', 'https://[::ffff:169.254.169.254]/'],
  ['IPv4-mapped private, hex', 'https://[::ffff:a00:1]/'],
  ['IPv4-translated loopback', 'https://[::ffff:0:127.0.0.1]/'],
  ['IPv4-compatible loopback', 'https://[::127.0.0.1]/'],
  ['IPv4-compatible private', 'https://[::10.0.0.1]/'],
  ['NAT64 loopback', 'https://[64:ff9b::7f00:1]/'],
  ['NAT64 metadata', 'https://[64:ff9b::169.254.169.254]/'],
  ['NAT64 local-use prefix', 'https://[64:ff9b:1::a00:1]/'],
  ['6to4 loopback', 'https://[2002:7f00:1::]/'],
  ['6to4 private', 'https://[2002:c0a8:101::1]/'],
  ['Teredo with a loopback client', 'https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/'],
  ['Teredo with a private server', 'https://[2001:0:a00:1:8000:63bf:3fff:fdd2]/'],
  ['IPv6 discard prefix', 'https://[100::1]/'],
  ['IPv6 with a zone id', 'https://[fe80::1%25eth0]/'],
  ['an unterminated IPv6 literal', 'https://[::1/'],
];
for (const [name, url] of urls) callback(`store_base_url with ${name}`, { ...VALID, store_base_url: url });

// Identity link: GET /magento/identity?oauth_consumer_key=…&success_call_back=…
const BACK = 'https://shop.example.com/admin/admin/integration/loginSuccessCallback/';
function identity(name: string, query: string, method: 'GET' | 'POST' = 'GET', body?: string) {
  entries.push({
    name: `identity: ${name}`,
    method,
    path: `/magento/identity${query}`,
    headers: method === 'POST' ? { 'content-type': FORM } : {},
    ...(body !== undefined ? { body } : {}),
  });
}
const q = (pairs: [string, string][]) => `?${encode(pairs)}`;
identity('no query', '');
identity('an empty query', '?');
identity('no oauth_consumer_key', q([['success_call_back', BACK]]));
identity('no success_call_back', q([['oauth_consumer_key', KEY]]));
identity(
  'both empty',
  q([
    ['oauth_consumer_key', ''],
    ['success_call_back', ''],
  ]),
);
for (const [name, change] of tricks)
  identity(
    `oauth_consumer_key with ${name}`,
    q([
      ['oauth_consumer_key', change(KEY)],
      ['success_call_back', BACK],
    ]),
  );
for (const n of [1, 31, 33, 3000])
  identity(
    `oauth_consumer_key of ${n} characters`,
    q([
      ['oauth_consumer_key', 'a'.repeat(n)],
      ['success_call_back', BACK],
    ]),
  );
for (const [name, url] of urls.slice(0, 40))
  identity(
    `success_call_back with ${name}`,
    q([
      ['oauth_consumer_key', KEY],
      ['success_call_back', url],
    ]),
  );
identity(
  'success_call_back of 3000 characters',
  q([
    ['oauth_consumer_key', KEY],
    ['success_call_back', `${BACK}${'x'.repeat(3000)}`],
  ]),
);
identity(
  'a key no store sent (unknown)',
  q([
    ['oauth_consumer_key', 'f'.repeat(32)],
    ['success_call_back', BACK],
  ]),
);
identity(
  'an unknown key and a success_call_back elsewhere',
  q([
    ['oauth_consumer_key', 'f'.repeat(32)],
    ['success_call_back', 'https://evil.example/steal'],
  ]),
);
identity(
  'oauth_consumer_key twice',
  `${q([
    ['oauth_consumer_key', KEY],
    ['success_call_back', BACK],
  ])}&oauth_consumer_key=${'e'.repeat(32)}`,
);
identity('a broken percent escape', `?oauth_consumer_key=%ZZ&success_call_back=${encodeURIComponent(BACK)}`);
identity('bracket names', `?oauth_consumer_key[]=${KEY}&success_call_back=${encodeURIComponent(BACK)}`);
// The login form, posted without its CSRF token and session.
identity(
  'login POST without a CSRF token',
  '',
  'POST',
  encode([
    ['oauth_consumer_key', KEY],
    ['success_call_back', BACK],
    ['email', 'demo@example.com'],
    ['password', 'x'.repeat(12)],
  ]),
);
identity(
  'login POST with a forged CSRF token',
  '',
  'POST',
  encode([
    ['_csrf', 'forged'],
    ['oauth_consumer_key', KEY],
    ['success_call_back', BACK],
    ['email', 'demo@example.com'],
    ['password', 'x'.repeat(12)],
  ]),
);
identity('login POST with an empty body', '', 'POST', '');
identity(
  'login POST with a NUL email',
  '',
  'POST',
  encode([
    ['oauth_consumer_key', KEY],
    ['success_call_back', BACK],
    ['email', 'demo\u0000@example.com'],
    ['password', 'x'],
  ]),
);
identity('progress without a query', '/progress');
identity(
  'progress with a malformed key',
  `/progress${q([
    ['oauth_consumer_key', 'NOT-A-KEY'],
    ['success_call_back', BACK],
  ])}`,
);
identity(
  'progress with a javascript: success_call_back',
  `/progress${q([
    ['oauth_consumer_key', KEY],
    ['success_call_back', 'javascript:alert(1)'],
  ])}`,
);
identity(
  'progress for an unknown key',
  `/progress${q([
    ['oauth_consumer_key', 'f'.repeat(32)],
    ['success_call_back', BACK],
  ])}`,
);

const names = new Set<string>();
for (const entry of entries) {
  if (names.has(entry.name)) throw new Error(`duplicate corpus name: ${entry.name}`);
  names.add(entry.name);
}
const file = path.join(import.meta.dirname, 'malformed-requests.json');
writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`);
console.log(`${entries.length} requests written to ${file}`);
