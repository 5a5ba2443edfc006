import got, { RequestError } from 'got';
import { z } from 'zod';
import { isKnownResource } from './acl.js';
import { AdminError, type ActivationStep } from './admin-error.js';
import type { DeclaredIntegration } from './import-xml.js';
import { STATUS, type Consumer, type Integration, type SimulatorState } from './state.js';

export const integrationInput = z
  .object({
    name: z.string().trim().min(2, 'name must be at least 2 characters').max(255),
    email: z.union([z.literal(''), z.email('email must be a valid address')]).default(''),
    endpoint_url: z.union([z.literal(''), httpUrl('endpoint_url')]).default(''),
    identity_link_url: z.union([z.literal(''), httpUrl('identity_link_url')]).default(''),
    resources: z.array(z.string()).default([]),
    all_resources: z.boolean().default(false),
    setup_type: z.enum(['manual', 'config']).default('manual'),
  })
  .strict();

export type IntegrationInput = z.input<typeof integrationInput>;

function httpUrl(field: string) {
  return z.url({ protocol: /^https?$/, message: `${field} must be an http(s) URL` });
}

export interface ActivationResult {
  flow: 'exchange' | 'tokens';
  steps: ActivationStep[];
  /** Exchange flow: what the admin page opens (TokensExchange JSON plus the built URL). */
  popup?: {
    identity_link_url: string;
    oauth_consumer_key: string;
    success_call_back: string;
    popup_content: string;
    url: string;
  };
  /** Manual flow: the four credentials shown in the admin. */
  credentials?: {
    consumer_key: string;
    consumer_secret: string;
    access_token: string;
    access_token_secret: string;
  };
}

export interface IntegrationServiceOptions {
  storeBaseUrl: () => string;
  callbackTimeoutMs: number;
  /** Adobe Commerce as a Cloud Service: integrations exist in the admin but issue no tokens. */
  saas?: boolean;
}

/** What System > Extensions > Integrations does, operation by operation (contract §1, §2, §5.4). */
export class IntegrationService {
  constructor(
    private readonly state: SimulatorState,
    private readonly options: IntegrationServiceOptions,
  ) {}

  list(): Integration[] {
    return [...this.state.integrations.values()];
  }

  get(id: number): Integration {
    const integration = this.state.integrations.get(id);
    if (!integration) throw new AdminError(`Integration ${id} does not exist.`, 404);
    return integration;
  }

  consumerOf(integration: Integration): Consumer {
    const consumer = this.state.consumers.get(integration.consumerId);
    if (!consumer) throw new AdminError(`Integration ${integration.id} has no consumer.`, 500);
    return consumer;
  }

  create(raw: unknown): { integration: Integration; consumer: Consumer } {
    const parsed = integrationInput.safeParse(raw);
    if (!parsed.success) {
      throw new AdminError(parsed.error.issues.map((i) => i.message).join('; '), 400);
    }
    const input = parsed.data;
    const unknown = input.resources.filter((r) => !isKnownResource(r));
    if (unknown.length) throw new AdminError(`Unknown ACL resource: ${unknown.join(', ')}.`, 400);
    if (this.list().some((i) => i.name === input.name)) {
      throw new AdminError(`Integration with name '${input.name}' exists.`, 409);
    }
    return this.store({
      name: input.name,
      email: input.email,
      endpointUrl: input.endpoint_url,
      identityLinkUrl: input.identity_link_url,
      resources: [...new Set(input.resources)],
      allResources: input.all_resources,
      status: STATUS.inactive,
      setupType: input.setup_type,
    });
  }

  /** Saves an integration under a new id with a new consumer (new key and secret). */
  private store(fields: Omit<Integration, 'id' | 'consumerId' | 'createdAt' | 'updatedAt'>) {
    const consumer = this.state.createConsumer(`Integration${this.state.consumers.size + 1}`);
    const now = this.state.clock();
    const integration: Integration = {
      ...fields,
      id: this.state.nextIntegrationId(),
      consumerId: consumer.id,
      createdAt: now,
      updatedAt: now,
    };
    this.state.integrations.set(integration.id, integration);
    return { integration, consumer };
  }

  isTokenExchange(integration: Integration): boolean {
    return integration.endpointUrl !== '' && integration.identityLinkUrl !== '';
  }

  /** Activate (or Reauthorize, when `reauthorize`), as TokensExchange / TokensDialog do. */
  async activate(id: number, reauthorize = false): Promise<ActivationResult> {
    const integration = this.get(id);
    if (this.options.saas) {
      throw new AdminError(
        'Integration tokens are not supported in Adobe Commerce as a Cloud Service: create an OAuth ' +
          'Server-to-Server credential in the Adobe Developer Console and call the REST API with IMS tokens.',
        400,
      );
    }
    const consumer = this.consumerOf(integration);
    const steps: ActivationStep[] = [];
    const step = (name: ActivationStep['step'], detail: string, ok = true) =>
      steps.push({ step: name, at: this.state.clock().toISOString(), detail, ok });

    if (!this.isTokenExchange(integration)) {
      // OauthService::createAccessToken: all tokens issued server-side; the endpoint is never called.
      this.state.deleteTokensOf(consumer.id);
      const token = this.state.createToken(consumer.id, 'access');
      integration.status = STATUS.active;
      step('tokens_issued', 'Access token issued directly (no identity link: manual integration).');
      return {
        flow: 'tokens',
        steps,
        credentials: {
          consumer_key: consumer.key,
          consumer_secret: consumer.secret,
          access_token: token.token,
          access_token_secret: token.secret,
        },
      };
    }

    if (reauthorize) {
      this.state.deleteTokensOf(consumer.id);
      integration.status = STATUS.inactive;
      step('reauthorize', 'Existing access token deleted; integration set to Inactive.');
    }
    consumer.updatedAt = this.state.clock();
    step('consumer_updated', 'Consumer updated_at refreshed: the request-token window starts now.');
    const verifier = this.createVerifierToken(consumer.id);
    step('verifier', 'Verifier issued.');
    await this.postToConsumer(integration, consumer, verifier, steps);

    const success = `${this.options.storeBaseUrl()}admin/admin/integration/loginSuccessCallback/`;
    const query = jqueryParam({ oauth_consumer_key: consumer.key, success_call_back: success });
    const popup = {
      identity_link_url: integration.identityLinkUrl,
      oauth_consumer_key: consumer.key,
      success_call_back: success,
      popup_content: `Integration '${integration.name}' has been sent for ${reauthorize ? 're-authorization' : 'activation'}.`,
      // Magento appends `?` unconditionally, even when the link already has a query (contract §2.1).
      url: `${integration.identityLinkUrl}?${query}`,
    };
    step('popup', `Identity link opened: ${popup.url}`);
    return { flow: 'exchange', steps, popup };
  }

  /** Token::createVerifierToken: reuse a verifier row if one exists, otherwise create one. */
  private createVerifierToken(consumerId: number): string {
    const existing = this.state.tokenByConsumer(consumerId);
    if (existing?.type === 'verifier') return existing.verifier;
    if (existing) this.state.deleteTokensOf(consumerId);
    return this.state.createToken(consumerId, 'verifier').verifier;
  }

  /** OauthService::postToConsumer: form POST, 5 s total, no redirects, answer ignored. */
  private async postToConsumer(
    integration: Integration,
    consumer: Consumer,
    verifier: string,
    steps: ActivationStep[],
  ) {
    const started = Date.now();
    try {
      const res = await got.post(integration.endpointUrl, {
        form: {
          oauth_consumer_key: consumer.key,
          oauth_consumer_secret: consumer.secret,
          store_base_url: this.options.storeBaseUrl(),
          oauth_verifier: verifier,
        },
        headers: { 'user-agent': 'Laminas\\Http\\Client' },
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: { request: this.options.callbackTimeoutMs },
      });
      steps.push({
        step: 'callback_post',
        at: this.state.clock().toISOString(),
        detail: `POST ${integration.endpointUrl} answered ${res.statusCode} in ${Date.now() - started} ms (status ignored, as Magento does).`,
        ok: true,
      });
    } catch (error) {
      const cause = error instanceof RequestError ? `${error.code}: ${error.message}` : String(error);
      steps.push({
        step: 'callback_post',
        at: this.state.clock().toISOString(),
        detail: `POST ${integration.endpointUrl} failed after ${Date.now() - started} ms (${cause}).`,
        ok: false,
      });
      throw new AdminError(
        'The attempt to post data to consumer failed due to an unexpected error. Please try again later.',
        502,
        steps,
      );
    }
  }

  /**
   * A config-based integration whose declaration changed: Magento deletes and re-creates it with a
   * new id, a new consumer and status "Reset" (contract §5.4, §7.2). Old tokens stop working.
   */
  reset(id: number): { integration: Integration; consumer: Consumer } {
    const old = this.get(id);
    // The old consumer and its tokens stay, but no Active integration references them any more.
    this.state.integrations.delete(id);
    const { id: _id, consumerId: _c, createdAt: _a, updatedAt: _u, ...fields } = old;
    return this.store({ ...fields, status: STATUS.recreated });
  }

  /**
   * `setup:upgrade` with a module's declaration. Consolidated (processConfigBasedIntegrations):
   * create, or delete and re-create with new credentials and status "Reset" when anything changed.
   * Legacy (processIntegrationConfig): create or update in place, never re-create (contract §7.2).
   */
  importDeclared(
    declared: DeclaredIntegration[],
    mode: 'consolidated' | 'legacy',
  ): {
    id: number;
    name: string;
    action: 'created' | 'unchanged' | 'updated' | 'recreated';
    dropped: string[];
  }[] {
    return declared.map((d) => {
      const fields = {
        email: d.email,
        endpointUrl: d.endpointUrl,
        identityLinkUrl: d.identityLinkUrl,
        resources: d.resources,
        allResources: false,
        setupType: 'config' as const,
      };
      const existing = this.list().find((i) => i.name === d.name);
      if (!existing) {
        const { integration } = this.create({
          name: d.name,
          email: d.email,
          endpoint_url: d.endpointUrl,
          identity_link_url: d.identityLinkUrl,
          resources: d.resources,
          setup_type: 'config',
        });
        return { id: integration.id, name: d.name, action: 'created', dropped: d.dropped };
      }
      const changed =
        existing.email !== fields.email ||
        existing.endpointUrl !== fields.endpointUrl ||
        existing.identityLinkUrl !== fields.identityLinkUrl ||
        existing.setupType !== 'config' ||
        existing.allResources ||
        [...existing.resources].sort().join() !== [...fields.resources].sort().join();
      if (!changed) return { id: existing.id, name: d.name, action: 'unchanged', dropped: d.dropped };
      if (mode === 'legacy') {
        Object.assign(existing, fields, { updatedAt: this.state.clock() });
        return { id: existing.id, name: d.name, action: 'updated', dropped: d.dropped };
      }
      this.state.integrations.delete(existing.id);
      const { integration } = this.store({ ...fields, name: d.name, status: STATUS.recreated });
      return { id: integration.id, name: d.name, action: 'recreated', dropped: d.dropped };
    });
  }

  delete(id: number): void {
    const integration = this.get(id);
    if (integration.setupType === 'config') {
      throw new AdminError(`Uninstall the extension to remove integration '${integration.name}'.`, 409);
    }
    this.state.integrations.delete(id);
    // Consumer::_afterDelete drops the consumer's nonces and tokens: all four credentials die.
    this.state.deleteTokensOf(integration.consumerId);
    this.state.deleteNoncesOf(integration.consumerId);
    this.state.consumers.delete(integration.consumerId);
  }

  /** Controller\Token\Access: the integration turns Active once its access token is issued. */
  markActive(consumerId: number): void {
    const integration = this.state.integrationByConsumer(consumerId);
    if (integration) {
      integration.status = STATUS.active;
      integration.updatedAt = this.state.clock();
    }
  }
}

/** jQuery $.param: encodeURIComponent with spaces as `+`. */
export function jqueryParam(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`.replace(/%20/g, '+'))
    .join('&');
}
