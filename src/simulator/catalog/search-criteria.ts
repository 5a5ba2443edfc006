import { CatalogInputError, MESSAGES, invalidTypeError } from './errors.js';

/**
 * Magento's searchCriteria (contract §6.2): parsing from the flat query keys a REST server sees, and
 * evaluation over in-memory rows with the semantics of Magento's collection processors on MySQL.
 */

// prettier-ignore
export const CONDITION_TYPES = [
  'eq', 'neq', 'like', 'nlike', 'gt', 'lt', 'gteq', 'lteq', 'moreq', 'from', 'to',
  'in', 'nin', 'null', 'notnull', 'finset', 'nfinset',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type SortDirection = 'ASC' | 'DESC';

export interface Filter {
  field: string;
  value: string;
  condition_type: ConditionType;
}

export interface FilterGroup {
  filters: Filter[];
}

export interface SortOrder {
  field: string;
  direction: SortDirection;
}

export interface SearchCriteria {
  filter_groups: FilterGroup[];
  sort_orders?: SortOrder[];
  page_size?: number;
  current_page?: number;
}

/** Magento's SearchResults JSON envelope. */
export interface SearchResult<T> {
  items: T[];
  search_criteria: SearchCriteria;
  total_count: number;
}

export type FieldValue = string | number | null;
export type FieldAccessor<T> = (item: T) => FieldValue;
/** Searchable fields of an entity; a number-valued field compares numerically. */
export type FieldMap<T> = Readonly<Record<string, FieldAccessor<T>>>;

/**
 * Magento's SortingProcessor sends every direction other than ASC as DESC, so a sort order without a
 * direction sorts descending.
 */
export const DEFAULT_SORT_DIRECTION: SortDirection = 'DESC';

const CONDITIONS: ReadonlySet<string> = new Set(CONDITION_TYPES);
const ROOTS = new Set(['searchCriteria', 'search_criteria']);
const SEGMENT = /\[([^[\]]*)\]/y;

/**
 * Magento maps `page_size` to `setPageSize` and PHP method lookup ignores case, so any mix of
 * underscores and case names the same property.
 */
const prop = (name: string): string => name.replace(/_/g, '').toLowerCase();

const notSupported = (fieldName: string) => new CatalogInputError(MESSAGES.notSupported, { fieldName });

interface RawFilter {
  field?: string;
  value?: string;
  condition?: string;
}

interface RawSort {
  field?: string;
  direction?: string;
}

function splitPath(key: string, from: number): string[] {
  const parts: string[] = [];
  SEGMENT.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = SEGMENT.exec(key)) !== null) {
    parts.push(m[1] as string);
    if (SEGMENT.lastIndex === key.length) return parts;
  }
  throw notSupported(key);
}

function listIndex(segment: string | undefined, key: string): number {
  if (segment === undefined || !/^\d+$/.test(segment)) throw notSupported(key);
  const n = Number(segment);
  if (!Number.isSafeInteger(n)) throw notSupported(key);
  return n;
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value) || !Number.isSafeInteger(n)) throw invalidTypeError(value, 'int');
  return n;
}

function entry<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = create();
    map.set(key, v);
  }
  return v;
}

const byIndex = <V>(map: Map<number, V>): [number, V][] => [...map].sort((a, b) => a[0] - b[0]);

/**
 * Reads `searchCriteria[...]` keys from a decoded, flat query map. Other keys are ignored; no
 * `searchCriteria` at all means empty criteria. List indexes may be sparse and are taken in numeric order.
 */
export function parseSearchCriteria(query: Readonly<Record<string, string>>): SearchCriteria {
  const groups = new Map<number, Map<number, RawFilter>>();
  const sorts = new Map<number, RawSort>();
  let pageSize: number | undefined;
  let currentPage: number | undefined;

  for (const [key, value] of Object.entries(query)) {
    const open = key.indexOf('[');
    if (!ROOTS.has(open === -1 ? key : key.slice(0, open)) || open === -1) continue;
    const [head = '', ...rest] = splitPath(key, open);
    switch (prop(head)) {
      case 'filtergroups': {
        if (rest.length !== 4 || prop(rest[1] as string) !== 'filters') throw notSupported(key);
        const filters = entry(groups, listIndex(rest[0], key), () => new Map<number, RawFilter>());
        const filter = entry(filters, listIndex(rest[2], key), (): RawFilter => ({}));
        const leaf = rest[3] as string;
        const name = prop(leaf);
        if (name === 'field') filter.field = value;
        else if (name === 'value') filter.value = value;
        else if (name === 'conditiontype') filter.condition = value;
        else throw notSupported(leaf);
        break;
      }
      case 'sortorders': {
        if (rest.length !== 2) throw notSupported(key);
        const sort = entry(sorts, listIndex(rest[0], key), (): RawSort => ({}));
        const leaf = rest[1] as string;
        const name = prop(leaf);
        if (name === 'field') sort.field = value;
        else if (name === 'direction') sort.direction = value;
        else throw notSupported(leaf);
        break;
      }
      case 'pagesize':
        if (rest.length !== 0) throw notSupported(key);
        pageSize = parseInteger(value);
        break;
      case 'currentpage':
        if (rest.length !== 0) throw notSupported(key);
        currentPage = parseInteger(value);
        break;
      default:
        throw notSupported(head);
    }
  }

  const criteria: SearchCriteria = {
    filter_groups: byIndex(groups).map(([gi, filters]) => ({
      filters: byIndex(filters).map(([fi, raw]) => toFilter(raw, gi, fi)),
    })),
  };
  if (sorts.size > 0) criteria.sort_orders = byIndex(sorts).map(([si, raw]) => toSortOrder(raw, si));
  if (pageSize !== undefined) criteria.page_size = pageSize;
  if (currentPage !== undefined) criteria.current_page = currentPage;
  return criteria;
}

function toFilter(raw: RawFilter, gi: number, fi: number): Filter {
  if (raw.field === undefined || raw.field === '') {
    throw new CatalogInputError(MESSAGES.required, {
      fieldName: `searchCriteria[filter_groups][${gi}][filters][${fi}][field]`,
    });
  }
  // Magento treats an empty condition type as `eq`.
  const condition = raw.condition === undefined || raw.condition === '' ? 'eq' : raw.condition;
  if (!CONDITIONS.has(condition)) {
    throw new CatalogInputError(MESSAGES.invalidFieldValue, {
      fieldName: 'condition_type',
      value: condition,
    });
  }
  return { field: raw.field, value: raw.value ?? '', condition_type: condition as ConditionType };
}

function toSortOrder(raw: RawSort, si: number): SortOrder {
  if (raw.field === undefined || raw.field === '') {
    throw new CatalogInputError(MESSAGES.required, { fieldName: `searchCriteria[sortOrders][${si}][field]` });
  }
  if (raw.direction === undefined) return { field: raw.field, direction: DEFAULT_SORT_DIRECTION };
  const direction = raw.direction.toUpperCase();
  if (direction !== 'ASC' && direction !== 'DESC') {
    throw new CatalogInputError(MESSAGES.sortDirection, ['ASC', 'DESC']);
  }
  return { field: raw.field, direction };
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

type Predicate<T> = (item: T) => boolean;

function accessor<T>(fields: FieldMap<T>, name: string): FieldAccessor<T> {
  const get = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (get === undefined) throw new CatalogInputError(MESSAGES.invalidAttribute, [name]);
  return get;
}

/** Only the characters that are syntax in a `u`-flag pattern; escaping others is an error there. */
const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** SQL LIKE: `%` any run, `_` one character, backslash escapes; case-insensitive as MySQL's default collation. */
export function likeToRegExp(pattern: string): RegExp {
  const chars = [...pattern];
  let src = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '\\' && i + 1 < chars.length) src += escapeRegExp(chars[++i] as string);
    else if (c === '%') src += '.*';
    else if (c === '_') src += '.';
    else src += escapeRegExp(c);
  }
  return new RegExp(`^${src}$`, 'isu');
}

/** MySQL reads `2024-05-01T10:00:00Z` as a datetime; the stored format has a space instead. */
function rangeOperand(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z?$/.exec(value);
  return (m ? `${m[1]} ${m[2]}` : value).toLowerCase();
}

const lower = (v: string | number): string => String(v).toLowerCase();

function rangePredicate<T>(get: FieldAccessor<T>, raw: string, op: (c: number) => boolean): Predicate<T> {
  const num = Number(raw);
  const str = rangeOperand(raw);
  return (item) => {
    const v = get(item);
    if (v === null) return false;
    if (typeof v === 'number') return Number.isNaN(num) ? false : op(v - num);
    const s = v.toLowerCase();
    return op(s < str ? -1 : s > str ? 1 : 0);
  };
}

/**
 * One filter as MySQL would evaluate it: NULL never matches a comparison (so `neq` and `nin` skip
 * NULLs too), string comparisons ignore case, numeric fields compare as numbers.
 */
function predicate<T>(filter: Filter, get: FieldAccessor<T>): Predicate<T> {
  const raw = filter.value;
  switch (filter.condition_type) {
    case 'null':
      return (item) => get(item) === null;
    case 'notnull':
      return (item) => get(item) !== null;
    case 'eq':
    case 'neq': {
      const want = filter.condition_type === 'eq';
      const num = Number(raw);
      const str = raw.toLowerCase();
      return (item) => {
        const v = get(item);
        if (v === null) return false;
        return (typeof v === 'number' ? v === num : v.toLowerCase() === str) === want;
      };
    }
    case 'like':
    case 'nlike': {
      const want = filter.condition_type === 'like';
      const re = likeToRegExp(raw);
      return (item) => {
        const v = get(item);
        return v !== null && re.test(String(v)) === want;
      };
    }
    case 'gt':
      return rangePredicate(get, raw, (c) => c > 0);
    case 'lt':
      return rangePredicate(get, raw, (c) => c < 0);
    case 'gteq':
    case 'moreq':
    case 'from':
      return rangePredicate(get, raw, (c) => c >= 0);
    case 'lteq':
    case 'to':
      return rangePredicate(get, raw, (c) => c <= 0);
    case 'in':
    case 'nin': {
      // Magento splits a string value on commas for IN; items are not trimmed.
      const want = filter.condition_type === 'in';
      const parts = raw.split(',');
      const nums = new Set(parts.map(Number));
      const strs = new Set(parts.map(lower));
      return (item) => {
        const v = get(item);
        if (v === null) return false;
        return (typeof v === 'number' ? nums.has(v) : strs.has(v.toLowerCase())) === want;
      };
    }
    case 'finset':
    case 'nfinset': {
      const want = filter.condition_type === 'finset';
      const needle = raw.toLowerCase();
      return (item) => {
        const v = get(item);
        return v !== null && lower(v).split(',').includes(needle) === want;
      };
    }
  }
}

/** `YYYY-MM-DD HH:MM:SS` as the number YYYYMMDDHHMMSS, which orders the same way; NaN for other strings. */
function datetimeNumber(s: string): number {
  if (s.length !== 19) return NaN;
  let v = 0;
  for (let i = 0; i < 19; i++) {
    const c = s.charCodeAt(i);
    if (i === 4 || i === 7 || i === 10 || i === 13 || i === 16) {
      if (c !== (i === 10 ? 32 : i < 10 ? 45 : 58)) return NaN;
    } else if (c < 48 || c > 57) {
      return NaN;
    } else {
      v = v * 10 + (c - 48);
    }
  }
  return v;
}

/**
 * One sort column as numbers in MySQL's order: numbers as they are, Magento datetimes as digits,
 * other strings by rank among the column's distinct case-folded values; NULL first. Numeric keys let
 * 100k-row sorts avoid string comparisons in the comparator.
 */
function sortColumn<T>(items: readonly T[], get: FieldAccessor<T>): Float64Array {
  const n = items.length;
  const col = new Float64Array(n);
  const raw = new Array<FieldValue>(n);
  let numeric = true;
  for (let i = 0; i < n; i++) {
    const v = get(items[i] as T);
    raw[i] = v;
    if (!numeric) continue;
    if (v === null) col[i] = -Infinity;
    else if (typeof v === 'number') col[i] = v;
    else {
      const d = datetimeNumber(v);
      if (Number.isNaN(d)) numeric = false;
      else col[i] = d;
    }
  }
  if (numeric) return col;

  const text = new Array<string | null>(n);
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v = raw[i] as FieldValue;
    const s = v === null ? null : String(v).toLowerCase();
    text[i] = s;
    if (s !== null) distinct.add(s);
  }
  // The default sort compares UTF-16 code units, the same order as `<`.
  const rank = new Map<string, number>();
  [...distinct].sort().forEach((s, r) => rank.set(s, r));
  for (let i = 0; i < n; i++) {
    const s = text[i] as string | null;
    col[i] = s === null ? -Infinity : (rank.get(s) as number);
  }
  return col;
}

function sortItems<T>(items: readonly T[], orders: { get: FieldAccessor<T>; sign: number }[]): T[] {
  const n = items.length;
  const columns = orders.map(({ get }) => sortColumn(items, get));
  const signs = orders.map((o) => o.sign);
  const index = new Uint32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  // Ties fall back to entity order, so paging through equal keys is repeatable.
  if (columns.length === 1) {
    const col = columns[0] as Float64Array;
    const sign = signs[0] as number;
    index.sort((a, b) => {
      const x = col[a] as number;
      const y = col[b] as number;
      return x === y ? a - b : x < y ? -sign : sign;
    });
  } else {
    index.sort((a, b) => {
      for (let k = 0; k < columns.length; k++) {
        const col = columns[k] as Float64Array;
        const x = col[a] as number;
        const y = col[b] as number;
        if (x !== y) return x < y ? -(signs[k] as number) : (signs[k] as number);
      }
      return a - b;
    });
  }
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = items[index[i] as number] as T;
  return out;
}

function echo(c: SearchCriteria): SearchCriteria {
  const out: SearchCriteria = {
    filter_groups: c.filter_groups.map((g) => ({
      filters: g.filters.map((f) => ({ field: f.field, value: f.value, condition_type: f.condition_type })),
    })),
  };
  if (c.sort_orders !== undefined) out.sort_orders = c.sort_orders.map((s) => ({ ...s }));
  if (c.page_size !== undefined) out.page_size = c.page_size;
  if (c.current_page !== undefined) out.current_page = c.current_page;
  return out;
}

/**
 * For a lone `gt`/`gteq` filter on a field ascending along `items` (a keyset walk by entity id): the
 * index of the first match, found by bisection as MySQL seeks the primary key; undefined otherwise.
 */
function lowerBound<T>(
  items: readonly T[],
  criteria: SearchCriteria,
  fields: FieldMap<T>,
  ascendingBy: readonly string[],
): number | undefined {
  const groups = criteria.filter_groups.filter((g) => g.filters.length > 0);
  const filter = groups.length === 1 && groups[0]?.filters.length === 1 ? groups[0].filters[0] : undefined;
  if (!filter || !ascendingBy.includes(filter.field)) return undefined;
  const strict = filter.condition_type === 'gt';
  if (!strict && !['gteq', 'moreq', 'from'].includes(filter.condition_type)) return undefined;
  const bound = Number(filter.value);
  if (filter.value.trim() === '' || !Number.isFinite(bound)) return undefined;
  const get = accessor(fields, filter.field);
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = get(items[mid] as T);
    if (typeof v !== 'number') return undefined;
    if (strict ? v > bound : v >= bound) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Filters (OR inside a group, AND across groups), then sorts only the matches, then pages. Without
 * sort orders the input order (entity id ascending) is kept. Without a page size every match is
 * returned; a page past the end yields the last page, as Magento's collection clamps it.
 */
export function applySearchCriteria<T>(
  items: readonly T[],
  criteria: SearchCriteria,
  fields: FieldMap<T>,
  options: {
    /**
     * Fields whose values never decrease along `items` (the entity id of a catalog kept in id order).
     * A sort by one of them alone, ascending, keeps the input order, so it is skipped: paging by id
     * then costs no sort, much as MySQL walks the primary key.
     */
    ascendingBy?: readonly string[];
    /**
     * Fields `items` are sorted by, in this order, ascending as a sort compares them (case-folded):
     * a sort by a leading part of this list, every direction ASC, keeps the input order too.
     */
    sortedBy?: readonly string[];
  } = {},
): SearchResult<T> {
  const { page_size: pageSize, current_page: currentPage } = criteria;
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) {
    throw new CatalogInputError(MESSAGES.minValue, { fieldName: 'pageSize', value: pageSize, minValue: 1 });
  }
  if (currentPage !== undefined && !Number.isInteger(currentPage)) {
    throw invalidTypeError(String(currentPage), 'int');
  }

  const groups = criteria.filter_groups
    .filter((g) => g.filters.length > 0)
    .map((g) => g.filters.map((f) => predicate(f, accessor(fields, f.field))));
  const orders = (criteria.sort_orders ?? []).map((s) => ({
    get: accessor(fields, s.field),
    sign: s.direction === 'DESC' ? -1 : 1,
  }));

  let matches: readonly T[] = items;
  const keyset = lowerBound(items, criteria, fields, options.ascendingBy ?? []);
  if (keyset !== undefined) {
    matches = items.slice(keyset);
  } else if (groups.length > 0) {
    const kept: T[] = [];
    for (const item of items) {
      let ok = true;
      for (const group of groups) {
        let any = false;
        for (const test of group) {
          if (test(item)) {
            any = true;
            break;
          }
        }
        if (!any) {
          ok = false;
          break;
        }
      }
      if (ok) kept.push(item);
    }
    matches = kept;
  }
  const sorts = criteria.sort_orders ?? [];
  const sortedBy = options.sortedBy ?? [];
  const inputOrder =
    (sorts.length === 1 &&
      sorts[0]?.direction === 'ASC' &&
      (options.ascendingBy ?? []).includes(sorts[0].field)) ||
    (sorts.length > 0 &&
      sorts.length <= sortedBy.length &&
      sorts.every((s, i) => s.direction === 'ASC' && s.field === sortedBy[i]));
  if (orders.length > 0 && !inputOrder) matches = sortItems(matches, orders);

  const total = matches.length;
  let page: T[];
  if (pageSize === undefined) {
    page = matches.slice();
  } else {
    const lastPage = Math.max(1, Math.ceil(total / pageSize));
    const p = Math.min(Math.max(currentPage ?? 1, 1), lastPage);
    page = matches.slice((p - 1) * pageSize, p * pageSize);
  }
  return { items: page, search_criteria: echo(criteria), total_count: total };
}
