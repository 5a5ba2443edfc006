import express, { type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HttpError } from '../web/http-error.js';
import {
  ActivationRefusedError,
  ActivationUnavailableError,
  type ActivationService,
  type CallbackOutcome,
} from './activation-service.js';
import { checkStoreUrl, type StoreUrlPolicyOptions } from './store-url-policy.js';

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
    .max(2048, 'store_base_url is longer than 2048 characters.')
    .pipe(z.url({ protocol: /^https?$/, message: 'store_base_url must be an http(s) URL.' })),
});

/**
 * `POST /magento/callback`: the integration's endpoint URL. Answers within milliseconds (the store
 * gives up after 5 s) and runs the token exchange afterwards.
 */
export function callbackRoute(deps: {
  activation: ActivationService;
  policy: StoreUrlPolicyOptions;
  logger: Pick<Logger, 'error'>;
}): Router {
  const router = express.Router();
  router.post(
    '/magento/callback',
    rateLimit({ windowMs: 60_000, limit: 120, standardHeaders: 'draft-8', legacyHeaders: false }),
    express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 }),
    async (req, res) => {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new HttpError(
          415,
          'Send the callback form-encoded (application/x-www-form-urlencoded), as Magento does.',
        );
      }
      const parsed = callbackFields.safeParse(req.body ?? {});
      if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => i.message).join(' '));
      const refused = await checkStoreUrl(parsed.data.store_base_url, deps.policy);
      if (refused) throw new HttpError(403, refused);
      let outcome: CallbackOutcome;
      try {
        ({ outcome } = await deps.activation.receiveCallback({
          ...parsed.data,
          // Token URLs are built by appending to it.
          store_base_url: parsed.data.store_base_url.endsWith('/')
            ? parsed.data.store_base_url
            : `${parsed.data.store_base_url}/`,
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
      res.status(200).json({ status: 'accepted', outcome });
    },
  );
  return router;
}
