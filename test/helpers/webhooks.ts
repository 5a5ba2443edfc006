import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestKeyPair {
  privateKey: KeyObject;
  publicPem: string;
}

export function rsaPair(bits = 2048): TestKeyPair {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey: pair.privateKey,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Signs as Commerce and I/O Events do (base64 RSA-SHA256 over the raw body), without the connector's code. */
export function signBody(body: string | Buffer, key: KeyObject): string {
  return sign('sha256', Buffer.from(body), key).toString('base64');
}

/** The event ids the connector logged as applied, in order (one entry per application). */
export function appliedEventIds(logs: string[]): string[] {
  return logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"webhook changes applied"'))
    .flatMap((line) => (JSON.parse(line) as { events: string[] }).events);
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Whether the connector logged that it read the store for this event and found it not applicable yet. */
export function readTooEarly(logs: string[], eventId: string): boolean {
  return logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"msg":"webhook change not applied yet'))
    .some((line) => (JSON.parse(line) as { event?: string }).event === eventId);
}

/** Posts a Commerce webhook body to the connector's receiver, signed with `key` as the store would. */
export function postCommerceWebhook(
  connectorUrl: string,
  storeKey: string,
  body: string,
  key: KeyObject,
): Promise<Response> {
  return fetch(`${connectorUrl}/magento/webhooks/${storeKey}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-adobe-commerce-webhook-signature': signBody(body, key),
    },
    body,
  });
}
