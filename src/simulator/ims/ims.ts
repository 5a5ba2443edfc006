import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { magentoToken } from '../ids.js';

/**
 * A local stand-in for Adobe IMS's token endpoint (`POST /ims/token/v3`), enough for the OAuth
 * Server-to-Server credential of an Adobe Commerce as a Cloud Service instance: client credentials
 * in, `{access_token, token_type, expires_in}` out, tokens that expire on the simulator's clock.
 * Error bodies follow IMS's `{error, error_description}`; the exact statuses of the live service are
 * not confirmed (400 for an unknown client or scope, 401 for a wrong secret here).
 */

export const COMMERCE_SCOPE = 'commerce.accs';

const REQUEST_LOG_LIMIT = 10_000;

export interface ImsClient {
  clientId: string;
  clientSecret: string;
  createdAt: Date;
  tokensIssued: number;
}

export interface IssuedToken {
  clientId: string;
  expiresAt: number;
}

export class ImsProblem extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export class ImsService {
  readonly clients = new Map<string, ImsClient>();
  /** Tokens issued and not yet expired or revoked (inspection, tests). */
  readonly tokens = new Map<string, IssuedToken>();
  /** Every token request, answered or refused (tests count refreshes with it). */
  readonly requests: { at: string; clientId: string | null; status: number; error: string | null }[] = [];

  constructor(
    private readonly clock: () => Date,
    /** Seconds a token lives; read on every issue, so a test can shorten it at run time. */
    public tokenSeconds = 86_400,
  ) {}

  logRequest(clientId: string | null, status: number, error: string | null): void {
    this.requests.push({ at: this.clock().toISOString(), clientId, status, error });
    if (this.requests.length > REQUEST_LOG_LIMIT)
      this.requests.splice(0, this.requests.length - REQUEST_LOG_LIMIT);
  }

  /** Registers a client (the Developer Console's OAuth Server-to-Server credential); generated values when absent. */
  register(clientId?: string, clientSecret?: string): ImsClient {
    const id = clientId ?? randomBytes(16).toString('hex');
    if (this.clients.has(id)) throw new ImsProblem(409, 'client_exists', `A client ${id} exists.`);
    const client: ImsClient = {
      clientId: id,
      clientSecret: clientSecret ?? `p8e-${magentoToken(28)}`,
      createdAt: this.clock(),
      tokensIssued: 0,
    };
    this.clients.set(id, client);
    return client;
  }

  remove(clientId: string): boolean {
    for (const [token, issued] of this.tokens) if (issued.clientId === clientId) this.tokens.delete(token);
    return this.clients.delete(clientId);
  }

  /** Withdraws every token issued so far (a key rotation at IMS): clients must fetch new ones. */
  revokeAll(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  issue(form: Record<string, string | undefined>): {
    access_token: string;
    token_type: 'bearer';
    expires_in: number;
  } {
    if (form.grant_type !== 'client_credentials') {
      throw new ImsProblem(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    const client = form.client_id ? this.clients.get(form.client_id) : undefined;
    if (!client) throw new ImsProblem(400, 'invalid_client', 'invalid client_id parameter');
    if (!form.client_secret || !sameText(form.client_secret, client.clientSecret)) {
      throw new ImsProblem(401, 'invalid_client', 'invalid client_secret parameter');
    }
    const scopes = (form.scope ?? '').split(',').map((s) => s.trim());
    if (!scopes.includes(COMMERCE_SCOPE)) {
      throw new ImsProblem(400, 'invalid_scope', `invalid scope: the scopes must include ${COMMERCE_SCOPE}`);
    }
    const token = randomBytes(48).toString('base64url');
    this.tokens.set(token, {
      clientId: client.clientId,
      expiresAt: this.clock().getTime() + this.tokenSeconds * 1000,
    });
    client.tokensIssued++;
    return { access_token: token, token_type: 'bearer', expires_in: this.tokenSeconds };
  }

  /** The client a Bearer token belongs to, while it has not expired and its client exists. */
  verify(token: string): ImsClient | undefined {
    const issued = this.tokens.get(token);
    if (!issued) return undefined;
    if (this.clock().getTime() >= issued.expiresAt) {
      this.tokens.delete(token);
      return undefined;
    }
    return this.clients.get(issued.clientId);
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `POST /ims/token/v3`: a form body, as IMS takes it. */
export function imsTokenRoutes(ims: ImsService): Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '20kb' }));
  router.post('/token/v3', (req: Request, res: Response) => {
    const body = (req.is('application/x-www-form-urlencoded') ? req.body : {}) as Record<string, string>;
    const clientId = typeof body.client_id === 'string' ? body.client_id : null;
    try {
      const answer = ims.issue(body);
      ims.logRequest(clientId, 200, null);
      res.set('Cache-Control', 'no-store').json(answer);
    } catch (error) {
      if (!(error instanceof ImsProblem)) throw error;
      ims.logRequest(clientId, error.status, error.error);
      res.status(error.status).json({ error: error.error, error_description: error.description });
    }
  });
  router.all('/token/v3', (_req, res) => {
    res.status(405).json({ error: 'method_not_allowed', error_description: 'POST a form to this endpoint' });
  });
  return router;
}
