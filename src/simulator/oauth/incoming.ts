import type { Request } from 'express';
import { collectRequestView } from './request-params.js';
import type { SignatureProfile } from './profile.js';
import type { IncomingOauthRequest } from './provider.js';

/** The raw body, kept as text: form bodies are signed, and PHP parses them itself. */
export function rawBodyText(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
}

/** Builds the provider's view of an express request: scheme + Host header + path as sent. */
export function toIncoming(req: Request, profile: SignatureProfile): IncomingOauthRequest {
  const original = req.originalUrl;
  const q = original.indexOf('?');
  return {
    method: req.method,
    scheme: req.protocol,
    host: req.headers.host ?? '',
    rawPath: q < 0 ? original : original.slice(0, q),
    view: collectRequestView({
      authorization: req.headers.authorization,
      rawQuery: q < 0 ? '' : original.slice(q + 1),
      contentType: req.headers['content-type'],
      rawBody: rawBodyText(req),
      profile,
    }),
  };
}
