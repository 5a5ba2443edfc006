import type { ActivationService } from '../activation/activation-service.js';
import type { IntegrationRecord, IntegrationStore } from '../storage/types.js';
import type { CheckResult } from './report.js';

export interface WatchOptions {
  activation: ActivationService;
  integrations: IntegrationStore;
  /** Origin of the store whose Activate/Reauthorize is awaited. */
  storeOrigin: string;
  /** How long to wait for the admin's click (the callback). */
  timeoutMs: number;
  /** After the tokens, how long to wait for the identity-link login and the success callback. */
  identityTimeoutMs: number;
  onWaiting?: (elapsedMs: number) => void;
}

const STEPS = [
  { step: 'request_token', id: 'activation.request-token', name: 'Request token issued' },
  { step: 'access_token', id: 'activation.access-token', name: 'Access token issued' },
  { step: 'identity_link', id: 'activation.identity-link', name: 'Identity-link login completed' },
  {
    step: 'success_callback',
    id: 'activation.success-callback',
    name: 'Popup sent back to success_call_back',
  },
] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for a store admin to click Activate or Reauthorize, then reports each handshake step
 * with its time after the store's callback POST, from the connector's own activation log.
 */
export async function watchActivation(
  options: WatchOptions,
): Promise<{ results: CheckResult[]; record?: IntegrationRecord }> {
  const started = Date.now();
  const since = new Date(started).toISOString();
  const fresh = (r: IntegrationRecord) =>
    r.storeOrigin === options.storeOrigin &&
    r.events.some(
      (e) => e.at >= since && ['callback_received', 'reauthorize', 'callback_repeated'].includes(e.step),
    );
  let key: string | undefined;
  while (!key && Date.now() - started < options.timeoutMs) {
    key = (await options.integrations.list()).find(fresh)?.consumerKey;
    if (!key) {
      options.onWaiting?.(Date.now() - started);
      await sleep(250);
    }
  }
  if (!key) {
    return {
      results: [
        {
          id: 'activation.callback',
          category: 'activation',
          name: 'Store POSTed the credentials to the endpoint URL',
          status: 'fail',
          durationMs: Date.now() - started,
          detail: `No callback from ${options.storeOrigin} within ${Math.round(options.timeoutMs / 1000)} s.`,
          cause:
            'Nobody clicked Activate, or the store cannot reach the endpoint URL (it gives up after 5 s, follows no redirects and verifies TLS).',
          fix: "Check the integration's Callback URL and that this machine is reachable from the store.",
        },
      ],
    };
  }
  let record = await options.activation.settled(key);
  const identityDeadline = Date.now() + options.identityTimeoutMs;
  const after = (r: IntegrationRecord | undefined) => r?.events.filter((e) => e.at >= since) ?? [];
  while (
    record?.status === 'active' &&
    !after(record).some((e) => e.step === 'success_callback') &&
    Date.now() < identityDeadline
  ) {
    await sleep(250);
    record = await options.integrations.get(key);
  }
  const events = after(record);
  const callback = events.find((e) =>
    ['callback_received', 'reauthorize', 'callback_repeated'].includes(e.step),
  );
  const t0 = Date.parse(callback?.at ?? since);
  const results: CheckResult[] = [
    {
      id: 'activation.callback',
      category: 'activation',
      name: 'Store POSTed the credentials to the endpoint URL',
      status: 'pass',
      durationMs: t0 - started,
      detail: `Callback for consumer key ${key} after ${Math.round((t0 - started) / 1000)} s of waiting.`,
    },
  ];
  for (const s of STEPS) {
    const event =
      [...events].reverse().find((e) => e.step === s.step && e.ok) ?? events.find((e) => e.step === s.step);
    const failed = events.find((e) => e.step === 'exchange_failed');
    results.push(
      event?.ok
        ? {
            id: s.id,
            category: 'activation',
            name: s.name,
            status: 'pass',
            durationMs: Date.parse(event.at) - t0,
            detail: `${Date.parse(event.at) - t0} ms after the callback.`,
          }
        : {
            id: s.id,
            category: 'activation',
            name: s.name,
            status:
              failed || event
                ? 'fail'
                : s.step.startsWith('identity') || s.step.startsWith('success')
                  ? 'warn'
                  : 'fail',
            durationMs: 0,
            detail: event?.detail ?? failed?.detail ?? 'Did not happen in time.',
            storeSaid: failed?.detail,
            cause:
              s.step === 'identity_link' || s.step === 'success_callback'
                ? 'The identity-link popup was not completed (not logged in, or the popup was closed).'
                : undefined,
          },
    );
  }
  return { results, record };
}
