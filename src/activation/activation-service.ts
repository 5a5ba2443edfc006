import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ActivationEvent, IntegrationRecord, IntegrationStore } from '../storage/types.js';

export interface CallbackFields {
  oauth_consumer_key: string;
  oauth_consumer_secret: string;
  oauth_verifier: string;
  store_base_url: string;
}

export type ExchangeStep = {
  step: 'request_token' | 'access_token';
  attempt: number;
  ok: boolean;
  detail?: string;
};

/** The token exchange (src/magento), injected so the flow can be driven against any store. */
export type ExchangeFn = (input: {
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  verifier: string;
  signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1';
  deadline: Date;
  onStep?: (event: ExchangeStep) => void;
}) => Promise<{ accessToken: string; accessTokenSecret: string }>;

export type CallbackOutcome = 'new' | 'repeat' | 'retry' | 'reauthorize' | 'reset';

export interface ActivationServiceOptions {
  integrations: IntegrationStore;
  exchange: ExchangeFn;
  signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1';
  logger: Logger;
  clock?: () => Date;
  /** Magento's oauth/consumer/expiration_period (contract §3.4). */
  consumerExpirySeconds?: number;
  /** Called once a store's access token is stored (the sync layer starts its first load). */
  onActivated?: (consumerKey: string) => void;
}

const EVENT_LIMIT = 200;

/**
 * The activation state machine: callback → exchanging → active | failed, plus Reauthorize,
 * Reset and "needs reauthorization". One exchange per consumer key runs at a time.
 */
export class ActivationService {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly changes = new EventEmitter();
  private readonly clock: () => Date;

  constructor(private readonly options: ActivationServiceOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.changes.setMaxListeners(0);
  }

  /** Records the store's callback POST and starts the exchange in the background. */
  async receiveCallback(
    fields: CallbackFields,
  ): Promise<{ record: IntegrationRecord; outcome: CallbackOutcome }> {
    const { integrations } = this.options;
    const now = this.clock().toISOString();
    const key = fields.oauth_consumer_key;
    const existing = await integrations.get(key);
    let outcome: CallbackOutcome;
    let record: IntegrationRecord;

    if (
      existing &&
      existing.verifier === fields.oauth_verifier &&
      existing.consumerSecret === fields.oauth_consumer_secret
    ) {
      // The same POST again (Activate clicked twice): Magento restarts its 300 s clock, so a
      // failed exchange may be tried again; a running or finished one is left alone.
      outcome = existing.status === 'failed' || existing.status === 'pending' ? 'retry' : 'repeat';
      record = await integrations.update(key, (r) =>
        withEvent(
          {
            ...r,
            callbackCount: r.callbackCount + 1,
            ...(outcome === 'retry'
              ? { receivedAt: now, status: 'pending' as const, statusReason: undefined }
              : {}),
            updatedAt: now,
          },
          {
            at: now,
            step: 'callback_repeated',
            ok: true,
            detail: outcome === 'retry' ? 'exchange restarted' : undefined,
          },
        ),
      );
    } else if (existing) {
      // Reauthorize: same key, new verifier; the store has already deleted the old token.
      outcome = 'reauthorize';
      record = await integrations.update(key, (r) =>
        withEvent(
          {
            ...r,
            storeBaseUrl: fields.store_base_url,
            storeOrigin: new URL(fields.store_base_url).origin,
            consumerSecret: fields.oauth_consumer_secret,
            verifier: fields.oauth_verifier,
            accessToken: undefined,
            accessTokenSecret: undefined,
            status: 'pending',
            statusReason: undefined,
            receivedAt: now,
            activatedAt: undefined,
            // A check of the old credentials says nothing about the new ones.
            lastCheck: undefined,
            callbackCount: r.callbackCount + 1,
            updatedAt: now,
            history: [
              ...r.history,
              {
                consumerKey: r.consumerKey,
                reason: 'reauthorize',
                receivedAt: r.receivedAt,
                activatedAt: r.activatedAt,
                replacedAt: now,
              },
            ],
          },
          { at: now, step: 'reauthorize', ok: true, detail: 'new verifier for a known consumer key' },
        ),
      );
    } else {
      const predecessors = (await integrations.listByStore(fields.store_base_url)).filter(
        (r) => r.status !== 'superseded',
      );
      outcome = predecessors.length > 0 ? 'reset' : 'new';
      record = {
        consumerKey: key,
        storeBaseUrl: fields.store_base_url,
        storeOrigin: new URL(fields.store_base_url).origin,
        status: 'pending',
        consumerSecret: fields.oauth_consumer_secret,
        verifier: fields.oauth_verifier,
        signatureMethod: this.options.signatureMethod,
        receivedAt: now,
        callbackCount: 1,
        createdAt: now,
        updatedAt: now,
        userId: predecessors[0]?.userId,
        linkedAt: predecessors[0]?.linkedAt,
        events: [{ at: now, step: 'callback_received', ok: true }],
        history: predecessors.flatMap((p) => [
          ...p.history,
          {
            consumerKey: p.consumerKey,
            reason: 'reset' as const,
            receivedAt: p.receivedAt,
            activatedAt: p.activatedAt,
            replacedAt: now,
          },
        ]),
      };
      if (outcome === 'reset')
        record = withEvent(record, {
          at: now,
          step: 'reset',
          ok: true,
          detail: 'the store re-created the integration with a new consumer key',
        });
      await integrations.put(record);
      for (const p of predecessors) {
        // The old credentials are dead on the store's side; keep the record, drop its secrets.
        await integrations.update(p.consumerKey, (r) =>
          withEvent(
            {
              ...r,
              status: 'superseded',
              supersededBy: key,
              accessToken: undefined,
              accessTokenSecret: undefined,
              updatedAt: now,
            },
            { at: now, step: 'reset', ok: true, detail: `replaced by consumer key ${key}` },
          ),
        );
      }
    }
    this.options.logger.info(
      { consumerKey: key, store: record.storeOrigin, outcome },
      'store callback received',
    );
    this.emit(key);
    if (outcome !== 'repeat') this.startExchange(key);
    return { record, outcome };
  }

  /** Resolves when no exchange is running for the key (tests and the identity page wait on it). */
  async settled(consumerKey: string): Promise<IntegrationRecord | undefined> {
    await this.inFlight.get(consumerKey);
    return this.options.integrations.get(consumerKey);
  }

  /** Waits until a record for the key exists (the identity page may open before the callback lands). */
  async waitForRecord(consumerKey: string, timeoutMs: number): Promise<IntegrationRecord | undefined> {
    const found = await this.options.integrations.get(consumerKey);
    if (found || timeoutMs <= 0) return found;
    return new Promise((resolve) => {
      const done = (record: IntegrationRecord | undefined) => {
        clearTimeout(timer);
        this.changes.off(consumerKey, onChange);
        resolve(record);
      };
      const onChange = () => void this.options.integrations.get(consumerKey).then((r) => r && done(r));
      const timer = setTimeout(() => void this.options.integrations.get(consumerKey).then(done), timeoutMs);
      this.changes.on(consumerKey, onChange);
    });
  }

  async linkUser(consumerKey: string, userId: string): Promise<IntegrationRecord> {
    const now = this.clock().toISOString();
    const record = await this.options.integrations.update(consumerKey, (r) =>
      withEvent(
        { ...r, userId, linkedAt: now, updatedAt: now },
        { at: now, step: 'identity_link', ok: true },
      ),
    );
    this.emit(consumerKey);
    return record;
  }

  async recordSuccessRedirect(consumerKey: string): Promise<void> {
    const now = this.clock().toISOString();
    await this.options.integrations.update(consumerKey, (r) =>
      withEvent({ ...r, updatedAt: now }, { at: now, step: 'success_callback', ok: true }),
    );
  }

  /** A once-working token was refused by the store (deleted integration, Reauthorize elsewhere...). */
  async markNeedsReauthorization(consumerKey: string, reason: string): Promise<void> {
    const now = this.clock().toISOString();
    await this.options.integrations.update(consumerKey, (r) =>
      r.status !== 'active'
        ? r
        : withEvent(
            { ...r, status: 'needs_reauth', statusReason: reason, updatedAt: now },
            { at: now, step: 'needs_reauth', ok: false, detail: reason },
          ),
    );
    this.emit(consumerKey);
  }

  onChange(consumerKey: string, listener: () => void): () => void {
    this.changes.on(consumerKey, listener);
    return () => this.changes.off(consumerKey, listener);
  }

  private emit(consumerKey: string): void {
    this.changes.emit(consumerKey);
  }

  private startExchange(consumerKey: string): void {
    const previous = this.inFlight.get(consumerKey) ?? Promise.resolve();
    const run = previous
      .then(() => this.exchange(consumerKey))
      // Storage failing under the exchange (e.g. at shutdown) must not crash the process.
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, consumerKey }, 'token exchange could not be recorded'),
      );
    this.inFlight.set(consumerKey, run);
    void run.finally(() => {
      if (this.inFlight.get(consumerKey) === run) this.inFlight.delete(consumerKey);
    });
  }

  private async exchange(consumerKey: string): Promise<void> {
    const { integrations, logger } = this.options;
    const record = await integrations.get(consumerKey);
    if (!record || record.status !== 'pending') return;
    await integrations.update(consumerKey, (r) => ({
      ...r,
      status: 'exchanging',
      updatedAt: this.clock().toISOString(),
    }));
    this.emit(consumerKey);
    const steps: ActivationEvent[] = [];
    try {
      const tokens = await this.options.exchange({
        storeBaseUrl: record.storeBaseUrl,
        consumerKey,
        consumerSecret: record.consumerSecret,
        verifier: record.verifier,
        signatureMethod: record.signatureMethod,
        deadline: new Date(
          Date.parse(record.receivedAt) + (this.options.consumerExpirySeconds ?? 300) * 1000,
        ),
        onStep: (e) =>
          steps.push({
            at: this.clock().toISOString(),
            step: e.step,
            ok: e.ok,
            detail: `attempt ${e.attempt}${e.detail ? `: ${e.detail}` : ''}`,
          }),
      });
      const now = this.clock().toISOString();
      await integrations.update(consumerKey, (r) =>
        // Superseded or reauthorized while the exchange ran: these tokens belong to a dead set.
        r.status !== 'exchanging' || r.verifier !== record.verifier
          ? withEvents(r, steps)
          : {
              ...withEvents(r, steps),
              status: 'active',
              statusReason: undefined,
              accessToken: tokens.accessToken,
              accessTokenSecret: tokens.accessTokenSecret,
              activatedAt: now,
              updatedAt: now,
            },
      );
      logger.info({ consumerKey, store: record.storeOrigin }, 'integration active');
      const stored = await integrations.get(consumerKey);
      if (stored?.status === 'active') this.options.onActivated?.(consumerKey);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const now = this.clock().toISOString();
      await integrations.update(consumerKey, (r) =>
        r.status !== 'exchanging' || r.verifier !== record.verifier
          ? withEvents(r, steps)
          : withEvent(
              { ...withEvents(r, steps), status: 'failed', statusReason: reason, updatedAt: now },
              { at: now, step: 'exchange_failed', ok: false, detail: reason },
            ),
      );
      logger.warn({ consumerKey, store: record.storeOrigin, reason }, 'token exchange failed');
    } finally {
      this.emit(consumerKey);
    }
  }
}

function withEvent(record: IntegrationRecord, event: ActivationEvent): IntegrationRecord {
  return withEvents(record, [event]);
}

function withEvents(record: IntegrationRecord, events: ActivationEvent[]): IntegrationRecord {
  return { ...record, events: [...record.events, ...events].slice(-EVENT_LIMIT) };
}
