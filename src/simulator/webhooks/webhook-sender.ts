import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { CatalogChange } from '../catalog/catalog.js';

/**
 * The simulator's Adobe Commerce Webhooks module: a key pair per store (Stores > Configuration > Adobe
 * Services > Webhooks, "Regenerate key pair"), subscriptions, and a signed POST for every catalog change.
 * Signed here with node:crypto directly: the connector's verifier is other code.
 */

/**
 * Which webhook each change fires and where its row sits in the body. Add an entity here. Stock: MSI
 * has no single observer event for a source item's save or deletion; the simulator uses the legacy
 * stock item's names and sends the source item (sku, source_code, quantity, status), which is not
 * confirmed against a store.
 */
export const SIM_WEBHOOK_EVENTS: Record<string, { saved: string; deleted?: string; payloadKey: string }> = {
  products: {
    saved: 'observer.catalog_product_save_after',
    deleted: 'observer.catalog_product_delete_after',
    payloadKey: 'product',
  },
  customers: {
    saved: 'observer.customer_save_after',
    deleted: 'observer.customer_delete_after',
    payloadKey: 'customer',
  },
  orders: { saved: 'observer.sales_order_save_after', payloadKey: 'order' },
  source_items: {
    saved: 'observer.cataloginventory_stock_item_save_after',
    deleted: 'observer.cataloginventory_stock_item_delete_after',
    payloadKey: 'stock_item',
  },
};

export const SIGNATURE_HEADER = 'x-adobe-commerce-webhook-signature';

export interface WebhookSubscription {
  id: number;
  url: string;
  /** Webhook method names (`observer.catalog_product_save_after`); empty: every one above. */
  events: string[];
  createdAt: string;
}

/** Misbehaviour, each a probability per delivery (0 = never). */
export interface WebhookFaults {
  bad_signature: number;
  duplicate: number;
  out_of_order: number;
}

export interface WebhookDelivery {
  id: number;
  subscriptionId: number;
  eventName: string;
  /** sha256 of the body, as a receiver that dedupes Commerce webhooks would name it. */
  eventId: string;
  entity: string;
  /** The row's id (entity id; for a source item `<source_code>/<sku>`). */
  entityId: string;
  /** Epoch ms of the change. */
  changedAt: number;
  sentAt?: number;
  status?: number;
  durationMs?: number;
  error?: string;
  fault?: 'bad_signature' | 'duplicate' | 'out_of_order';
}

const MAX_DELIVERIES = 20_000;
/** Commerce's default webhook timeout. */
const TIMEOUT_MS = 5_000;
/**
 * In-flight deliveries per subscription. Commerce sends a webhook inside the request that saves the row,
 * so its concurrency is that of the store's own requests; a bound keeps a stalled receiver from piling
 * up sockets here.
 */
const IN_FLIGHT = 64;

interface Outgoing {
  delivery: WebhookDelivery;
  body: string;
  signature: string;
}

export class WebhookSender {
  #keys?: { privateKey: KeyObject; publicKeyPem: string };
  /** Signs bad_signature deliveries: a well-formed signature by a key the store never showed. */
  #otherKey?: KeyObject;
  readonly #subscriptions = new Map<number, WebhookSubscription>();
  readonly #deliveries: WebhookDelivery[] = [];
  readonly #queues = new Map<
    number,
    { waiting: Outgoing[]; inFlight: number; held?: Outgoing; timer?: NodeJS.Timeout }
  >();
  readonly #idle = new Set<() => void>();
  #faults: WebhookFaults = { bad_signature: 0, duplicate: 0, out_of_order: 0 };
  #nextSubscription = 1;
  #nextDelivery = 1;

  constructor(private readonly random: () => number = Math.random) {}

  /**
   * The store's pair, made on first use (the admin page, the API, a subscription): every test builds
   * simulators, and most never send a webhook.
   */
  get #pair(): { privateKey: KeyObject; publicKeyPem: string } {
    if (!this.#keys) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.#keys = {
        privateKey: pair.privateKey,
        publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    }
    return this.#keys;
  }

  /** The public key the admin shows, to paste into the connector. */
  get publicKeyPem(): string {
    return this.#pair.publicKeyPem;
  }

  #roll(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }

  get subscriptions(): WebhookSubscription[] {
    return [...this.#subscriptions.values()];
  }

  get faults(): WebhookFaults {
    return { ...this.#faults };
  }

  setFaults(faults: Partial<WebhookFaults>): WebhookFaults {
    this.#faults = { ...this.#faults, ...faults };
    return this.faults;
  }

  subscribe(url: string, events: string[], now: Date): WebhookSubscription {
    void this.#pair;
    const subscription = { id: this.#nextSubscription++, url, events, createdAt: now.toISOString() };
    this.#subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  unsubscribe(id: number): boolean {
    return this.#subscriptions.delete(id);
  }

  deliveries(sinceId = 0): WebhookDelivery[] {
    return this.#deliveries.filter((d) => d.id > sinceId);
  }

  /** Resolves when nothing waits, is held back or is in flight. */
  idle(): Promise<void> {
    if (this.#busy()) return new Promise((resolve) => this.#idle.add(resolve));
    return Promise.resolve();
  }

  /** The catalog's listener: the body is built now, so later edits of the row do not leak into it. */
  notify(change: CatalogChange, now: number = Date.now()): void {
    const hook = SIM_WEBHOOK_EVENTS[change.entity];
    const eventName = hook && (change.action === 'deleted' ? hook.deleted : hook.saved);
    if (!hook || !eventName) return;
    const row: object = change.row;
    const entityId = 'entity_id' in row ? String(row.entity_id) : 'id' in row ? String(row.id) : change.key;
    for (const subscription of this.#subscriptions.values()) {
      if (subscription.events.length > 0 && !subscription.events.includes(eventName)) continue;
      // Shaped like Adobe's sample payloads: the name without its `observer.` prefix, the row under data.
      const body = JSON.stringify({
        eventName: eventName.replace(/^observer\./, ''),
        data: { [hook.payloadKey]: change.row },
      });
      const delivery: WebhookDelivery = {
        id: this.#nextDelivery++,
        subscriptionId: subscription.id,
        eventName,
        eventId: `sha256:${createHash('sha256').update(body).digest('hex')}`,
        entity: change.entity,
        entityId,
        changedAt: now,
      };
      let signature = sign('sha256', Buffer.from(body), this.#pair.privateKey).toString('base64');
      if (this.#roll(this.#faults.bad_signature)) {
        delivery.fault = 'bad_signature';
        this.#otherKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        signature = sign('sha256', Buffer.from(body), this.#otherKey).toString('base64');
      }
      this.#record(delivery);
      const outgoing = { delivery, body, signature };
      const queue = this.#queue(subscription.id);
      if (!delivery.fault && !queue.held && this.#roll(this.#faults.out_of_order)) {
        // Held back until the next delivery of this subscription has gone first (or 200 ms passed).
        delivery.fault = 'out_of_order';
        queue.held = outgoing;
        queue.timer = setTimeout(() => this.#release(subscription.id), 200);
        continue;
      }
      queue.waiting.push(outgoing);
      this.#release(subscription.id, false);
      if (!delivery.fault && this.#roll(this.#faults.duplicate)) {
        const copy: WebhookDelivery = { ...delivery, id: this.#nextDelivery++, fault: 'duplicate' };
        this.#record(copy);
        queue.waiting.push({ ...outgoing, delivery: copy });
      }
      this.#pump(subscription.id);
    }
  }

  #record(delivery: WebhookDelivery): void {
    this.#deliveries.push(delivery);
    if (this.#deliveries.length > MAX_DELIVERIES)
      this.#deliveries.splice(0, this.#deliveries.length - MAX_DELIVERIES);
  }

  #queue(id: number) {
    let queue = this.#queues.get(id);
    if (!queue) {
      queue = { waiting: [], inFlight: 0 };
      this.#queues.set(id, queue);
    }
    return queue;
  }

  /** Puts a held delivery back: right after the one just queued, or at the front when its timer ran out. */
  #release(id: number, pump = true): void {
    const queue = this.#queue(id);
    if (!queue.held) return;
    clearTimeout(queue.timer);
    const held = queue.held;
    queue.held = undefined;
    if (pump) {
      queue.waiting.unshift(held);
      this.#pump(id);
    } else queue.waiting.push(held);
  }

  #pump(id: number): void {
    const queue = this.#queue(id);
    const subscription = this.#subscriptions.get(id);
    while (queue.inFlight < IN_FLIGHT && queue.waiting.length > 0) {
      const next = queue.waiting.shift() as Outgoing;
      if (!subscription) continue;
      queue.inFlight++;
      void this.#send(subscription.url, next).finally(() => {
        queue.inFlight--;
        this.#pump(id);
        if (this.#busy()) return;
        const waiting = [...this.#idle];
        this.#idle.clear();
        for (const resolve of waiting) resolve();
      });
    }
  }

  #busy(): boolean {
    // A subscription removed while deliveries waited leaves a queue nothing pumps: drop it.
    for (const [id, q] of this.#queues)
      if (!this.#subscriptions.has(id) && q.inFlight === 0) this.#queues.delete(id);
    return [...this.#queues.values()].some((q) => q.inFlight > 0 || q.waiting.length > 0 || q.held);
  }

  async #send(url: string, { delivery, body, signature }: Outgoing): Promise<void> {
    delivery.sentAt = Date.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.arrayBuffer();
      delivery.status = res.status;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    } finally {
      delivery.durationMs = Date.now() - delivery.sentAt;
    }
  }
}
