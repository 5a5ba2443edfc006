import http from 'node:http';
import type { Credentials } from './common.js';
import { loopbackAddress } from './common.js';

/** Magento's callback POST gives up after this long (contract §1.2). */
export const MAGENTO_CALLBACK_TIMEOUT_MS = 5000;

export interface LoadPlan {
  /** The canned store's admin URL: credentials are registered there before any callback. */
  storeAdminUrl: string;
  /** Connector base URLs; callback i goes to targets[i % targets.length]. */
  targets: string[];
  credentials: Credentials[];
  concurrency: number;
  /** Pause before starting each callback (a stream rather than a burst). */
  spacingMs?: number;
  /**
   * Callbacks per client address: the connector limits callbacks per client IP (120 a minute), so the
   * generator spreads its source addresses over 127.<sourceBlock>.x.y like many stores would.
   */
  perSourceAddress?: number;
  sourceBlock?: number;
  /** Client-side limit per callback (longer than Magento's 5 s, so late answers are measured too). */
  timeoutMs?: number;
}

export interface CallbackResult {
  index: number;
  key: string;
  target: string;
  /** Epoch ms when the request was started (end-to-end time is measured from here). */
  sentAt: number;
  ms: number;
  status: number;
  /** Answered 2xx within Magento's 5 s. */
  withinTimeout: boolean;
  error?: string;
}

export function postCallback(
  target: string,
  c: Credentials,
  localAddress: string,
  timeoutMs: number,
): Promise<{ status: number; error?: string }> {
  const body = new URLSearchParams({
    oauth_consumer_key: c.key,
    oauth_consumer_secret: c.secret,
    store_base_url: c.storeBaseUrl,
    oauth_verifier: c.verifier,
  }).toString();
  const url = new URL('/magento/callback', target);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Laminas\\Http\\Client',
        },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', (e) => resolve({ status: 0, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, error: e.code ?? e.message }));
    req.end(body);
  });
}

/** Registers the credentials with the canned store, then posts every callback; `stop()` ends early. */
export async function runLoad(
  plan: LoadPlan,
  onResult: (r: CallbackResult) => void,
  stopped: () => boolean = () => false,
  onReady: () => void = () => undefined,
): Promise<void> {
  for (let i = 0; i < plan.credentials.length; i += 2000) {
    const res = await fetch(`${plan.storeAdminUrl}/__register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        integrations: plan.credentials.slice(i, i + 2000).map((c) => ({
          key: c.key,
          secret: c.secret,
          verifier: c.verifier,
          storeBaseUrl: c.storeBaseUrl,
        })),
      }),
    });
    if (!res.ok) throw new Error(`could not register credentials: HTTP ${res.status}`);
  }
  onReady();
  const perSource = plan.perSourceAddress ?? 50;
  const timeoutMs = plan.timeoutMs ?? 15_000;
  let next = 0;
  const worker = async () => {
    while (!stopped()) {
      const index = next++;
      const c = plan.credentials[index];
      if (!c) return;
      if (plan.spacingMs) await new Promise((r) => setTimeout(r, plan.spacingMs));
      if (stopped()) return;
      const target = plan.targets[index % plan.targets.length] ?? '';
      const sentAt = Date.now();
      const t = performance.now();
      const answer = await postCallback(
        target,
        c,
        loopbackAddress(Math.floor(index / perSource), plan.sourceBlock ?? 250),
        timeoutMs,
      );
      const ms = performance.now() - t;
      onResult({
        index,
        key: c.key,
        target,
        sentAt,
        ms,
        status: answer.status,
        withinTimeout: answer.status >= 200 && answer.status < 300 && ms <= MAGENTO_CALLBACK_TIMEOUT_MS,
        ...(answer.error ? { error: answer.error } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, plan.concurrency) }, worker));
}
