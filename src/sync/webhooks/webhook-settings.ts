import { AppError } from '../../errors.js';
import type { IntegrationStore, WebhookSettings } from '../../storage/types.js';
import { parsePublicKey } from './signature.js';

export interface WebhookSettingsInput {
  /** PEM; null removes it. */
  commercePublicKey?: string | null;
  /** null removes the registration. */
  ioEvents?: { clientId: string; publicKeys: string[] } | null;
}

export class WebhookSettingsError extends AppError {
  override name = 'WebhookSettingsError';
  declare readonly code: 'webhook_settings_invalid';
  constructor(message: string, options?: ErrorOptions) {
    super('webhook_settings_invalid', message, options);
  }
}

const CLIENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Checks every key and stores them with the store's integration record; returns the new settings. */
export async function setWebhookSettings(
  integrations: IntegrationStore,
  consumerKey: string,
  input: WebhookSettingsInput,
  now = new Date(),
): Promise<WebhookSettings | undefined> {
  const pem = (text: string, what: string) => {
    const parsed = parsePublicKey(text);
    if ('error' in parsed) throw new WebhookSettingsError(`${what}: ${parsed.error}`);
    return text.trim();
  };
  const commerce = input.commercePublicKey && pem(input.commercePublicKey, 'Commerce webhook key');
  let io: WebhookSettings['ioEvents'];
  if (input.ioEvents) {
    if (!CLIENT_ID.test(input.ioEvents.clientId))
      throw new WebhookSettingsError(
        'The I/O Events client id must be 1-128 letters, digits, dots, dashes or underscores.',
      );
    if (input.ioEvents.publicKeys.length < 1 || input.ioEvents.publicKeys.length > 2)
      throw new WebhookSettingsError(
        'Give one or two I/O Events public keys (the two signatures each have one).',
      );
    io = {
      clientId: input.ioEvents.clientId,
      publicKeys: input.ioEvents.publicKeys.map((k, i) => pem(k, `I/O Events key ${i + 1}`)),
    };
  }
  const record = await integrations.update(consumerKey, (current) => {
    const next: WebhookSettings = { ...current.webhooks, updatedAt: now.toISOString() };
    if (input.commercePublicKey === null) delete next.commercePublicKey;
    else if (commerce) next.commercePublicKey = commerce;
    if (input.ioEvents === null) delete next.ioEvents;
    else if (io) next.ioEvents = io;
    const out = { ...current, updatedAt: now.toISOString() };
    if (next.commercePublicKey || next.ioEvents) out.webhooks = next;
    else delete out.webhooks;
    return out;
  });
  return record.webhooks;
}
