import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { manualIntegrationRecord } from '../../src/activation/register-store.js';
import type { Storage } from '../../src/storage/types.js';
import { manualIntegration } from './simulator.js';

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

/**
 * A store linked to the connector without the handshake: a manual integration in the simulator whose
 * four credentials are stored as an active integration (what a finished activation leaves).
 */
export async function linkSimulatorStore(storage: Storage, sim: RunningSimulator): Promise<string> {
  const { credentials } = await manualIntegration(sim.url, 'all');
  const record = manualIntegrationRecord(
    {
      storeBaseUrl: `${sim.url}/`,
      consumerKey: credentials.consumerKey,
      consumerSecret: credentials.consumerSecret,
      accessToken: credentials.token,
      accessTokenSecret: credentials.tokenSecret,
      signatureMethod: 'HMAC-SHA256',
    },
    new Date().toISOString(),
  );
  await storage.integrations.create(record);
  return credentials.consumerKey;
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
