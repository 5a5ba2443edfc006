import { z } from 'zod';
import { MAGENTO_VERSIONS, type MagentoVersion } from '../config/config.js';
import { profileFor, type SignatureProfile } from './oauth/profile.js';

const profileOverrides = z
  .object({
    methods: z.array(z.enum(['HMAC-SHA1', 'HMAC-SHA256'])).min(1),
    sort: z.enum(['byte', 'natural']),
    url: z.enum(['raw', 'rfc', 'laminas', 'unreserved']),
    queryDecode: z.enum(['raw', 'plus']),
    doubleEncodeValues: z.boolean(),
  })
  .partial()
  .strict();

const update = z
  .object({
    magento_version: z.enum(MAGENTO_VERSIONS),
    signature: profileOverrides,
    bearer: z.boolean(),
    consumer_expiry_seconds: z.number().int().positive().max(86_400),
    /** Misbehaviour for contract tests: a store that skips checks or redirects its REST API. */
    misbehave: z
      .object({
        skip_signature: z.boolean(),
        skip_nonce: z.boolean(),
        skip_timestamp: z.boolean(),
        rest_redirect_to: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export interface SettingsInit {
  magentoVersion: MagentoVersion;
  signature?: Partial<SignatureProfile>;
  bearer: boolean;
  consumerExpirySeconds: number;
}

/** Behaviour switches that can change while the simulator runs (admin API `PUT /admin/api/settings`). */
export class SimulatorSettings {
  magentoVersion: MagentoVersion;
  overrides: Partial<SignatureProfile>;
  profile: SignatureProfile;
  bearer: boolean;
  consumerExpirySeconds: number;
  misbehave = { skipSignature: false, skipNonce: false, skipTimestamp: false };
  /** When set, every REST call answers 301 to this URL prefix (a base-URL mistake in the store). */
  restRedirectTo = '';

  constructor(init: SettingsInit) {
    this.magentoVersion = init.magentoVersion;
    this.overrides = profileOverrides.parse(init.signature ?? {});
    this.profile = profileFor(this.magentoVersion, this.overrides);
    this.bearer = init.bearer;
    this.consumerExpirySeconds = init.consumerExpirySeconds;
  }

  /** A new version resets signature overrides unless new ones come with it. */
  update(raw: unknown) {
    const body = update.parse(raw);
    if (body.magento_version) {
      this.magentoVersion = body.magento_version;
      this.overrides = {};
    }
    if (body.signature) this.overrides = { ...this.overrides, ...body.signature };
    this.profile = profileFor(this.magentoVersion, this.overrides);
    if (body.bearer !== undefined) this.bearer = body.bearer;
    if (body.consumer_expiry_seconds !== undefined) this.consumerExpirySeconds = body.consumer_expiry_seconds;
    if (body.misbehave) {
      const m = body.misbehave;
      this.misbehave = {
        skipSignature: m.skip_signature ?? this.misbehave.skipSignature,
        skipNonce: m.skip_nonce ?? this.misbehave.skipNonce,
        skipTimestamp: m.skip_timestamp ?? this.misbehave.skipTimestamp,
      };
      if (m.rest_redirect_to !== undefined) this.restRedirectTo = m.rest_redirect_to;
    }
    return this.view();
  }

  view() {
    return {
      magento_version: this.magentoVersion,
      signature: this.profile,
      bearer: this.bearer,
      consumer_expiry_seconds: this.consumerExpirySeconds,
      misbehave: {
        skip_signature: this.misbehave.skipSignature,
        skip_nonce: this.misbehave.skipNonce,
        skip_timestamp: this.misbehave.skipTimestamp,
        rest_redirect_to: this.restRedirectTo,
      },
    };
  }
}
