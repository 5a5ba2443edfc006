/**
 * Magento's partial responses: `?fields=items[id,sku],total_count` keeps only those keys of the answer
 * (Magento\Framework\Webapi\Rest\Response\FieldsFilter, applied after the service output is built).
 * Written from that class's behaviour:
 * - only letters, digits, `_`, `[`, `]` and `,` are allowed; anything else, or unbalanced brackets,
 *   makes the whole answer `[]` (the filter says "empty array if invalid filter criteria");
 * - a list is filtered item by item; an object keeps the named keys in its own order, and a key named
 *   with a sub-list (`region[code]`) is filtered again below it;
 * - an object left with no keys is PHP's empty array, so it is written `[]`; an empty list filtered
 *   comes out as null, which Magento writes (`{"items":null,"total_count":0}`), as it drops nulls
 *   only before the filter.
 * An empty `fields` (or `0`, which PHP reads as false) means no filtering.
 */

export interface FieldTree {
  [name: string]: FieldTree | true;
}

const ALLOWED = /^[A-Za-z0-9_[\],]+$/;

/** The filter as a tree, or null when Magento would find it invalid. */
export function parseFieldsFilter(filter: string): FieldTree | null {
  if (!ALLOWED.test(filter)) return null;
  let current: FieldTree = {};
  const stack: FieldTree[] = [];
  const parents: string[] = [];
  let start: number | null = null;
  let element = '';
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i] as string;
    if (c === '[' || c === ']' || c === ',') {
      if (start !== null) {
        element = filter.slice(start, i);
        current[element] = true;
      }
      start = null;
    }
    if (c === '[') {
      parents.push(element);
      stack.push(current);
      current = {};
    } else if (c === ']') {
      const parent = stack.pop();
      // A `]` without its `[`: PHP would index null; treat it as the invalid filter it is.
      if (parent === undefined) return null;
      parent[parents.pop() as string] = current;
      current = parent;
    } else if (c !== ',' && start === null) {
      start = i;
    }
  }
  if (stack.length > 0) return null;
  if (start !== null) current[filter.slice(start)] = true;
  return current;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function intersect(item: Record<string, unknown>, filter: FieldTree): unknown {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(item)) {
    const rule = Object.hasOwn(filter, key) ? filter[key] : undefined;
    if (rule === undefined) continue;
    out[key] = isObject(value) && rule !== true ? applyTree(value, rule) : value;
    kept++;
  }
  return kept === 0 ? [] : out;
}

function applyTree(value: Record<string, unknown> | unknown[], filter: FieldTree): unknown {
  if (!Array.isArray(value) && Object.keys(value).length > 0) return intersect(value, filter);
  // PHP sees an empty array as a list, and filtering an empty list leaves its result unset: null.
  const list = Array.isArray(value) ? value : [];
  if (list.length === 0) return null;
  return list.map((item) => (isObject(item) ? intersect(item, filter) : item));
}

/** The answer as Magento sends it for this `fields` parameter (undefined: no filtering). */
export function applyFieldsFilter(answer: unknown, fields: string | undefined): unknown {
  if (fields === undefined || fields === '' || fields === '0' || !isObject(answer)) return answer;
  const tree = parseFieldsFilter(fields);
  return tree === null ? [] : applyTree(answer, tree);
}
