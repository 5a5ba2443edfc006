import type { MagentoVersion } from '../../config/config.js';

/**
 * How one Magento release computes and checks OAuth signatures (contract file §0, §3.3, §4).
 * Every field is switchable on its own so a test can reproduce one quirk at a time.
 */
export interface SignatureProfile {
  /** Methods the token and REST endpoints accept (§3.4 row 4). */
  methods: string[];
  /** Parameter order in the base string: RFC byte order, or PHP strnatcmp (Laminas, §4.6-1). */
  sort: 'byte' | 'natural';
  /**
   * Base URL normalisation (§4.1): `raw` keeps scheme/host/port/path as sent; `rfc` lowercases
   * scheme and host and drops default ports; `laminas` also decodes `%2F`, `%40`, `%3A`... in
   * the path (2.4.4–2.4.6); `unreserved` decodes only unreserved escapes (2024 fix).
   */
  url: 'raw' | 'rfc' | 'laminas' | 'unreserved';
  /** Query decoding: `raw` = rawurldecode; `plus` = urldecode, so `+` is a space (§4.6-2). */
  queryDecode: 'raw' | 'plus';
  /** D-era backport that rawurlencodes every value once more before signing (§4.6-3). */
  doubleEncodeValues: boolean;
}

export const VERSION_PROFILES: Record<MagentoVersion, SignatureProfile> = {
  // Era A: Zend_Oauth; SHA1 and SHA256; natural sort; no path decoding.
  '2.4.3': {
    methods: ['HMAC-SHA1', 'HMAC-SHA256'],
    sort: 'natural',
    url: 'rfc',
    queryDecode: 'raw',
    doubleEncodeValues: false,
  },
  // Era B: Laminas; SHA256 only; path escapes such as %2F decoded before signing (#37913).
  '2.4.6': {
    methods: ['HMAC-SHA256'],
    sort: 'natural',
    url: 'laminas',
    queryDecode: 'plus',
    doubleEncodeValues: false,
  },
  // Newest: Magento's own Hmac keeps reserved escapes in the path. Which of eras C–E a 2.4.8 tag
  // ships is not pinned (contract §0), so it is the RFC 5849 byte-order default of §8.
  '2.4.8': {
    methods: ['HMAC-SHA256'],
    sort: 'byte',
    url: 'unreserved',
    queryDecode: 'raw',
    doubleEncodeValues: false,
  },
};

export function profileFor(
  version: MagentoVersion,
  overrides: Partial<SignatureProfile> = {},
): SignatureProfile {
  return { ...VERSION_PROFILES[version], ...overrides };
}
