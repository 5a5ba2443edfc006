import { createHash } from 'node:crypto';
import { AppError } from '../../errors.js';

/**
 * Which store events change which synced entity, and where the changed row's id sits in the payload.
 * A new entity is one more entry (its connector needs `fetchByIds`).
 */
export interface WebhookEntity {
  entity: string;
  /** Event names without the `observer.` / `plugin.` / `com.adobe.commerce.` prefixes. */
  events: string[];
  /** The same, for a deleted row: applied only once the store no longer has it. */
  deleteEvents: string[];
  /** Keys under `data` (Commerce) or `data.value` (I/O Events) that may hold the row. */
  objectKeys: string[];
  /** The local record id of the payload's row; default: its `entity_id` (or `id`), a positive integer. */
  idOf?: (row: Record<string, unknown>) => string | undefined;
}

/** A source item's local id (as the stock connector keys it): `<source_code percent-encoded>/<sku>`. */
function sourceItemIdOf(row: Record<string, unknown>): string | undefined {
  const { sku, source_code } = row;
  if (typeof sku !== 'string' || typeof source_code !== 'string' || sku === '' || source_code === '')
    return undefined;
  return `${encodeURIComponent(source_code)}/${sku}`;
}

export const WEBHOOK_ENTITIES: WebhookEntity[] = [
  {
    entity: 'products',
    events: ['catalog_product_save_after', 'catalog_product_save_commit_after'],
    deleteEvents: ['catalog_product_delete_after', 'catalog_product_delete_commit_after'],
    objectKeys: ['product', 'data_object'],
  },
  {
    entity: 'customers',
    events: ['customer_save_after', 'customer_save_commit_after', 'customer_save_after_data_object'],
    deleteEvents: ['customer_delete_after', 'customer_delete_commit_after'],
    objectKeys: ['customer', 'customer_data_object', 'data_object'],
  },
  {
    entity: 'orders',
    events: ['sales_order_save_after', 'sales_order_save_commit_after'],
    deleteEvents: ['sales_order_delete_after', 'sales_order_delete_commit_after'],
    objectKeys: ['order', 'data_object'],
  },
  {
    // The simulator's names for a source item change and deletion (MSI has no single observer event
    // for either): not confirmed against a store.
    entity: 'stock',
    events: ['cataloginventory_stock_item_save_after', 'cataloginventory_stock_item_save_commit_after'],
    deleteEvents: ['cataloginventory_stock_item_delete_after'],
    objectKeys: ['stock_item', 'source_item', 'data_object'],
    idOf: sourceItemIdOf,
  },
];

/** The start of a Commerce webhook's event id: the body's sha256, as the webhook carries no id. */
export const BODY_HASH_ID_PREFIX = 'sha256:';

/** What a verified delivery asks for. */
export interface WebhookChange {
  /**
   * Dedupe key: the I/O event id, or for a Commerce webhook (which carries none) the body's sha256,
   * which a later, genuine change may repeat (a row back to earlier values, a payload of ids only).
   */
  eventId: string;
  eventName: string;
  /** Absent: an event this connector does not sync (acknowledged, nothing done). */
  entity?: string;
  /** The changed row's entity id. */
  id?: string;
  /** The row's updated_at as the event saw it (Magento format), when the payload has it. */
  updatedAt?: string;
  /** A delete event: the row is tombstoned once a read finds it gone from the store. */
  deleted?: true;
}

export class MalformedDeliveryError extends AppError {
  override name = 'MalformedDeliveryError';
  declare readonly code: 'malformed_delivery';
  constructor(message: string, options?: ErrorOptions) {
    super('malformed_delivery', message, options);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function shortName(name: string): string {
  return name.replace(/^com\.adobe\.commerce\./, '').replace(/^(observer|plugin)\./, '');
}

function magentoDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)/.exec(value);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

function entityIdOf(row: Record<string, unknown>): string | undefined {
  const raw = row.entity_id ?? row.id;
  const id = typeof raw === 'number' ? String(raw) : raw;
  return typeof id === 'string' && /^[1-9]\d{0,14}$/.test(id) ? id : undefined;
}

function change(eventId: string, eventName: string, container: unknown): WebhookChange {
  const short = shortName(eventName);
  const known = WEBHOOK_ENTITIES.find((e) => e.events.includes(short) || e.deleteEvents.includes(short));
  if (!known) return { eventId, eventName };
  const deleted = known.deleteEvents.includes(short);
  const idOf = known.idOf ?? entityIdOf;
  const row = isObject(container)
    ? [container, ...known.objectKeys.map((k) => container[k])].find(
        (r): r is Record<string, unknown> => isObject(r) && idOf(r) !== undefined,
      )
    : undefined;
  const id = row && idOf(row);
  if (id === undefined || id.length > 300) {
    throw new MalformedDeliveryError(
      known.idOf
        ? `The ${short} payload does not name its row.`
        : `The ${short} payload has no entity_id (a positive whole number).`,
    );
  }
  const updatedAt = magentoDate(row?.updated_at);
  return {
    eventId,
    eventName: short,
    entity: known.entity,
    id,
    ...(updatedAt ? { updatedAt } : {}),
    ...(deleted ? { deleted: true as const } : {}),
  };
}

function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedDeliveryError('The body is not valid JSON.');
  }
  if (!isObject(value)) throw new MalformedDeliveryError('The body must be a JSON object.');
  return value;
}

/** A Commerce webhook body: `{"eventName": "observer.catalog_product_save_after", "data": {"product": {...}}}`. */
export function parseCommerceDelivery(body: Buffer): WebhookChange {
  const json = parseJson(body);
  if (typeof json.eventName !== 'string' || json.eventName === '' || json.eventName.length > 200)
    throw new MalformedDeliveryError('The body has no eventName.');
  if (!isObject(json.data)) throw new MalformedDeliveryError('The body has no data object.');
  // Commerce sends no event id: a redelivery repeats the same bytes.
  const eventId = `${BODY_HASH_ID_PREFIX}${createHash('sha256').update(body).digest('hex')}`;
  return change(eventId, json.eventName, json.data);
}

/** An I/O Events delivery: `{event_id, type, recipient_client_id, data: {value: {...}}}`. */
export function parseIoEventsDelivery(body: Buffer): WebhookChange & { recipientClientId: string } {
  const json = parseJson(body);
  const eventId = json.event_id ?? json.id;
  if (typeof eventId !== 'string' || eventId === '' || eventId.length > 200)
    throw new MalformedDeliveryError('The event has no event_id.');
  if (typeof json.recipient_client_id !== 'string')
    throw new MalformedDeliveryError('The event has no recipient_client_id.');
  if (typeof json.type !== 'string' || json.type === '' || json.type.length > 200)
    throw new MalformedDeliveryError('The event has no type.');
  const data = isObject(json.data) ? (json.data.value ?? json.data) : undefined;
  return { ...change(`io:${eventId}`, json.type, data), recipientClientId: json.recipient_client_id };
}
