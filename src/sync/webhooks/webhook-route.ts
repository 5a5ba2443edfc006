import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { IntegrationStore, WebhookSettings } from '../../storage/types.js';
import {
  DEFAULT_INVALID_REQUEST_LIMIT,
  invalidRequestLimiter,
  type InvalidRequestLimit,
} from '../../http/invalid-request-limiter.js';
import {
  MalformedDeliveryError,
  parseCommerceDelivery,
  parseIoEventsDelivery,
  type WebhookChange,
} from './events.js';
import { publicKeyOf, verifyRsaSha256 } from './signature.js';
import type { WebhookService } from './webhook-service.js';

export const COMMERCE_SIGNATURE_HEADER = 'x-adobe-commerce-webhook-signature';
export const IO_SIGNATURE_HEADERS = ['x-adobe-digital-signature-1', 'x-adobe-digital-signature-2'] as const;
/** Commerce's default payloads carry a whole product with its media and options: 256 KB is ample. */
export const DEFAULT_WEBHOOK_MAX_BYTES = 256 * 1024;
const STORE_KEY = /^[0-9a-z]{32}$/;
const CHALLENGE = /^[A-Za-z0-9._~-]{1,256}$/;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function answer(res: Response, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A store's webhook settings, read at most once per SETTINGS_TTL_MS per store: a burst of deliveries
 * would otherwise read (and decrypt) the whole integration record each time. A changed or removed key
 * takes effect within that time.
 */
const SETTINGS_TTL_MS = 2_000;
function settingsCache(integrations: IntegrationStore) {
  const cache = new Map<string, { settings: WebhookSettings | undefined; until: number }>();
  return async (storeKey: string): Promise<WebhookSettings | undefined> => {
    if (!STORE_KEY.test(storeKey)) return undefined;
    const now = Date.now();
    const hit = cache.get(storeKey);
    if (hit && hit.until > now) return hit.settings;
    const settings = (await integrations.get(storeKey))?.webhooks;
    if (cache.size >= 10_000) cache.clear();
    cache.set(storeKey, { settings, until: now + SETTINGS_TTL_MS });
    return settings;
  };
}

/** The store's configured keys; the same refusal whether the key is unknown or has no webhook keys. */
async function settingsFor(
  lookup: (storeKey: string) => Promise<WebhookSettings | undefined>,
  storeKey: string,
): Promise<WebhookSettings> {
  const settings = await lookup(storeKey);
  if (!settings)
    throw new Refusal(
      401,
      'No webhook public key is configured for this store key; check the URL, then set the key with npm run store -- webhook-key.',
    );
  return settings;
}

/** Verifies before anything reads the body: Commerce's one signature, or either I/O Events signature. */
function verified(req: Request, body: Buffer, settings: WebhookSettings): 'commerce' | 'io-events' {
  const commerce = header(req, COMMERCE_SIGNATURE_HEADER);
  const io = IO_SIGNATURE_HEADERS.map((h) => header(req, h)).filter((s): s is string => s !== undefined);
  if (commerce === undefined && io.length === 0)
    throw new Refusal(
      401,
      'The delivery is not signed; enable webhook signing in the store (or use I/O Events).',
    );
  if (commerce !== undefined) {
    const key = settings.commercePublicKey && publicKeyOf(settings.commercePublicKey);
    if (!key) throw new Refusal(401, 'No Commerce webhook public key is configured for this store.');
    if (!verifyRsaSha256(body, commerce, key))
      throw new Refusal(
        401,
        'The webhook signature does not verify with the public key configured for this store.',
      );
    return 'commerce';
  }
  // The key paths the request names (x-adobe-public-key*-path) are not fetched: only configured keys count.
  const keys = (settings.ioEvents?.publicKeys ?? []).map(publicKeyOf).filter((k) => k !== undefined);
  if (keys.length === 0) throw new Refusal(401, 'No I/O Events public key is configured for this store.');
  if (!io.some((signature) => keys.some((key) => verifyRsaSha256(body, signature, key))))
    throw new Refusal(
      401,
      'Neither I/O Events signature verifies with the public keys configured for this store.',
    );
  return 'io-events';
}

function parse(kind: 'commerce' | 'io-events', body: Buffer, settings: WebhookSettings): WebhookChange {
  try {
    if (kind === 'commerce') return parseCommerceDelivery(body);
    const event = parseIoEventsDelivery(body);
    if (event.recipientClientId !== settings.ioEvents?.clientId)
      throw new Refusal(401, 'The event is addressed to another client (recipient_client_id is not ours).');
    return event;
  } catch (error) {
    if (error instanceof MalformedDeliveryError) throw new Refusal(400, error.message);
    throw error;
  }
}

/**
 * `POST /magento/webhooks/<store key>`: Commerce webhooks and Adobe I/O Events for the linked store
 * whose consumer key is in the path; `GET` with `?challenge=` answers I/O Events' registration check.
 * A client that keeps sending invalid deliveries is refused (429) for a while; the store key is
 * checked before the body is read, so a request for no configured store costs no upload. The body
 * is read raw and verified before it is parsed; the delivery is queued (stored) before the 2xx,
 * which a store reads as "received" and does not send again.
 */
export function webhookRoute(deps: {
  integrations: IntegrationStore;
  webhooks: WebhookService;
  logger: Pick<Logger, 'warn' | 'error'>;
  maxBytes?: number;
  /** Invalid deliveries (4xx) a client may send per window before all its deliveries are refused. */
  invalidLimit?: InvalidRequestLimit;
}): Router {
  const maxBytes = deps.maxBytes ?? DEFAULT_WEBHOOK_MAX_BYTES;
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: maxBytes });
  const lookup = settingsCache(deps.integrations);
  const limiter = invalidRequestLimiter(
    deps.invalidLimit ?? DEFAULT_INVALID_REQUEST_LIMIT,
    'webhook deliveries',
  );
  /** Refuses a store key with no webhook keys before the body is read; keeps the settings for the handler. */
  const knownStore = async (req: Request, res: Response, next: NextFunction) => {
    res.locals.webhookSettings = await settingsFor(lookup, String(req.params.storeKey));
    next();
  };

  router.get('/magento/webhooks/:storeKey', limiter, async (req, res) => {
    await settingsFor(lookup, String(req.params.storeKey));
    const challenge = req.query.challenge;
    if (typeof challenge !== 'string' || !CHALLENGE.test(challenge))
      throw new Refusal(400, 'Send ?challenge= with up to 256 URL-safe characters, as I/O Events does.');
    answer(res, 200, { challenge });
  });

  router.post('/magento/webhooks', limiter, () => {
    throw new Refusal(
      404,
      'Put the store key in the URL: /magento/webhooks/<consumer key of the integration>.',
    );
  });

  router.post('/magento/webhooks/:storeKey', limiter, knownStore, raw, async (req, res) => {
    const storeKey = String(req.params.storeKey);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const settings = res.locals.webhookSettings as WebhookSettings;
    const kind = verified(req, body, settings);
    const change = parse(kind, body, settings);
    let outcome;
    try {
      outcome = await deps.webhooks.receive(storeKey, change);
    } catch (error) {
      deps.logger.error({ err: error, store: storeKey }, 'webhook not queued');
      throw new Refusal(
        503,
        'The connector could not store the delivery right now; the store will send it again.',
      );
    }
    if (kind === 'commerce') answer(res, 200, { op: 'success' });
    else answer(res, 200, { status: outcome });
  });

  router.use('/magento/webhooks', (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const type = (error as { type?: string }).type;
    const refusal =
      error instanceof Refusal
        ? error
        : type === 'entity.too.large'
          ? new Refusal(413, `The delivery is larger than ${Math.round(maxBytes / 1024)} KB.`)
          : type === 'request.aborted' || type === 'request.size.invalid'
            ? new Refusal(400, 'The delivery body was cut short.')
            : undefined;
    if (!refusal) return next(error);
    // Logged without the body or signatures: the store (only a well-formed key: the path is the
    // sender's), the reason and who sent it.
    const store = req.originalUrl.split('?')[0]?.split('/')[3];
    if (refusal.status !== 503)
      deps.logger.warn(
        {
          ...(store !== undefined && STORE_KEY.test(store) ? { store } : {}),
          status: refusal.status,
          ip: req.ip,
          reason: refusal.message,
        },
        'webhook delivery refused',
      );
    answer(res, refusal.status, { error: refusal.message });
  });
  return router;
}
