import { magentoToken } from './ids.js';

/** Integration statuses as Magento stores them (Model/Integration.php). */
export const STATUS = { inactive: 0, active: 1, recreated: 2 } as const;
export type IntegrationStatus = (typeof STATUS)[keyof typeof STATUS];

export const STATUS_LABELS: Record<IntegrationStatus, string> = {
  0: 'Inactive',
  1: 'Active',
  2: 'Reset (reauthorize needed)',
};

export interface Integration {
  id: number;
  name: string;
  email: string;
  endpointUrl: string;
  identityLinkUrl: string;
  /** Granted ACL resource ids; ignored when `allResources` is set. */
  resources: string[];
  allResources: boolean;
  status: IntegrationStatus;
  setupType: 'manual' | 'config';
  consumerId: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface Consumer {
  id: number;
  key: string;
  secret: string;
  name: string;
  /** Refreshed by every callback POST; starts the 300 s request-token window (contract §3.4). */
  updatedAt: Date;
}

export type TokenType = 'verifier' | 'request' | 'access';

/** One oauth_token row: Magento rewrites the same row verifier → request → access. */
export interface TokenRow {
  id: number;
  consumerId: number;
  type: TokenType;
  token: string;
  secret: string;
  verifier: string;
  revoked: boolean;
  createdAt: Date;
}

export interface OauthLogEntry {
  at: string;
  endpoint: 'request_token' | 'access_token' | 'rest';
  method: string;
  url: string;
  consumerKey: string | null;
  nonce: string | null;
  signatureMethod: string | null;
  outcome: 'verified' | 'rejected';
  status: number;
  reason: string | null;
}

export interface NonceEntry {
  nonce: string;
  consumerId: number;
  timestamp: number;
  at: string;
}

const LOG_LIMIT = 10_000;

/** The simulator's in-memory database: integrations, consumers, tokens, nonces and a request log. */
export class SimulatorState {
  readonly integrations = new Map<number, Integration>();
  readonly consumers = new Map<number, Consumer>();
  readonly tokens = new Map<number, TokenRow>();
  /** Keyed by `${consumerId}:${nonce}`, the primary key of Magento's oauth_nonce table. */
  readonly nonces = new Map<string, NonceEntry>();
  readonly oauthLog: OauthLogEntry[] = [];
  private seq = { integration: 0, consumer: 0, token: 0 };
  /** Called for every verified or rejected OAuth request (the CLI logs rejections with their reason). */
  onLog?: (entry: OauthLogEntry) => void;

  constructor(readonly clock: () => Date = () => new Date()) {}

  nextIntegrationId(): number {
    return ++this.seq.integration;
  }

  createConsumer(name: string): Consumer {
    const consumer: Consumer = {
      id: ++this.seq.consumer,
      key: magentoToken(),
      secret: magentoToken(),
      name,
      updatedAt: this.clock(),
    };
    this.consumers.set(consumer.id, consumer);
    return consumer;
  }

  consumerByKey(key: string): Consumer | undefined {
    for (const c of this.consumers.values()) if (c.key === key) return c;
    return undefined;
  }

  integrationByConsumer(consumerId: number): Integration | undefined {
    for (const i of this.integrations.values()) if (i.consumerId === consumerId) return i;
    return undefined;
  }

  /** Token::loadByConsumerIdAndUserType: the consumer's (single) integration token row. */
  tokenByConsumer(consumerId: number): TokenRow | undefined {
    for (const t of this.tokens.values()) if (t.consumerId === consumerId) return t;
    return undefined;
  }

  tokenByValue(token: string): TokenRow | undefined {
    for (const t of this.tokens.values()) if (t.token === token) return t;
    return undefined;
  }

  createToken(consumerId: number, type: TokenType): TokenRow {
    const row: TokenRow = {
      id: ++this.seq.token,
      consumerId,
      type,
      token: magentoToken(),
      secret: magentoToken(),
      verifier: magentoToken(),
      revoked: false,
      createdAt: this.clock(),
    };
    this.tokens.set(row.id, row);
    return row;
  }

  deleteTokensOf(consumerId: number): void {
    for (const [id, t] of this.tokens) if (t.consumerId === consumerId) this.tokens.delete(id);
  }

  deleteNoncesOf(consumerId: number): void {
    for (const [k, n] of this.nonces) if (n.consumerId === consumerId) this.nonces.delete(k);
  }

  log(entry: Omit<OauthLogEntry, 'at'>): void {
    const full = { at: this.clock().toISOString(), ...entry };
    this.oauthLog.push(full);
    this.onLog?.(full);
    if (this.oauthLog.length > LOG_LIMIT) this.oauthLog.splice(0, this.oauthLog.length - LOG_LIMIT);
  }
}
