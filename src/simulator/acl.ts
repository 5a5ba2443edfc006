/**
 * A subset of Magento's ACL tree under Magento_Backend::admin, ids and titles as the modules'
 * etc/acl.xml declare them. Integrations pick from these; REST routes require them.
 */
export interface AclNode {
  id: string;
  title: string;
  children?: AclNode[];
}

const n = (id: string, title: string, children?: AclNode[]): AclNode =>
  children ? { id, title, children } : { id, title };

export const ACL_TREE: AclNode[] = [
  n('Magento_Backend::dashboard', 'Dashboard'),
  n('Magento_Analytics::analytics', 'Analytics', [n('Magento_Analytics::analytics_api', 'API')]),
  n('Magento_Sales::sales', 'Sales', [
    n('Magento_Sales::sales_operation', 'Operations', [
      n('Magento_Sales::sales_order', 'Orders', [
        n('Magento_Sales::actions', 'Actions', [
          n('Magento_Sales::create', 'Create'),
          n('Magento_Sales::actions_view', 'View'),
          n('Magento_Sales::email', 'Send Order Email'),
          n('Magento_Sales::reorder', 'Reorder'),
          n('Magento_Sales::actions_edit', 'Edit'),
          n('Magento_Sales::cancel', 'Cancel'),
          n('Magento_Sales::review_payment', 'Accept or Deny Payment'),
          n('Magento_Sales::capture', 'Capture'),
          n('Magento_Sales::invoice', 'Invoice'),
          n('Magento_Sales::creditmemo', 'Credit Memos'),
          n('Magento_Sales::hold', 'Hold'),
          n('Magento_Sales::unhold', 'Unhold'),
          n('Magento_Sales::ship', 'Ship'),
          n('Magento_Sales::comment', 'Comment'),
          n('Magento_Sales::emails', 'Send Sales Emails'),
        ]),
      ]),
      n('Magento_Sales::sales_invoice', 'Invoices'),
      n('Magento_Sales::shipment', 'Shipments'),
      n('Magento_Sales::sales_creditmemo', 'Credit Memos'),
      n('Magento_Sales::transactions', 'Transactions', [n('Magento_Sales::transactions_fetch', 'Fetch')]),
    ]),
  ]),
  n('Magento_Catalog::catalog', 'Catalog', [
    n('Magento_Catalog::catalog_inventory', 'Inventory', [
      n('Magento_Catalog::products', 'Products', [
        n('Magento_Catalog::update_attributes', 'Update attributes'),
        n('Magento_Catalog::edit_product_design', 'Edit Product Design'),
      ]),
      n('Magento_Catalog::categories', 'Categories', [
        n('Magento_Catalog::edit_category_design', 'Edit Category Design'),
      ]),
    ]),
  ]),
  n('Magento_Customer::customer', 'Customers', [
    n('Magento_Customer::manage', 'All Customers', [
      n('Magento_Customer::actions', 'Actions', [
        n('Magento_Customer::delete', 'Delete'),
        n('Magento_Customer::reset_password', 'Reset password'),
        n('Magento_Customer::invalidate_tokens', 'Invalidate tokens'),
      ]),
    ]),
    n('Magento_Customer::online', 'Now Online'),
    n('Magento_Customer::group', 'Customer Groups'),
  ]),
  n('Magento_Cart::cart', 'Carts', [n('Magento_Cart::manage', 'Manage carts')]),
  n('Magento_Backend::myaccount', 'My Account'),
  n('Magento_Backend::marketing', 'Marketing', [
    n('Magento_CatalogRule::promo', 'Promotions', [
      n('Magento_CatalogRule::promo_catalog', 'Catalog Price Rules'),
      n('Magento_SalesRule::quote', 'Cart Price Rules'),
    ]),
  ]),
  n('Magento_Backend::content', 'Content', [
    n('Magento_Backend::content_elements', 'Elements', [
      n('Magento_Cms::page', 'Pages', [
        n('Magento_Cms::save', 'Save Page'),
        n('Magento_Cms::page_delete', 'Delete Page'),
      ]),
      n('Magento_Cms::block', 'Blocks'),
      n('Magento_Cms::media_gallery', 'Media Gallery'),
    ]),
  ]),
  n('Magento_Reports::report', 'Reports'),
  n('Magento_Backend::stores', 'Stores', [
    n('Magento_Backend::stores_settings', 'Settings', [
      n('Magento_Backend::store', 'All Stores'),
      n('Magento_Config::config', 'Configuration'),
    ]),
    n('Magento_Backend::stores_attributes', 'Attributes', [
      n('Magento_Catalog::attributes_attributes', 'Product'),
      n('Magento_Catalog::sets', 'Attribute Set'),
    ]),
    n('Magento_Backend::stores_other_settings', 'Other Settings', [
      n('Magento_Tax::manage_tax', 'Tax Zones and Rates'),
    ]),
  ]),
  n('Magento_Backend::system', 'System', [
    n('Magento_Integration::extensions', 'Extensions', [
      n('Magento_Integration::integrations', 'Integrations'),
    ]),
    n('Magento_Backend::tools', 'Tools', [n('Magento_Backend::cache', 'Cache Management')]),
  ]),
];

/** Every resource id with its ancestors, root first. */
export const ACL_PARENTS: ReadonlyMap<string, string[]> = (() => {
  const map = new Map<string, string[]>();
  const walk = (nodes: AclNode[], ancestors: string[]) => {
    for (const node of nodes) {
      map.set(node.id, ancestors);
      if (node.children) walk(node.children, [...ancestors, node.id]);
    }
  };
  walk(ACL_TREE, []);
  return map;
})();

export function isKnownResource(id: string): boolean {
  return ACL_PARENTS.has(id);
}

/** Adds every ancestor, as Magento's consolidated converter does for integration.xml. */
export function withParents(ids: string[]): string[] {
  const out = new Set<string>();
  for (const id of ids) {
    for (const parent of ACL_PARENTS.get(id) ?? []) out.add(parent);
    out.add(id);
  }
  return [...out];
}
