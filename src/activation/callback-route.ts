import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HttpError } from '../web/http-error.js';
import {
  ActivationRefusedError,
  ActivationUnavailableError,
  type ActivationService,
  type CallbackOutcome,
} from './activation-service.js';
import { canonicalStoreUrl, checkStoreUrl, type StoreUrlPolicyOptions } from './store-url-policy.js';

/** Magento's credentials: 32 characters of [0-9a-z] (contract §3.7). */
const credential = (field: string) =>
  z
    .string({ message: `${field} is required.` })
    .regex(/^[0-9a-z]{32}$/, `${field} must be 32 characters of 0-9 and a-z, as Magento issues it.`);

export const callbackFields = z.object({
  oauth_consumer_key: credential('oauth_consumer_key'),
  oauth_consumer_secret: credential('oauth_consumer_secret'),
  oauth_verifier: credential('oauth_verifier'),
  store_base_url: z
    .string({ message: 'store_base_url is required.' })
    .max(2048, 'store_base_url is longer than 2048 characters.'),
});

export interface InvalidCallbackLimit {
  /** Invalid callbacks (4xx) a client may send per window before all its callbacks are refused. */
  max: number;
  windowMs: number;
}

const DEFAULT_LIMIT: InvalidCallbackLimit = { max: 30, windowMs: 15 * 60_000 };
// Bounds the memory one flood of spoofed or rotating addresses can take.
const MAX_CLIENTS = 50_000;

/**
 * Who a client is for counting: an IPv4 address, or an IPv6 /56, since one IPv6 client can use
 * every address of its prefix (the same default as express-rate-limit).
 */
export function callbackClientKey(ip: string): string {
  try {
    const parsed = ipaddr.process(ip);
    if (parsed.kind() === 'ipv4') return parsed.toString();
    const bytes = parsed.toByteArray().slice(0, 7);
    return `${Buffer.from(bytes).toString('hex')}/56`;
  } catch {
    return ip;
  }
}

/**
 * Counts invalid callbacks per client (req.ip, which honours TRUST_PROXY). Magento ignores the
 * answer to its POST, so a 429 to a real activation would lose it without anyone seeing: valid
 * callbacks are never counted, and only a client that keeps sending invalid ones is refused.
 */
function invalidCallbackLimiter(limit: InvalidCallbackLimit) {
  const clients = new Map<string, { count: number; resetAt: number }>();
  const prune = (now: number) => {
    for (const [ip, entry] of clients) if (entry.resetAt <= now) clients.delete(ip);
    // Still full: forget the oldest entries (Map keeps insertion order).
    for (const ip of clients.keys()) {
      if (clients.size < MAX_CLIENTS) break;
      clients.delete(ip);
    }
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const ip = callbackClientKey(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    const now = Date.now();
    const entry = clients.get(ip);
    if (entry && entry.resetAt > now && entry.count >= limit.max) {
      res.setHeader('retry-after', String(Math.ceil((entry.resetAt - now) / 1000)));
      res.status(429).json({
        error: `Too many invalid callbacks from this address; try again in ${Math.ceil((entry.resetAt - now) / 60_000)} minutes.`,
      });
      return;
    }
    res.on('finish', () => {
      if (res.statusCode < 400 || res.statusCode >= 500 || res.statusCode === 429) return;
      const at = Date.now();
      const current = clients.get(ip);
      if (current && current.resetAt > at) {
        current.count++;
        return;
      }
      if (clients.size >= MAX_CLIENTS) prune(at);
      clients.set(ip, { count: 1, resetAt: at + limit.windowMs });
    });
    next();
  };
}

/** The first problem, naming the other fields that are wrong too, as one sentence. */
function oneSentence(issues: { message: string; path: PropertyKey[] }[]): string {
  const [first, ...rest] = issues;
  if (!first) return 'The callback is not valid.';
  if (rest.length === 0) return first.message;
  const others = [...new Set(rest.map((i) => String(i.path[0] ?? '')))].filter(Boolean).join(', ');
  return `${first.message.replace(/\.$/, '')} (also wrong: ${others}).`;
}

/**
 * Whether the body is declared a form. A plain comparison rather than type-is: Magento sends exactly
 * this type, and parsing the header with every media-type rule is a measurable part of a callback.
 */
export function isFormBody(req: Request): boolean {
  const type = req.headers['content-type'];
  if (type === undefined) return false;
  const semicolon = type.indexOf(';');
  return (
    (semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase() ===
    'application/x-www-form-urlencoded'
  );
}

const parseForm = express.urlencoded({
  extended: false,
  limit: '8kb',
  parameterLimit: 20,
  type: (req) => isFormBody(req as Request),
});

/** body-parser's failures as one sentence each, saying what Magento sends instead. */
function callbackBody(req: Request, res: Response, next: NextFunction) {
  parseForm(req, res, (error?: unknown) => {
    if (!error) {
      next();
      return;
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      next(new HttpError(413, 'The callback body is larger than 8 KB; Magento sends four short fields.'));
    } else if (type === 'parameters.too.many') {
      next(new HttpError(413, 'The callback has more than 20 fields; Magento sends four.'));
    } else if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
      next(new HttpError(415, 'Send the callback form-encoded in UTF-8, as Magento does.'));
    } else if (type === 'request.aborted' || type === 'request.size.invalid') {
      next(new HttpError(400, 'The callback body was cut short.'));
    } else {
      next(new HttpError(400, 'The callback body could not be read as a form.'));
    }
  });
}

/**
 * `POST /magento/callback`: the integration's endpoint URL. Answers within milliseconds (the store
 * gives up after 5 s) and runs the token exchange afterwards. The store URL is passed on in its
 * canonical form, so the same store is recognised however it was spelled.
 */
export function callbackRoute(deps: {
  activation: ActivationService;
  policy: StoreUrlPolicyOptions;
  logger: Pick<Logger, 'error'>;
  invalidLimit?: InvalidCallbackLimit;
}): Router {
  const router = express.Router();
  router.post(
    '/magento/callback',
    (_req, res, next) => {
      res.once('close', deps.activation.callbackStarted());
      next();
    },
    invalidCallbackLimiter(deps.invalidLimit ?? DEFAULT_LIMIT),
    callbackBody,
    async (req, res) => {
      if (!isFormBody(req)) {
        throw new HttpError(
          415,
          'Send the callback form-encoded (application/x-www-form-urlencoded), as Magento does.',
        );
      }
      const parsed = callbackFields.safeParse(req.body ?? {});
      if (!parsed.success) throw new HttpError(400, oneSentence(parsed.error.issues));
      const canonical = canonicalStoreUrl(parsed.data.store_base_url);
      if (typeof canonical !== 'string') throw new HttpError(400, canonical.error);
      const refused = await checkStoreUrl(canonical, deps.policy);
      if (refused) throw new HttpError(403, refused);
      let outcome: CallbackOutcome;
      try {
        ({ outcome } = await deps.activation.receiveCallback({
          ...parsed.data,
          store_base_url: canonical,
        }));
      } catch (error) {
        if (error instanceof ActivationRefusedError) throw new HttpError(403, error.message);
        // 200 means "stored": anything else makes the store report failure, so the admin retries.
        deps.logger.error({ err: error }, 'callback not stored');
        throw new HttpError(
          503,
          error instanceof ActivationUnavailableError
            ? error.message
            : 'The connector could not store the credentials right now; click Activate again in a moment.',
        );
      }
      // Written directly: express's send() would parse the content type back and hash the body for an
      // ETag that no store sends back.
      const body = JSON.stringify({ status: 'accepted', outcome });
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    },
  );
  return router;
}
