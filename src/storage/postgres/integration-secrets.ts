import { decryptSecret, encryptSecret, secretContext } from '../crypto.js';
import { INTEGRATION_SECRET_FIELDS as SECRET_FIELDS, type IntegrationRecord } from '../types.js';

function mapSecrets(
  record: IntegrationRecord,
  fn: (value: string, context: string) => string,
): IntegrationRecord {
  const out = { ...record };
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (value !== undefined) out[field] = fn(value, secretContext(record.consumerKey, field));
  }
  return out;
}

/** The record as stored: the same fields, secrets replaced by `encryptSecret` output. */
export const sealIntegration = (record: IntegrationRecord, key: Buffer): IntegrationRecord =>
  mapSecrets(record, (v, context) => encryptSecret(v, key, context));

export const openIntegration = (stored: IntegrationRecord, key: Buffer): IntegrationRecord =>
  mapSecrets(stored, (v, context) => decryptSecret(v, key, context));
