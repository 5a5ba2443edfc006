import type { MagentoClient } from '../../magento/client.js';
import type { ChannelType, Transport } from '../types.js';
import { categoriesConnector } from './categories.js';
import { customersConnector, ordersConnector, productsConnector } from './connectors.js';
import { customerGroupsConnector } from './customer-groups.js';
import { shipmentsConnector } from './shipments.js';
import { stockConnector } from './stock.js';

/** The Magento transport: the signed client of one linked store. */
export function magentoTransport(storeKey: string, client: MagentoClient): Transport {
  return {
    storeKey,
    settings: { channel: 'magento2', store: client.url('V1/', []), signing: JSON.stringify(client.signing) },
    async test() {
      const started = performance.now();
      await client.get('V1/store/storeConfigs');
      return {
        ok: true,
        detail: `GET V1/store/storeConfigs in ${Math.round(performance.now() - started)} ms`,
      };
    },
    get: (path, query) => client.get(path, { searchParams: query }),
    put: (path, body) => client.put(path, body),
  };
}

export const magento2Channel: ChannelType = {
  type: 'magento2',
  label: 'Magento 2 / Adobe Commerce',
  connectors: [
    productsConnector,
    customersConnector,
    ordersConnector,
    customerGroupsConnector,
    shipmentsConnector,
    categoriesConnector,
    stockConnector,
  ],
};

/** Every entity the Magento channel syncs, in the order the dashboard shows them. */
export const MAGENTO2_ENTITIES: readonly string[] = magento2Channel.connectors.map((c) => c.entity);
