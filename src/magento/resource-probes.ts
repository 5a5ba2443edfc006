/**
 * Magento has no API that lists an integration's own ACL grants, so callers ask one cheap
 * question per common resource and see which are answered.
 */
export const RESOURCE_PROBES = [
  { resource: 'Magento_Backend::stores', label: 'Stores', path: 'V1/store/storeConfigs', paged: false },
  { resource: 'Magento_Catalog::products', label: 'Products', path: 'V1/products', paged: true },
  { resource: 'Magento_Sales::actions_view', label: 'Orders', path: 'V1/orders', paged: true },
  { resource: 'Magento_Customer::customer', label: 'Customers', path: 'V1/customers/search', paged: true },
  {
    resource: 'Magento_Customer::group',
    label: 'Customer groups',
    path: 'V1/customerGroups/search',
    paged: true,
  },
  { resource: 'Magento_Sales::shipment', label: 'Shipments', path: 'V1/shipments', paged: true },
  { resource: 'Magento_Catalog::categories', label: 'Categories', path: 'V1/categories/list', paged: true },
  {
    resource: 'Magento_InventoryApi::source',
    label: 'Stock (source items)',
    path: 'V1/inventory/source-items',
    paged: true,
  },
] as const;

/** The one 401 Magento gives for every ACL refusal (contract §5.3). */
export const ACL_REFUSED = "The consumer isn't authorized to access %resources.";
