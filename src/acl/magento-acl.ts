import tree from './magento-acl.json' with { type: 'json' };

/**
 * A subset of Magento's ACL tree under Magento_Backend::admin, ids and titles as the modules'
 * etc/acl.xml declare them. Integrations pick from these; REST routes require them.
 */
export interface AclNode {
  id: string;
  title: string;
  children?: AclNode[];
}

/** Built from the modules' etc/acl.xml; edit the JSON to add resources. */
export const ACL_TREE: AclNode[] = tree;

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

/** The known ids closest to an unknown one (edit distance, ties by name), for "did you mean". */
export function nearestResources(id: string, count = 3): string[] {
  return [...ACL_PARENTS.keys()]
    .map((known) => ({ known, d: distance(id.toLowerCase(), known.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.known.localeCompare(b.known))
    .slice(0, count)
    .map((x) => x.known);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}
