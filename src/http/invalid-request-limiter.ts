/**
 * src/http/ holds express middleware that any route may mount, whatever layer it lives in (the
 * activation callback, the webhook receiver, the dashboard): plain HTTP concerns with no knowledge of
 * the app, its sessions or its pages. It imports nothing from the connector's features or from web/.
 */
import type { NextFunction, Request, Response } from 'express';
import ipaddr from 'ipaddr.js';

export interface InvalidRequestLimit {
  /** Invalid requests (4xx) a client may send per window before all its requests are refused. */
  max: number;
  windowMs: number;
}

export const DEFAULT_INVALID_REQUEST_LIMIT: InvalidRequestLimit = { max: 30, windowMs: 15 * 60_000 };
// Bounds the memory one flood of spoofed or rotating addresses can take.
const MAX_CLIENTS = 50_000;

/**
 * Who a client is for counting: an IPv4 address, or an IPv6 /56, since one IPv6 client can use
 * every address of its prefix (the same default as express-rate-limit).
 */
export function clientKey(ip: string): string {
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
 * Counts invalid requests per client (req.ip, which honours TRUST_PROXY) for server-to-server routes
 * (a store's callback, its webhooks). A store does not show our answer to anyone, so a 429 to a
 * genuine request would be lost without anyone seeing: valid requests are never counted, and only a
 * client that keeps sending invalid ones (4xx) is refused. `what` names them in the 429's sentence.
 */
export function invalidRequestLimiter(limit: InvalidRequestLimit, what: string) {
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
    const ip = clientKey(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    const now = Date.now();
    const entry = clients.get(ip);
    if (entry && entry.resetAt > now && entry.count >= limit.max) {
      res.setHeader('retry-after', String(Math.ceil((entry.resetAt - now) / 1000)));
      res.status(429).json({
        error: `Too many invalid ${what} from this address; try again in ${Math.ceil((entry.resetAt - now) / 60_000)} minutes.`,
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
