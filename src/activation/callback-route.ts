import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError } from '../errors.js';
import {
  DEFAULT_INVALID_REQUEST_LIMIT,
  invalidRequestLimiter,
  type InvalidRequestLimit,
} from '../http/invalid-request-limiter.js';
import {
  ActivationRefusedError,
  ActivationUnavailableError,
  type ActivationService,
  type CallbackOutcome,
} from './activation-service.js';
import { canonicalStoreUrl, checkStoreUrl, type StoreUrlPolicyOptions } from './store-url-policy.js';

export type CallbackErrorCode =
  | 'callback_too_large'
  | 'callback_too_many_fields'
  | 'callback_charset'
  | 'callback_cut_short'
  | 'callback_unreadable'
  | 'callback_not_form'
  | 'callback_invalid'
  | 'callback_store_url_invalid'
  | 'callback_store_url_refused'
  | 'callback_not_stored';

/** A callback refused before or while it is stored; nothing was changed. The message says what to send. */
export class CallbackError extends AppError {
  override name = 'CallbackError';
  declare readonly code: CallbackErrorCode;
  constructor(code: CallbackErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

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

const CUT_SHORT: [CallbackErrorCode, string] = ['callback_cut_short', 'The callback body was cut short.'];
const WRONG_CHARSET: [CallbackErrorCode, string] = [
  'callback_charset',
  'Send the callback form-encoded in UTF-8, as Magento does.',
];

/** body-parser's failures (by their `type`) as one sentence each, saying what Magento sends instead. */
const BODY_FAILURES = new Map<string | undefined, [CallbackErrorCode, string]>([
  [
    'entity.too.large',
    ['callback_too_large', 'The callback body is larger than 8 KB; Magento sends four short fields.'],
  ],
  [
    'parameters.too.many',
    ['callback_too_many_fields', 'The callback has more than 20 fields; Magento sends four.'],
  ],
  ['charset.unsupported', WRONG_CHARSET],
  ['encoding.unsupported', WRONG_CHARSET],
  ['request.aborted', CUT_SHORT],
  ['request.size.invalid', CUT_SHORT],
]);

function callbackBody(req: Request, res: Response, next: NextFunction) {
  parseForm(req, res, (error?: unknown) => {
    if (!error) {
      next();
      return;
    }
    const type = (error as { type?: string }).type;
    const [code, message] = BODY_FAILURES.get(type) ?? [
      'callback_unreadable',
      'The callback body could not be read as a form.',
    ];
    next(new CallbackError(code, message));
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
  /** Invalid callbacks a client may send per window (Magento ignores the answer, so valid ones never count). */
  invalidLimit?: InvalidRequestLimit;
}): Router {
  const router = express.Router();
  router.post(
    '/magento/callback',
    (_req, res, next) => {
      res.once('close', deps.activation.callbackStarted());
      next();
    },
    invalidRequestLimiter(deps.invalidLimit ?? DEFAULT_INVALID_REQUEST_LIMIT, 'callbacks'),
    callbackBody,
    async (req, res) => {
      if (!isFormBody(req)) {
        throw new CallbackError(
          'callback_not_form',
          'Send the callback form-encoded (application/x-www-form-urlencoded), as Magento does.',
        );
      }
      const parsed = callbackFields.safeParse(req.body ?? {});
      if (!parsed.success) throw new CallbackError('callback_invalid', oneSentence(parsed.error.issues));
      const canonical = canonicalStoreUrl(parsed.data.store_base_url);
      if (typeof canonical !== 'string')
        throw new CallbackError('callback_store_url_invalid', canonical.error);
      const refused = await checkStoreUrl(canonical, deps.policy);
      if (refused) throw new CallbackError('callback_store_url_refused', refused);
      let outcome: CallbackOutcome;
      try {
        ({ outcome } = await deps.activation.receiveCallback({
          ...parsed.data,
          store_base_url: canonical,
        }));
      } catch (error) {
        if (error instanceof ActivationRefusedError) throw error;
        // 200 means "stored": anything else makes the store report failure, so the admin retries.
        deps.logger.error({ err: error }, 'callback not stored');
        if (error instanceof ActivationUnavailableError) throw error;
        throw new CallbackError(
          'callback_not_stored',
          'The connector could not store the credentials right now; click Activate again in a moment.',
          { cause: error },
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
