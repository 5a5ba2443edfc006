import { STATUS_LABELS, type Consumer, type Integration } from '../state.js';

/** An integration as the admin API shows it (snake_case, like Magento's own JSON). */
export function integrationJson(integration: Integration, consumer: Consumer | undefined) {
  return {
    id: integration.id,
    name: integration.name,
    email: integration.email,
    endpoint_url: integration.endpointUrl,
    identity_link_url: integration.identityLinkUrl,
    status: integration.status,
    status_label: STATUS_LABELS[integration.status],
    setup_type: integration.setupType,
    all_resources: integration.allResources,
    resources: integration.resources,
    consumer_id: integration.consumerId,
    consumer_key: consumer?.key ?? null,
    consumer_secret: consumer?.secret ?? null,
    created_at: integration.createdAt.toISOString(),
    updated_at: integration.updatedAt.toISOString(),
  };
}
