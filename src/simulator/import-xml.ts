import { XMLParser } from 'fast-xml-parser';
import { isKnownResource, withParents } from './acl.js';
import { AdminError } from './admin-error.js';

export interface DeclaredIntegration {
  name: string;
  email: string;
  endpointUrl: string;
  identityLinkUrl: string;
  resources: string[];
  /** Ids not in the ACL tree: Magento drops them silently; the admin API reports them. */
  dropped: string[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => name === 'integration' || name === 'resource',
  trimValues: true,
});

function parse(xml: string, label: string): Record<string, unknown> {
  try {
    return parser.parse(xml, true) as Record<string, unknown>;
  } catch (error) {
    throw new AdminError(`${label} is not well-formed XML: ${(error as Error).message}`, 400);
  }
}

type Node = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const resourceIds = (node: unknown) =>
  ((node as Node | undefined)?.resource as Node[] | undefined)
    ?.map((r) => text(r['@name']))
    .filter(Boolean) ?? [];

/**
 * etc/integration.xml (Consolidated\Converter): every declared resource gets its ancestors, and
 * ids outside the ACL tree are dropped (contract §7.3).
 */
export function parseIntegrationXml(xml: string): DeclaredIntegration[] {
  const root = parse(xml, 'integration.xml').config as Node | undefined;
  const list = (root?.integration as Node[] | undefined) ?? [];
  if (list.length === 0) throw new AdminError('integration.xml has no <config><integration> element.', 400);
  return list.map((node) => {
    const declared = resourceIds(node.resources);
    return {
      ...base(node),
      resources: withParents(declared.filter(isKnownResource)),
      dropped: declared.filter((id) => !isKnownResource(id)),
    };
  });
}

/** The legacy pair: config.xml for the fields, api.xml for resources, copied verbatim (no parents). */
export function parseLegacyXml(configXml: string, apiXml: string): DeclaredIntegration[] {
  const configs =
    ((parse(configXml, 'config.xml').integrations as Node | undefined)?.integration as Node[]) ?? [];
  const apis = ((parse(apiXml, 'api.xml').integrations as Node | undefined)?.integration as Node[]) ?? [];
  if (configs.length === 0)
    throw new AdminError('config.xml has no <integrations><integration> element.', 400);
  return configs.map((node) => {
    const fields = base(node);
    const api = apis.find((a) => text(a['@name']) === fields.name);
    // A name mismatch between the two files is a classic mistake: the integration gets no resources.
    const declared = api ? resourceIds(api.resources) : [];
    return {
      ...fields,
      resources: declared.filter(isKnownResource),
      dropped: declared.filter((id) => !isKnownResource(id)),
    };
  });
}

function base(node: Node): Omit<DeclaredIntegration, 'resources' | 'dropped'> {
  const name = text(node['@name']);
  if (name.length < 2)
    throw new AdminError('Every <integration> needs a name of at least 2 characters.', 400);
  return {
    name,
    email: text(node.email),
    endpointUrl: text(node.endpoint_url),
    identityLinkUrl: text(node.identity_link_url),
  };
}
