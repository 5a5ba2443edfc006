import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';

export const faultRule = z
  .object({
    /** Path prefix the rule applies to (`/rest/`, `/oauth/token/request`, `/` for everything). */
    route: z.string().startsWith('/', 'route must start with /').default('/'),
    latencyMs: z.number().int().min(0).max(60_000).default(0),
    /** Share of requests answered 503. */
    errorRate: z.number().min(0).max(1).default(0),
    /** Share of requests answered 429 with Retry-After. */
    rateLimitRate: z.number().min(0).max(1).default(0),
    retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
    /** Share of connections closed without an answer. */
    dropRate: z.number().min(0).max(1).default(0),
    /** Share of requests refused with a 401 carrying `oauthProblem`, as the store refuses a token request. */
    refuseRate: z.number().min(0).max(1).default(0),
    oauthProblem: z.string().min(1).max(200).default('Consumer key has expired'),
  })
  .strict()
  .refine(
    (r) => r.errorRate + r.rateLimitRate + r.dropRate + r.refuseRate <= 1,
    'errorRate + rateLimitRate + dropRate + refuseRate must not exceed 1',
  );

export const faultConfig = z.object({ rules: z.array(faultRule).max(50) }).strict();
export type FaultRule = z.infer<typeof faultRule>;
export type FaultRuleInput = z.input<typeof faultRule>;

export interface FaultCounters {
  requests: number;
  delayed: number;
  errors503: number;
  errors429: number;
  dropped: number;
  refused: number;
}

/**
 * Fault injection for tests and demos. The first rule whose prefix matches a path applies;
 * admin routes are never affected so faults can always be switched off again.
 */
export class Faults {
  private rules: FaultRule[] = [];
  readonly counters: FaultCounters = {
    requests: 0,
    delayed: 0,
    errors503: 0,
    errors429: 0,
    dropped: 0,
    refused: 0,
  };

  constructor(private readonly random: () => number = Math.random) {}

  set(rules: unknown): FaultRule[] {
    this.rules = faultConfig.parse({ rules }).rules;
    return this.rules;
  }

  list(): FaultRule[] {
    return this.rules;
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const rule = this.rules.find((r) => req.path.startsWith(r.route));
      if (!rule || req.path.startsWith('/admin')) return next();
      this.counters.requests++;
      const roll = this.random();
      const act = () => {
        if (roll < rule.dropRate) {
          this.counters.dropped++;
          req.socket.destroy();
        } else if (roll < rule.dropRate + rule.errorRate) {
          this.counters.errors503++;
          res.status(503).json({ message: 'Service Unavailable (injected fault)' });
        } else if (roll < rule.dropRate + rule.errorRate + rule.rateLimitRate) {
          this.counters.errors429++;
          res.set('Retry-After', String(rule.retryAfterSeconds));
          res.status(429).json({ message: 'Too Many Requests (injected fault)' });
        } else if (roll < rule.dropRate + rule.errorRate + rule.rateLimitRate + rule.refuseRate) {
          this.counters.refused++;
          refuse(req, res, rule.oauthProblem);
        } else next();
      };
      if (rule.latencyMs > 0) {
        this.counters.delayed++;
        setTimeout(act, rule.latencyMs);
      } else act();
    };
  }
}

/** A refusal shaped like the store's own: `oauth_problem=…` on token endpoints, JSON on REST. */
function refuse(req: Request, res: Response, problem: string): void {
  if (req.path.startsWith('/oauth/')) {
    res
      .status(401)
      .type('text/html; charset=UTF-8')
      .send(`oauth_problem=${encodeURIComponent(problem).replace(/%20/g, '+')}`);
  } else {
    res.status(401).json({ message: problem });
  }
}
