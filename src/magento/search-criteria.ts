/**
 * Magento's searchCriteria as flat query pairs (contract §4.4, §6.2). Filters in one group are
 * OR-ed, groups are AND-ed:
 *
 *   searchCriteria()
 *     .filter('sku', 'MB-%', 'like').or('name', 'Bag%', 'like')   // (sku LIKE … OR name LIKE …)
 *     .filter('status', 1)                                          // AND status = 1
 *     .sort('updated_at', 'ASC').pageSize(50).currentPage(1)
 *
 * The builder is immutable: every call returns a new SearchCriteria.
 */

export type ConditionType =
  | 'eq'
  | 'neq'
  | 'like'
  | 'nlike'
  | 'gt'
  | 'lt'
  | 'gteq'
  | 'lteq'
  | 'moreq'
  | 'from'
  | 'to'
  | 'in'
  | 'nin'
  | 'null'
  | 'notnull'
  | 'finset'
  | 'nfinset';

export type SortDirection = 'ASC' | 'DESC';

/**
 * Magento's SearchResults envelope (contract §6.2). Past the last page the store repeats that page
 * rather than answering an empty one, so readers stop by `total_count`.
 */
export interface SearchResults<T> {
  items: T[];
  search_criteria?: unknown;
  total_count: number;
}

/** A list (for `in`/`nin`) is sent comma-separated, as Magento splits it. */
export type FilterValue = string | number | boolean | readonly (string | number)[];

export interface Filter {
  field: string;
  value: string;
  conditionType: ConditionType;
}

interface State {
  groups: readonly (readonly Filter[])[];
  sorts: readonly { field: string; direction: SortDirection }[];
  pageSize?: number;
  currentPage?: number;
}

export class SearchCriteria {
  private constructor(private readonly state: State) {}

  static empty(): SearchCriteria {
    return new SearchCriteria({ groups: [], sorts: [] });
  }

  /** Starts a new filter group: AND with the groups before it. */
  filter(field: string, value: FilterValue, condition: ConditionType = 'eq'): SearchCriteria {
    return this.with({ groups: [...this.state.groups, [makeFilter(field, value, condition)]] });
  }

  /** Adds a filter to the latest group: OR with the filters already in it. */
  or(field: string, value: FilterValue, condition: ConditionType = 'eq'): SearchCriteria {
    const last = this.state.groups.at(-1);
    if (!last) throw new TypeError('or() needs a filter() before it to join.');
    return this.with({
      groups: [...this.state.groups.slice(0, -1), [...last, makeFilter(field, value, condition)]],
    });
  }

  sort(field: string, direction: SortDirection = 'ASC'): SearchCriteria {
    return this.with({ sorts: [...this.state.sorts, { field, direction }] });
  }

  pageSize(size: number): SearchCriteria {
    return this.with({ pageSize: positiveInteger('pageSize', size) });
  }

  currentPage(page: number): SearchCriteria {
    return this.with({ currentPage: positiveInteger('currentPage', page) });
  }

  get filterGroups(): readonly (readonly Filter[])[] {
    return this.state.groups;
  }

  get size(): number | undefined {
    return this.state.pageSize;
  }

  get page(): number | undefined {
    return this.state.currentPage;
  }

  /**
   * Flat pairs such as `searchCriteria[filter_groups][0][filters][0][field]`, for encodeQuery.
   * Empty criteria give `searchCriteria[currentPage]=1` (all rows, as with no criteria): Magento
   * requires the parameter, and a bare `?searchCriteria` would not be signed (contract §4.6-6).
   */
  toPairs(): [string, string][] {
    const pairs: [string, string][] = [];
    this.state.groups.forEach((group, g) =>
      group.forEach((f, i) => {
        const key = `searchCriteria[filter_groups][${g}][filters][${i}]`;
        pairs.push([`${key}[field]`, f.field], [`${key}[value]`, f.value]);
        pairs.push([`${key}[condition_type]`, f.conditionType]);
      }),
    );
    this.state.sorts.forEach((s, i) => {
      pairs.push([`searchCriteria[sortOrders][${i}][field]`, s.field]);
      pairs.push([`searchCriteria[sortOrders][${i}][direction]`, s.direction]);
    });
    if (this.state.pageSize !== undefined)
      pairs.push(['searchCriteria[pageSize]', String(this.state.pageSize)]);
    if (this.state.currentPage !== undefined) {
      pairs.push(['searchCriteria[currentPage]', String(this.state.currentPage)]);
    }
    return pairs.length ? pairs : [['searchCriteria[currentPage]', '1']];
  }

  private with(changes: Partial<State>): SearchCriteria {
    return new SearchCriteria({ ...this.state, ...changes });
  }
}

export function searchCriteria(): SearchCriteria {
  return SearchCriteria.empty();
}

function makeFilter(field: string, value: FilterValue, conditionType: ConditionType): Filter {
  if (!field) throw new TypeError('A filter needs a field name.');
  const text = Array.isArray(value)
    ? value.join(',')
    : typeof value === 'boolean'
      ? value
        ? '1'
        : '0'
      : String(value);
  return { field, value: text, conditionType };
}

function positiveInteger(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`${name} must be a positive integer, not ${n}.`);
  return n;
}
