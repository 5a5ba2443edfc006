import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { configOrExit } from './lifecycle.js';
import { openStoreStorage } from './open-storage.js';
import { pickIntegration } from './pick-integration.js';
import { setWebhookSettings, type WebhookSettingsInput } from '../sync/webhooks/webhook-settings.js';

interface Options {
  store?: string;
  commerce?: string;
  ioClientId?: string;
  ioKey?: string[];
  clear?: boolean;
}

/** `-` is stdin, anything else a file path: keys are pasted from an admin page, never typed. */
async function readKey(source: string): Promise<string> {
  if (source !== '-') return readFile(source, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function webhookKey(options: Options): Promise<void> {
  const input: WebhookSettingsInput = {};
  if (options.clear) {
    input.commercePublicKey = null;
    input.ioEvents = null;
  }
  if (options.commerce) input.commercePublicKey = await readKey(options.commerce);
  if (options.ioClientId || options.ioKey) {
    if (!options.ioClientId || !options.ioKey?.length)
      throw new Error('I/O Events needs both --io-client-id and at least one --io-key.');
    input.ioEvents = {
      clientId: options.ioClientId,
      publicKeys: await Promise.all(options.ioKey.map(readKey)),
    };
  }
  if (!options.clear && input.commercePublicKey === undefined && input.ioEvents === undefined)
    throw new Error('Nothing to set: give --commerce <file>, --io-client-id with --io-key, or --clear.');
  const config = configOrExit();
  const storage = await openStoreStorage(config);
  try {
    const record = pickIntegration(await storage.integrations.list(), options.store);
    const settings = await setWebhookSettings(storage.integrations, record.consumerKey, input);
    const base = (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, '');
    console.log(
      settings
        ? `Webhooks for ${record.storeOrigin}: ${[
            settings.commercePublicKey ? 'Commerce key set' : '',
            settings.ioEvents ? `I/O Events client ${settings.ioEvents.clientId}` : '',
          ]
            .filter(Boolean)
            .join(
              ', ',
            )}.\nWebhook URL to configure in the store: ${base}/magento/webhooks/${record.consumerKey}`
        : `Webhooks for ${record.storeOrigin} are off (no key configured).`,
    );
  } finally {
    await storage.close();
  }
}

/** `store webhook-key`: the public keys that verify a linked store's webhook deliveries. */
export function webhookKeyCommand(): Command {
  return new Command('webhook-key')
    .description("set the public keys that verify a linked store's webhooks (they are not secrets)")
    .option('--store <key-or-url>', 'consumer key or store URL (needed when several stores are linked)')
    .option('--commerce <file>', "the store's Commerce webhook public key, PEM (file, or - for stdin)")
    .option('--io-client-id <id>', 'I/O Events: our client id (recipient_client_id of the events)')
    .option(
      '--io-key <file>',
      'I/O Events: a public key PEM (repeat for the second)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--clear', 'remove the configured keys (deliveries are then refused)')
    .action(webhookKey);
}
