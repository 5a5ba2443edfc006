import { decryptSecret, encryptSecret } from '../crypto.js';
import type { IntegrationRecord } from '../types.js';

const SECRET_FIELDS = ['consumerSecret', 'verifier', 'accessToken', 'accessTokenSecret'] as const;

function mapSecrets(record: IntegrationRecord, fn: (value: string) => string): IntegrationRecord {
  const out = { ...record };
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (value !== undefined) out[field] = fn(value);
  }
  return out;
}

/** The record as stored: the same fields, secrets replaced by `encryptSecret` output. */
export const sealIntegration = (record: IntegrationRecord, key: Buffer): IntegrationRecord =>
  mapSecrets(record, (v) => encryptSecret(v, key));

export const openIntegration = (stored: IntegrationRecord, key: Buffer): IntegrationRecord =>
  mapSecrets(stored, (v) => decryptSecret(v, key));
