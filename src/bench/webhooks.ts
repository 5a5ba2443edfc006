import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { manualIntegrationRecord } from '../activation/register-store.js';
import { setWebhookSettings } from '../sync/webhooks/webhook-settings.js';
import type { WebhookDelivery } from '../simulator/webhooks/webhook-sender.js';
import { spawnTsx, waitForOutput } from './child-process.js';
import { newEncryptionKey, percentile, sleep, waitUntil } from './common.js';
import { spawnConnector } from './connector-process.js';
import { withStorage } from './open-storage.js';
import { startBenchPostgres } from './postgres.js';

export interface WebhookBenchOptions {
  adapter: 'embedded' | 'postgres';
  /** Changes per second the store makes (each sends one webhook). */
  rate: number;
  seconds: number;
  /** Share of deliveries the store sends twice. */
  duplicates: number;
  progress: (line: string) => void;
}

async function admin<T>(base: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/admin/api${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Store → connector event latency: the simulator and the connector each in their own process, the
 * simulator changing products, customers and orders at `rate` per second (each change one signed
 * webhook, some sent twice), polling off. Latency is from the change in the store to the connector's
 * log line saying the row was written (both stamp the same machine clock).
 */
export async function webhookFigures(options: WebhookBenchOptions) {
  const { progress } = options;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-webhooks-'));
  const pgServer = options.adapter === 'postgres' ? await startBenchPostgres() : undefined;
  const databaseUrl = pgServer ? await pgServer.createDatabase('webhook_bench') : undefined;
  const encryptionKey = newEncryptionKey();
  const sim = spawnTsx(
    'src/cli/simulator.ts',
    ['--port', '0', '--products', '5000', '--customers', '1000', '--orders', '1000'],
    { LOG_LEVEL: 'warn', NODE_ENV: 'development' },
  );
  let connector: Awaited<ReturnType<typeof spawnConnector>> | undefined;
  try {
    const simUrl =
      (await waitForOutput(sim, /Admin:\s+(http:\/\/\S+)\/admin\/integrations/, 60_000))[1] ?? '';
    connector = await spawnConnector({
      dataDir,
      encryptionKey,
      ...(databaseUrl ? { databaseUrl } : {}),
      env: { SYNC_INTERVALS: 'products=0,customers=0,orders=0', LOG_LEVEL: 'info' },
    });
    const applied = new Map<string, number[]>();
    connector.process.onStdoutLine((line) => {
      if (!line.includes('"webhook changes applied"')) return;
      if (process.env.BENCH_WEBHOOK_TRACE) console.error(line);
      const entry = JSON.parse(line) as { time: number; events: string[] };
      for (const id of entry.events) applied.set(id, [...(applied.get(id) ?? []), entry.time]);
    });

    // Link the store as a finished activation leaves it, from beside the running connector.
    const created = await admin<{ id: number }>(simUrl, 'POST', '/integrations', {
      name: 'webhook bench',
      all_resources: true,
    });
    const { credentials: c } = await admin<{
      credentials: Record<
        'consumer_key' | 'consumer_secret' | 'access_token' | 'access_token_secret',
        string
      >;
    }>(simUrl, 'POST', `/integrations/${created.id}/activate`, {});
    const { public_key } = await admin<{ public_key: string }>(simUrl, 'GET', '/webhooks');
    await withStorage({ dataDir, encryptionKey, databaseUrl }, async (storage) => {
      const record = manualIntegrationRecord(
        {
          storeBaseUrl: `${simUrl}/`,
          consumerKey: c.consumer_key,
          consumerSecret: c.consumer_secret,
          accessToken: c.access_token,
          accessTokenSecret: c.access_token_secret,
          signatureMethod: 'HMAC-SHA256',
        },
        new Date().toISOString(),
      );
      await storage.integrations.create(record);
      await setWebhookSettings(storage.integrations, c.consumer_key, { commercePublicKey: public_key });
    });
    await admin(simUrl, 'POST', '/webhooks/subscriptions', {
      url: `${connector.url}/magento/webhooks/${c.consumer_key}`,
    });
    await admin(simUrl, 'PUT', '/webhooks/faults', { duplicate: options.duplicates });

    // Warm-up (first signed call, first files): not counted.
    await admin(simUrl, 'POST', '/catalog/touch', { count: 3 });
    await admin(simUrl, 'POST', '/webhooks/idle', {});
    await waitUntil(() => applied.size >= 3, 10_000, 20);
    const since = Math.max(
      0,
      ...(await admin<WebhookDelivery[]>(simUrl, 'GET', '/webhooks/deliveries')).map((d) => d.id),
    );

    progress(`[webhooks] ${options.adapter}: ${options.rate} changes/s for ${options.seconds} s`);
    // Every 100 ms a tenth of a second's changes: 60% products, 20% customers, 20% orders.
    const perTick = options.rate / 10;
    const split: [string, number][] = [
      ['products', Math.round(perTick * 0.6)],
      ['customers', Math.round(perTick * 0.2)],
      ['orders', perTick - Math.round(perTick * 0.6) - Math.round(perTick * 0.2)],
    ];
    const started = Date.now();
    for (let tick = 0; tick < options.seconds * 10; tick++) {
      await Promise.all(
        split
          .filter(([, count]) => count > 0)
          .map(([entity, count]) => admin(simUrl, 'POST', '/catalog/touch', { entity, count })),
      );
      const next = started + (tick + 1) * 100;
      await sleep(Math.max(0, next - Date.now()));
    }
    const drivenSeconds = (Date.now() - started) / 1000;
    await admin(simUrl, 'POST', '/webhooks/idle', {});
    const deliveries = await admin<WebhookDelivery[]>(
      simUrl,
      'GET',
      `/webhooks/deliveries?since_id=${since}`,
    );
    const events = new Map<string, WebhookDelivery>();
    for (const d of deliveries) if (d.fault !== 'duplicate') events.set(d.eventId, d);
    await waitUntil(() => [...events.keys()].every((id) => applied.has(id)), 15_000, 50);
    await sleep(500);
    const latencies = [...events.values()]
      .map((d) => (applied.get(d.eventId)?.[0] ?? NaN) - d.changedAt)
      .filter((ms) => Number.isFinite(ms))
      .sort((a, b) => a - b);
    const duplicates = deliveries.filter((d) => d.fault === 'duplicate');
    return {
      adapter: options.adapter,
      target_changes_per_second: options.rate,
      achieved_changes_per_second: Math.round((events.size / drivenSeconds) * 10) / 10,
      events: events.size,
      deliveries: deliveries.length,
      deliveries_not_2xx: deliveries.filter((d) => !(d.status && d.status >= 200 && d.status < 300)).length,
      applied: latencies.length,
      not_applied: events.size - latencies.length,
      event_to_applied_ms: {
        p50: percentile(latencies, 0.5),
        p90: percentile(latencies, 0.9),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1) ?? NaN,
      },
      duplicate_deliveries: duplicates.length,
      duplicates_answered_2xx: duplicates.filter((d) => d.status && d.status < 300).length,
      events_applied_more_than_once: [...applied.entries()].filter(
        ([id, times]) => events.has(id) && times.length > 1,
      ).length,
      // Where the time goes: waiting in the store before the POST, then the connector's answer.
      store_queue_ms_p50: percentile(
        [...events.values()]
          .map((d) => (d.sentAt ?? NaN) - d.changedAt)
          .filter(Number.isFinite)
          .sort((a, b) => a - b),
        0.5,
      ),
      store_answer_ms_p50: percentile(
        deliveries
          .map((d) => d.durationMs ?? NaN)
          .filter(Number.isFinite)
          .sort((a, b) => a - b),
        0.5,
      ),
      store_answer_ms_p99: percentile(
        deliveries
          .map((d) => d.durationMs ?? NaN)
          .filter(Number.isFinite)
          .sort((a, b) => a - b),
        0.99,
      ),
    };
  } finally {
    await connector?.stop();
    sim.kill('SIGTERM');
    await sim.exited;
    await pgServer?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
