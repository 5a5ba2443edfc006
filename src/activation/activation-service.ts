import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DuplicateError,
  type ActivationEvent,
  type ChangeNotices,
  type CredentialHistoryEntry,
  type IntegrationRecord,
  type IntegrationStore,
} from '../storage/types.js';
import { AppError } from '../errors.js';
import { SerialQueue } from '../storage/serial-queue.js';

/** A registration refused because the store already has a working integration it would supersede. */
export class LiveIntegrationExistsError extends AppError {
  override name = 'LiveIntegrationExistsError';
  declare readonly code: 'live_integration_exists';
  constructor(
    storeBaseUrl: string,
    readonly live: Pick<IntegrationRecord, 'consumerKey' | 'status'>,
  ) {
    super(
      'live_integration_exists',
      `Store ${storeBaseUrl} already has a live integration, ${live.consumerKey} (${live.status}); registering ` +
        'another would supersede it and erase its tokens.',
    );
  }
}

export interface CallbackFields {
  oauth_consumer_key: string;
  oauth_consumer_secret: string;
  oauth_verifier: string;
  /** In canonical form (see canonicalStoreUrl): origin checks compare strings. */
  store_base_url: string;
}

export type ExchangeStep = {
  step: 'request_token' | 'access_token';
  attempt: number;
  ok: boolean;
  detail?: string;
};

export interface TokenPair {
  token: string;
  secret: string;
}

/** The token exchange (src/magento), injected so the flow can be driven against any store. */
export type ExchangeFn = (input: {
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  verifier: string;
  signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1';
  deadline: Date;
  /** A request token obtained before a restart: the exchange resumes at the access step. */
  requestToken?: TokenPair;
  /** Stored before the access step: Magento issues a request token only once per verifier. */
  onRequestToken?: (token: TokenPair) => Promise<void>;
  onStep?: (event: ExchangeStep) => void;
}) => Promise<{ accessToken: string; accessTokenSecret: string }>;

export type CallbackOutcome = 'new' | 'repeat' | 'retry' | 'reauthorize' | 'reset';

/** A callback the connector will not act on; nothing was changed. The message says why. */
export class ActivationRefusedError extends AppError {
  override name = 'ActivationRefusedError';
  declare readonly code: 'activation_refused';
  constructor(message: string) {
    super('activation_refused', message);
  }
}

/** The connector is shutting down: the store should try again (the callback answers 503). */
export class ActivationUnavailableError extends AppError {
  override name = 'ActivationUnavailableError';
  declare readonly code: 'activation_unavailable';
  constructor(message: string) {
    super('activation_unavailable', message);
  }
}

export interface ActivationServiceOptions {
  integrations: IntegrationStore;
  notices: ChangeNotices;
  exchange: ExchangeFn;
  signatureMethod: 'HMAC-SHA256' | 'HMAC-SHA1';
  logger: Logger;
  clock?: () => Date;
  /** Magento's oauth/consumer/expiration_period (contract §3.4). */
  consumerExpirySeconds?: number;
  /** Called once a store's access token is stored (the sync layer starts its first load). */
  onActivated?: (consumerKey: string) => void;
  /**
   * How long an exchange's claim lasts without renewal: after that another instance (or this one after
   * a restart) takes it over. Renewed while the exchange runs.
   */
  leaseSeconds?: number;
  /**
   * True when this process is the only one running exchanges (the embedded storage): at start it takes
   * over every unfinished exchange at once instead of waiting for the dead process's leases to lapse.
   */
  soleWorker?: boolean;
  /** Failed callbacks no user linked are deleted after this long (anonymous junk). */
  candidateRetentionSeconds?: number;
  /** How often unfinished exchanges are looked for (another instance died) and junk is pruned. */
  sweepSeconds?: number;
  /** Token exchanges this process runs at once; the others wait their turn (stored, so never lost). */
  maxConcurrentExchanges?: number;
  /** Longest an exchange waits for the callbacks being handled to be answered (default 1 s). */
  exchangeDeferMs?: number;
}

const EVENT_LIMIT = 50;
/** A burst of callbacks is over once none arrived for this long (exchanges wait for it; see inSlot). */
const QUIET_MS = 20;
const HISTORY_LIMIT = 10;
const UNFINISHED = ['pending', 'exchanging'] as const;

/**
 * The activation state machine: callback → exchanging → active | failed, plus Reauthorize, Reset and
 * "needs reauthorization".
 *
 * What an anonymous callback may change (the store proves itself only by issuing tokens):
 * - an unknown consumer key creates a pending candidate, nothing else;
 * - a known key is a Reauthorize only with the same secret from the same store (Magento keeps both and
 *   sends a new verifier); anything else is refused and changes nothing;
 * - a new key from a store that already has a live integration (a Reset) supersedes that integration
 *   only after the store issued tokens for the new key; until then the old one keeps working.
 *
 * Durability: the record itself is the exchange's job. It is stored before the callback is answered;
 * the exchange runs at once in this process under a lease, and any instance (or this one after a
 * restart) takes over an unfinished exchange whose lease lapsed.
 */
export class ActivationService {
  /** Exchanges running or waiting in this process, one at a time per consumer key. */
  private readonly inFlight = new SerialQueue();
  private readonly clock: () => Date;
  private readonly owner = randomUUID();
  private sweeper?: NodeJS.Timeout;
  private closing = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Callback requests being handled, when the last one arrived, and the wait for a quiet moment. */
  private callbacks = 0;
  private lastCallbackAt = -Infinity;
  private quiet: { promise: Promise<void>; resolve: () => void; timer?: NodeJS.Timeout } | undefined;

  constructor(private readonly options: ActivationServiceOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  private get leaseMs(): number {
    return (this.options.leaseSeconds ?? 30) * 1000;
  }

  private get windowMs(): number {
    return (this.options.consumerExpirySeconds ?? 300) * 1000;
  }

  /** Resumes every exchange a previous process left unfinished, then keeps looking for lapsed ones. */
  async start(): Promise<void> {
    await this.sweep(this.options.soleWorker ?? false);
    const every = (this.options.sweepSeconds ?? 5) * 1000;
    this.sweeper = setInterval(
      () =>
        void this.sweep(false).catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'activation sweep failed'),
        ),
      every,
    );
    this.sweeper.unref();
  }

  /**
   * Stops taking callbacks and waits (bounded) for running exchanges. One still running after that
   * keeps its record `exchanging`; the next start or another instance resumes it.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    this.waiting.splice(0).forEach((wake) => wake());
    this.endQuietWait();
    const running = this.inFlight.drained();
    await Promise.race([running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /**
   * Marks a callback request as being handled until the returned function is called: exchanges wait
   * for the callbacks in hand to be answered first (see inSlot).
   */
  callbackStarted(): () => void {
    this.callbacks++;
    this.lastCallbackAt = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.callbacks--;
    };
  }

  /** Callback requests being handled now (tests, status). */
  get callbacksInHand(): number {
    return this.callbacks;
  }

  /**
   * Resolves once no callback is being handled and none arrived for QUIET_MS (a burst arrives a
   * request every millisecond or so, and is answered one by one: "none in hand" alone would let
   * exchanges in between two of them), or after `maxMs` under a steady stream.
   */
  private callbacksAnswered(maxMs: number): Promise<void> {
    if (this.closing || this.isQuiet()) return Promise.resolve();
    if (!this.quiet) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.quiet = { promise, resolve };
      this.checkQuiet();
    }
    const quiet = this.quiet!.promise;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)));
    return Promise.race([quiet, bound]).finally(() => clearTimeout(timer));
  }

  private isQuiet(): boolean {
    return this.callbacks === 0 && performance.now() - this.lastCallbackAt >= QUIET_MS;
  }

  /** One timer for every waiting exchange, looking again when the quiet period could have passed. */
  private checkQuiet(): void {
    const quiet = this.quiet;
    if (!quiet) return;
    if (this.isQuiet()) {
      this.endQuietWait();
      return;
    }
    const wait = Math.max(1, QUIET_MS - (performance.now() - this.lastCallbackAt));
    quiet.timer = setTimeout(() => this.checkQuiet(), wait);
    quiet.timer.unref();
  }

  private endQuietWait(): void {
    const quiet = this.quiet;
    this.quiet = undefined;
    clearTimeout(quiet?.timer);
    quiet?.resolve();
  }

  /** Records the store's callback POST (stored when this resolves) and starts the exchange. */
  async receiveCallback(
    fields: CallbackFields,
  ): Promise<{ record: IntegrationRecord; outcome: CallbackOutcome }> {
    if (this.closing) {
      throw new ActivationUnavailableError(
        'The connector is shutting down; click Activate again in a moment.',
      );
    }
    const key = fields.oauth_consumer_key;
    let result: { record: IntegrationRecord; outcome: CallbackOutcome };
    try {
      result = await this.record(fields, false);
    } catch (error) {
      // The key exists after all: another instance stored it at the same moment, or it belongs to
      // another store URL (which the store's list did not show). Decide against the stored record.
      if (!(error instanceof DuplicateError)) throw error;
      result = await this.record(fields, true);
    }
    this.options.logger.info(
      { consumerKey: key, store: result.record.storeOrigin, outcome: result.outcome },
      'store callback received',
    );
    // A notice only says "look again" (waiters also poll): it need not hold up the store's answer.
    void this.publish(key);
    if (result.outcome !== 'repeat') this.startExchange(key);
    return result;
  }

  /**
   * One read on the common path: the store's records show whether the key is known there and whether
   * the store has a live integration. A key known under another store URL is not among them, so its
   * insert fails as a duplicate and the second attempt (`byKey`) reads it by key.
   */
  private async record(
    fields: CallbackFields,
    byKey: boolean,
  ): Promise<{ record: IntegrationRecord; outcome: CallbackOutcome }> {
    const key = fields.oauth_consumer_key;
    const { integrations } = this.options;
    const sameStore = byKey ? undefined : await integrations.listByStore(fields.store_base_url);
    const existing = sameStore ? sameStore.find((r) => r.consumerKey === key) : await integrations.get(key);
    if (!existing)
      return this.recordNew(fields, sameStore ?? (await integrations.listByStore(fields.store_base_url)));
    this.assertSameIntegration(existing, fields);
    const now = this.clock();
    const at = now.toISOString();
    let outcome: CallbackOutcome = 'repeat';
    const record = await this.options.integrations.update(key, (r) => {
      this.assertSameIntegration(r, fields);
      if (r.verifier === fields.oauth_verifier) {
        // The same POST again (Activate clicked twice): Magento restarts its 300 s clock. A failed or
        // stuck exchange starts again; a running or finished one is left alone.
        outcome = r.status === 'failed' || this.stuck(r, now.getTime()) ? 'retry' : 'repeat';
        return withEvent(
          {
            ...r,
            callbackCount: r.callbackCount + 1,
            ...(outcome === 'retry'
              ? { receivedAt: at, status: 'pending' as const, statusReason: undefined, lease: undefined }
              : {}),
            updatedAt: at,
          },
          {
            at,
            step: 'callback_repeated',
            ok: true,
            detail: outcome === 'retry' ? 'exchange restarted' : undefined,
          },
        );
      }
      // Reauthorize: same key and secret, new verifier; the store has already deleted the old token.
      outcome = 'reauthorize';
      return withEvent(
        {
          ...r,
          verifier: fields.oauth_verifier,
          accessToken: undefined,
          accessTokenSecret: undefined,
          requestToken: undefined,
          requestTokenSecret: undefined,
          lease: undefined,
          status: 'pending',
          statusReason: undefined,
          receivedAt: at,
          activatedAt: undefined,
          // A check of the old credentials says nothing about the new ones.
          lastCheck: undefined,
          callbackCount: r.callbackCount + 1,
          updatedAt: at,
          history: bounded([...r.history, historyEntry(r, 'reauthorize', at)]),
        },
        { at, step: 'reauthorize', ok: true, detail: 'new verifier for a known consumer key' },
      );
    });
    return { record, outcome };
  }

  /** A known key only from its own store with its own secret; superseded keys are dead. */
  private assertSameIntegration(r: IntegrationRecord, fields: CallbackFields): void {
    if (
      r.consumerSecret === undefined ||
      !sameSecret(r.consumerSecret, fields.oauth_consumer_secret) ||
      r.storeBaseUrl !== fields.store_base_url
    ) {
      throw new ActivationRefusedError(
        'This consumer key is registered with a different secret or store URL (Magento keeps both on ' +
          'Reauthorize, and an integration re-created in the store admin gets a new consumer key).',
      );
    }
    if (r.status === 'superseded') {
      throw new ActivationRefusedError(
        'This consumer key was replaced by a newer integration of the same store, so activate that one.',
      );
    }
  }

  private async recordNew(
    fields: CallbackFields,
    sameStore: IntegrationRecord[],
  ): Promise<{ record: IntegrationRecord; outcome: CallbackOutcome }> {
    const at = this.clock().toISOString();
    const live = sameStore.filter((r) => r.status === 'active' || r.status === 'needs_reauth');
    const previous = live[0];
    let record: IntegrationRecord = {
      consumerKey: fields.oauth_consumer_key,
      storeBaseUrl: fields.store_base_url,
      storeOrigin: new URL(fields.store_base_url).origin,
      status: 'pending',
      consumerSecret: fields.oauth_consumer_secret,
      verifier: fields.oauth_verifier,
      signatureMethod: this.options.signatureMethod,
      receivedAt: at,
      callbackCount: 1,
      createdAt: at,
      updatedAt: at,
      events: [{ at, step: 'callback_received', ok: true }],
      history: [],
    };
    if (previous) {
      record = withEvent(record, {
        at,
        step: 'reset',
        ok: true,
        detail: `a new consumer key for a linked store; it replaces ${previous.consumerKey} once the store issues tokens for it`,
      });
    }
    await this.options.integrations.create(record);
    return { record, outcome: previous ? 'reset' : 'new' };
  }

  /**
   * Stores an integration that needs no handshake (a manual integration's pasted credentials, or a
   * Cloud Service store's IMS client) as active. Its credentials prove nothing by being stored, so a
   * store that has a live integration (active or needs_reauth) is refused with
   * LiveIntegrationExistsError, unless `replace`: then, as with a Reset, the new one becomes the store's
   * one current integration and the older live ones are superseded (their tokens erased). Throws
   * DuplicateError when the key is registered already.
   */
  async registerActive(
    record: IntegrationRecord,
    options: { replace?: boolean } = {},
  ): Promise<IntegrationRecord> {
    if (record.status !== 'active') throw new TypeError('A registered integration is stored active.');
    if (!options.replace) {
      const live = (await this.options.integrations.listByStore(record.storeBaseUrl)).find(
        (r) => r.consumerKey !== record.consumerKey && (r.status === 'active' || r.status === 'needs_reauth'),
      );
      if (live) throw new LiveIntegrationExistsError(record.storeBaseUrl, live);
    }
    await this.options.integrations.create(record);
    await this.keepNewest(record.storeBaseUrl, record.createdAt);
    await this.publish(record.consumerKey);
    this.options.onActivated?.(record.consumerKey);
    return (await this.options.integrations.get(record.consumerKey)) ?? record;
  }

  /** Resolves when no exchange runs for the key here, and the record has left pending/exchanging (bounded). */
  async settled(consumerKey: string, timeoutMs = 30_000): Promise<IntegrationRecord | undefined> {
    await this.inFlight.idle(consumerKey);
    const done = (r: IntegrationRecord | undefined) =>
      !r || !(UNFINISHED as readonly string[]).includes(r.status);
    return this.waitFor(consumerKey, done, timeoutMs);
  }

  /** Waits until a record for the key exists (the identity page may open before the callback lands). */
  waitForRecord(consumerKey: string, timeoutMs: number): Promise<IntegrationRecord | undefined> {
    return this.waitFor(consumerKey, (r) => r !== undefined, timeoutMs);
  }

  /** The record once `ready` holds for it, or as it is when the time is up; woken by change notices. */
  private async waitFor(
    consumerKey: string,
    ready: (record: IntegrationRecord | undefined) => boolean,
    timeoutMs: number,
  ): Promise<IntegrationRecord | undefined> {
    const found = await this.options.integrations.get(consumerKey);
    if (ready(found) || timeoutMs <= 0) return found;
    return new Promise((resolve, reject) => {
      let finished = false;
      const finish = (record: IntegrationRecord | undefined) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearInterval(poll);
        unsubscribe();
        resolve(record);
      };
      const look = () =>
        void this.options.integrations.get(consumerKey).then((r) => ready(r) && finish(r), reject);
      const unsubscribe = this.options.notices.subscribe(topic(consumerKey), look);
      // A notice can be missed (a listener reconnecting): look now and then anyway.
      const poll = setInterval(look, 1000);
      const timer = setTimeout(
        () => void this.options.integrations.get(consumerKey).then(finish, reject),
        timeoutMs,
      );
      look();
    });
  }

  async linkUser(consumerKey: string, userId: string): Promise<IntegrationRecord> {
    const at = this.clock().toISOString();
    const record = await this.options.integrations.update(consumerKey, (r) =>
      withEvent({ ...r, userId, linkedAt: at, updatedAt: at }, { at, step: 'identity_link', ok: true }),
    );
    await this.publish(consumerKey);
    return record;
  }

  async recordSuccessRedirect(consumerKey: string): Promise<void> {
    const at = this.clock().toISOString();
    await this.options.integrations.update(consumerKey, (r) =>
      withEvent({ ...r, updatedAt: at }, { at, step: 'success_callback', ok: true }),
    );
  }

  /** A once-working token was refused by the store (deleted integration, Reauthorize elsewhere...). */
  async markNeedsReauthorization(consumerKey: string, reason: string): Promise<void> {
    const at = this.clock().toISOString();
    await this.options.integrations.update(consumerKey, (r) =>
      r.status !== 'active'
        ? undefined
        : withEvent(
            { ...r, status: 'needs_reauth', statusReason: reason, updatedAt: at },
            { at, step: 'needs_reauth', ok: false, detail: reason },
          ),
    );
    await this.publish(consumerKey);
  }

  /** Called on every change of the key's record, in any instance. */
  onChange(consumerKey: string, listener: () => void): () => void {
    return this.options.notices.subscribe(topic(consumerKey), listener);
  }

  private async publish(consumerKey: string): Promise<void> {
    await this.options.notices
      .publish(topic(consumerKey))
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'change notice not sent'));
  }

  /** An exchange whose claim lapsed: its process died or stalled. */
  private stuck(r: IntegrationRecord, now: number): boolean {
    if (r.status === 'pending') return !this.inFlight.has(r.consumerKey);
    if (r.status !== 'exchanging') return false;
    if (r.lease?.owner === this.owner) return !this.inFlight.has(r.consumerKey);
    return !r.lease || Date.parse(r.lease.until) <= now;
  }

  /** Takes over lapsed exchanges and prunes failed anonymous candidates. */
  private async sweep(takeAll: boolean): Promise<void> {
    const now = this.clock().getTime();
    const { integrations } = this.options;
    for (const r of await integrations.list({ statuses: UNFINISHED, secrets: false })) {
      if (this.inFlight.has(r.consumerKey)) continue;
      if (takeAll || this.stuck(r, now)) this.startExchange(r.consumerKey, { takeOver: takeAll });
    }
    const retentionMs = (this.options.candidateRetentionSeconds ?? 3600) * 1000;
    for (const r of await integrations.list({ statuses: ['failed'], secrets: false })) {
      if (r.userId || r.activatedAt || now - Date.parse(r.updatedAt) < retentionMs) continue;
      await integrations.delete(r.consumerKey);
      this.options.logger.info(
        { consumerKey: r.consumerKey, store: r.storeOrigin },
        'unlinked failed callback pruned',
      );
    }
  }

  private startExchange(consumerKey: string, options: { takeOver?: boolean } = {}): void {
    void this.inFlight.run(consumerKey, () =>
      this.inSlot(() => this.exchange(consumerKey, options.takeOver ?? false))
        // Storage failing under the exchange must not crash the process: the record stays unfinished
        // and the sweep (here or in another instance) takes it over once its lease lapses.
        .catch((error: unknown) =>
          this.options.logger.error({ err: error, consumerKey }, 'token exchange could not be recorded'),
        ),
    );
  }

  /**
   * Runs an exchange once a slot is free, after the current burst of callbacks: an exchange may take
   * minutes, a callback must be answered within Magento's 5 s, so callbacks go first and a flood of
   * activations does not open thousands of store connections at once.
   */
  private async inSlot(work: () => Promise<void>): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    // An exchange costs a callback's CPU several times over (two signed requests to the store); run
    // during a burst, it would push the burst's last answers towards Magento's 5 s limit.
    await this.callbacksAnswered(this.options.exchangeDeferMs ?? 1000);
    while (!this.closing && this.running >= (this.options.maxConcurrentExchanges ?? 200)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    // Shutting down: one not started stays pending (the store issued nothing yet) and resumes at the
    // next start or on another instance, so the drain only waits for the ones already talking to stores.
    if (this.closing) return;
    this.running++;
    try {
      await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** Claims the record for this process; undefined when another instance holds a live claim. */
  private async claim(consumerKey: string, takeOver: boolean): Promise<IntegrationRecord | undefined> {
    const now = this.clock().getTime();
    const until = new Date(now + this.leaseMs).toISOString();
    let won = false;
    const record = await this.options.integrations.update(consumerKey, (r) => {
      // The change may run again on a newer record (see IntegrationStore.update): decide afresh.
      won = false;
      const free =
        r.status === 'pending' ||
        (r.status === 'exchanging' &&
          (takeOver || !r.lease || r.lease.owner === this.owner || Date.parse(r.lease.until) <= now));
      if (!free) return undefined;
      won = true;
      return {
        ...r,
        status: 'exchanging',
        lease: { owner: this.owner, until },
        updatedAt: new Date(now).toISOString(),
      };
    });
    return won ? record : undefined;
  }

  private async exchange(consumerKey: string, takeOver: boolean): Promise<void> {
    const { integrations, logger } = this.options;
    const record = await this.claim(consumerKey, takeOver);
    if (!record) return;
    await this.publish(consumerKey);
    const mine = (r: IntegrationRecord) =>
      r.status === 'exchanging' && r.lease?.owner === this.owner && r.verifier === record.verifier;
    const renew = setInterval(
      () =>
        void integrations
          .update(consumerKey, (r) =>
            mine(r)
              ? {
                  ...r,
                  lease: {
                    owner: this.owner,
                    until: new Date(this.clock().getTime() + this.leaseMs).toISOString(),
                  },
                }
              : undefined,
          )
          .catch(() => undefined),
      this.leaseMs / 3,
    );
    renew.unref();
    const steps: ActivationEvent[] = [];
    const deadline = new Date(Date.parse(record.receivedAt) + this.windowMs);
    try {
      if (!record.requestToken && this.clock() > deadline) {
        throw new Error(
          `The store's ${this.windowMs / 1000} s window for these credentials passed before the exchange ` +
            'could run (the connector was down). Click Activate (or Reauthorize) in the store admin again.',
        );
      }
      // Records registered without a handshake (manual, IMS) are never pending; this keeps it so.
      if (record.consumerSecret === undefined || record.verifier === undefined) {
        throw new Error(
          `Integration ${consumerKey} was registered without a handshake; there is nothing to exchange.`,
        );
      }
      const tokens = await this.options.exchange({
        storeBaseUrl: record.storeBaseUrl,
        consumerKey,
        consumerSecret: record.consumerSecret,
        verifier: record.verifier,
        signatureMethod: record.signatureMethod,
        deadline,
        ...(record.requestToken && record.requestTokenSecret
          ? { requestToken: { token: record.requestToken, secret: record.requestTokenSecret } }
          : {}),
        onRequestToken: async (t) => {
          await integrations.update(consumerKey, (r) =>
            mine(r) ? { ...r, requestToken: t.token, requestTokenSecret: t.secret } : undefined,
          );
        },
        onStep: (e) =>
          steps.push({
            at: this.clock().toISOString(),
            step: e.step,
            ok: e.ok,
            detail: `attempt ${e.attempt}${e.detail ? `: ${e.detail}` : ''}`,
          }),
      });
      const at = this.clock().toISOString();
      let activated = false;
      await integrations.update(consumerKey, (r) => {
        activated = false;
        // Reauthorized or taken over while this ran: these tokens belong to a dead set.
        if (!mine(r)) return withEvents(r, steps);
        activated = true;
        return {
          ...withEvents(r, steps),
          status: 'active',
          statusReason: undefined,
          accessToken: tokens.accessToken,
          accessTokenSecret: tokens.accessTokenSecret,
          requestToken: undefined,
          requestTokenSecret: undefined,
          lease: undefined,
          activatedAt: at,
          updatedAt: at,
        };
      });
      if (!activated) return;
      await this.keepNewest(record.storeBaseUrl, at);
      logger.info({ consumerKey, store: record.storeOrigin }, 'integration active');
      this.options.onActivated?.(consumerKey);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const at = this.clock().toISOString();
      await integrations.update(consumerKey, (r) =>
        !mine(r)
          ? withEvents(r, steps)
          : withEvent(
              {
                ...withEvents(r, steps),
                status: 'failed',
                statusReason: reason,
                lease: undefined,
                requestToken: undefined,
                requestTokenSecret: undefined,
                updatedAt: at,
              },
              { at, step: 'exchange_failed', ok: false, detail: reason },
            ),
      );
      logger.warn({ consumerKey, store: record.storeOrigin, reason }, 'token exchange failed');
    } finally {
      clearInterval(renew);
      await this.publish(consumerKey);
    }
  }

  /**
   * One current integration per store: the newest that the store issued tokens for. Issuing tokens for
   * a key proves it is the store's (a Reset), so the older ones' credentials are dead on its side;
   * the newest takes over their user, schedule and a bounded history.
   */
  private async keepNewest(storeBaseUrl: string, at: string): Promise<void> {
    const { integrations } = this.options;
    const live = (await integrations.listByStore(storeBaseUrl)).filter(
      (r) => r.status === 'active' || r.status === 'needs_reauth',
    );
    const [newest, ...older] = live;
    if (!newest || older.length === 0) return;
    const heir = older.find((r) => r.userId) ?? older[0]!;
    await integrations.update(newest.consumerKey, (r) => ({
      ...r,
      userId: r.userId ?? heir.userId,
      linkedAt: r.linkedAt ?? heir.linkedAt,
      syncIntervals: r.syncIntervals ?? heir.syncIntervals,
      history: bounded([...heir.history, ...older.map((o) => historyEntry(o, 'reset', at))]),
    }));
    for (const old of older) {
      await integrations.update(old.consumerKey, (r) =>
        r.status === 'superseded'
          ? undefined
          : withEvent(
              {
                ...r,
                status: 'superseded',
                supersededBy: newest.consumerKey,
                accessToken: undefined,
                accessTokenSecret: undefined,
                imsClientSecret: undefined,
                updatedAt: at,
              },
              { at, step: 'reset', ok: true, detail: `replaced by consumer key ${newest.consumerKey}` },
            ),
      );
      await this.publish(old.consumerKey);
    }
  }
}

const topic = (consumerKey: string) => `integration:${consumerKey}`;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function historyEntry(
  r: IntegrationRecord,
  reason: CredentialHistoryEntry['reason'],
  at: string,
): CredentialHistoryEntry {
  return {
    consumerKey: r.consumerKey,
    reason,
    receivedAt: r.receivedAt,
    activatedAt: r.activatedAt,
    replacedAt: at,
  };
}

const bounded = (history: CredentialHistoryEntry[]) => history.slice(-HISTORY_LIMIT);

function withEvent(record: IntegrationRecord, event: ActivationEvent): IntegrationRecord {
  return withEvents(record, [event]);
}

function withEvents(record: IntegrationRecord, events: ActivationEvent[]): IntegrationRecord {
  return { ...record, events: [...record.events, ...events].slice(-EVENT_LIMIT) };
}
