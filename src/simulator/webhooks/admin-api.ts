import express, { type Router } from 'express';
import { z } from 'zod';
import type { SimClock } from '../clock.js';
import { AdminError } from '../admin-error.js';
import { SIM_WEBHOOK_EVENTS, type WebhookSender } from './webhook-sender.js';

const METHODS = Object.values(SIM_WEBHOOK_EVENTS).flatMap((e) => [
  e.saved,
  ...(e.deleted ? [e.deleted] : []),
]);
const rate = z.number().min(0).max(1);

/**
 * `/admin/api/webhooks`: the store's public key, subscriptions (as `POST /V1/webhooks/subscribe` takes
 * them on Commerce as a Cloud Service) and the misbehaviour of the sender.
 */
export function webhookAdminApi(webhooks: WebhookSender, clock: SimClock): Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.json({
      public_key: webhooks.publicKeyPem,
      signature_header: 'x-adobe-commerce-webhook-signature',
      subscriptions: webhooks.subscriptions,
      faults: webhooks.faults,
      events: METHODS,
    });
  });
  router.post('/subscriptions', (req, res) => {
    const body = z
      .object({
        url: z.url({ protocol: /^https?$/ }).max(2048),
        events: z.array(z.enum(METHODS as [string, ...string[]])).default([]),
      })
      .strict()
      .parse(req.body);
    res.status(201).json(webhooks.subscribe(body.url, body.events, clock.now()));
  });
  router.delete('/subscriptions/:id', (req, res) => {
    if (!webhooks.unsubscribe(Number(req.params.id)))
      throw new AdminError(`Webhook subscription ${String(req.params.id)} does not exist.`, 404);
    res.status(204).end();
  });
  router.put('/faults', (req, res) => {
    const body = z
      .object({ bad_signature: rate, duplicate: rate, out_of_order: rate })
      .partial()
      .strict()
      .parse(req.body);
    res.json(webhooks.setFaults(body));
  });
  router.get('/deliveries', (req, res) => {
    const since = z.coerce
      .number()
      .int()
      .min(0)
      .default(0)
      .parse(req.query.since_id ?? 0);
    res.json(webhooks.deliveries(since));
  });
  router.post('/idle', async (_req, res) => {
    await webhooks.idle();
    res.json({ idle: true });
  });
  return router;
}
