import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { pino } from 'pino';
import { AccountError } from '../../src/accounts/users.js';
import { CallbackError } from '../../src/activation/callback-route.js';
import { IdentityLinkError } from '../../src/activation/identity-routes.js';
import { AppError } from '../../src/errors.js';
import { MagentoNetworkError } from '../../src/magento/errors.js';
import { DecryptionError } from '../../src/storage/crypto.js';
import { NotFoundError } from '../../src/storage/types.js';
import { VIEWS_DIR } from '../../src/web/app.js';
import { ERROR_ANSWERS } from '../../src/web/error-answers.js';
import { errorHandler } from '../../src/web/http-error.js';

// Errors thrown by routes, as the layers below the web edge throw them: none names a status.
const THROWN: Record<string, () => Error> = {
  duplicate: () => new AccountError('duplicate', 'A user with this email already exists.'),
  'not-form': () => new CallbackError('callback_not_form', 'Send the callback form-encoded.'),
  waiting: () => new IdentityLinkError('identity_link_unknown', 'The store has not sent the credentials.'),
  'not-found': () => new NotFoundError('No integration with consumer key k3y0fs0me0ne0else0000000000000000.'),
  unreachable: () =>
    new MagentoNetworkError('Could not reach the store.', 'ECONNREFUSED', 'http://127.0.0.1:9'),
  decryption: () => new DecryptionError('The secret in /data/db.json does not decrypt with key ab12.'),
  unmapped: () => new AppError('no_such_code', 'internal detail 7f3a of the unmapped error'),
  bug: () => new Error('internal detail 9c1e at /srv/app/src/sync/run-sync.ts:42'),
};

describe('the web edge answers errors by their code', () => {
  let server: Server;
  let base: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.set('view engine', 'ejs');
    app.set('views', VIEWS_DIR);
    app.get('/api/throw/:name', (req) => {
      throw THROWN[req.params.name]!();
    });
    app.get('/page/throw/:name', async (req) => {
      throw THROWN[req.params.name]!();
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    app.use(errorHandler(pino(sink)));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const json = async (name: string) => {
    const res = await fetch(`${base}/api/throw/${name}`);
    return { status: res.status, body: (await res.json()) as { error: string } };
  };

  it('gives a domain error its mapped 4xx and its own sentence', async () => {
    expect(await json('duplicate')).toEqual({
      status: 409,
      body: { error: 'A user with this email already exists.' },
    });
    expect(await json('not-form')).toEqual({
      status: 415,
      body: { error: 'Send the callback form-encoded.' },
    });
  });

  it('renders a page with the mapped status and title for browsers', async () => {
    const res = await fetch(`${base}/page/throw/waiting`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    const page = await res.text();
    expect(page).toContain('<h1>Waiting for the store</h1>');
    expect(page).toContain('The store has not sent the credentials.');
  });

  it('answers in general terms where the domain message speaks of keys or files', async () => {
    const notFound = await json('not-found');
    expect(notFound.status).toBe(404);
    expect(notFound.body.error).not.toContain('k3y0f');
    const decryption = await json('decryption');
    expect(decryption.status).toBe(503);
    expect(decryption.body.error).not.toMatch(/db\.json|ab12/);
    // The operator still gets the details.
    expect(logs.join('')).toContain('/data/db.json');
  });

  it('answers a store that cannot be reached as a bad gateway, whatever the socket code', async () => {
    expect(await json('unreachable')).toEqual({ status: 502, body: { error: 'Could not reach the store.' } });
  });

  it('answers an unknown error with a plain 500 that shows nothing of it, and logs it', async () => {
    for (const name of ['bug', 'unmapped']) {
      const { status, body } = await json(name);
      expect(status).toBe(500);
      expect(body.error).toBe('Something went wrong on our side. The error has been logged.');
    }
    const page = await fetch(`${base}/page/throw/bug`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(500);
    expect(await page.text()).not.toMatch(/9c1e|run-sync/);
    expect(logs.join('')).toContain('9c1e');
    expect(logs.join('')).toContain('7f3a');
  });

  it('maps no known code to a 500', () => {
    const statuses = Object.entries(ERROR_ANSWERS).filter(([, answer]) => answer.status === 500);
    expect(statuses).toEqual([]);
  });
});
