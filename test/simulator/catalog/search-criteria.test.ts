import { describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import { Catalog } from '../../../src/simulator/catalog/catalog.js';
import { CatalogInputError } from '../../../src/simulator/catalog/errors.js';
import {
  applySearchCriteria,
  likeToRegExp,
  parseSearchCriteria,
  type ConditionType,
  type FieldMap,
  type SearchCriteria,
} from '../../../src/simulator/catalog/search-criteria.js';
import { caught } from '../../helpers/errors.js';

interface Row {
  id: number;
  name: string;
  price: number;
  status: number;
  updated: string;
  note: string | null;
  tags: string;
}

// prettier-ignore
const ROWS: Row[] = [
  { id: 1, name: 'Café Crème', price: 9, status: 1, updated: '2024-01-05 10:00:00', note: null, tags: 'red,blue' },
  { id: 2, name: 'cafe noir', price: 10, status: 2, updated: '2024-03-01 00:00:00', note: 'x', tags: 'green' },
  { id: 3, name: 'CAFÉ AU LAIT', price: 100, status: 1, updated: '2024-02-29 23:59:59', note: '', tags: 'blue' },
  { id: 4, name: '100% Cotton', price: 25.5, status: 1, updated: '2024-03-01 00:00:01', note: 'y', tags: '' },
  { id: 5, name: '1000 Threads', price: 10, status: 2, updated: '2023-12-31 23:59:59', note: null, tags: 'red' },
  { id: 6, name: 'Snake_Case', price: 0, status: 1, updated: '2024-03-01 00:00:00', note: 'x', tags: 'RED' },
  { id: 7, name: 'SnakeXCase', price: 3, status: 2, updated: '2024-01-01 00:00:00', note: 'z', tags: 'blue,green' },
  { id: 8, name: 'Salt & Pepper', price: 12, status: 1, updated: '2024-02-01 12:00:00', note: null, tags: 'green,red' },
];

const FIELDS: FieldMap<Row> = {
  id: (r) => r.id,
  name: (r) => r.name,
  price: (r) => r.price,
  status: (r) => r.status,
  updated: (r) => r.updated,
  note: (r) => r.note,
  tags: (r) => r.tags,
  noteLength: (r) => (r.note === null ? null : r.note.length),
};

const run = (criteria: SearchCriteria, rows: readonly Row[] = ROWS) =>
  applySearchCriteria(rows, criteria, FIELDS);
const ids = (criteria: SearchCriteria, rows: readonly Row[] = ROWS) =>
  run(criteria, rows).items.map((r) => r.id);
const where = (field: string, condition_type: ConditionType, value = ''): SearchCriteria => ({
  filter_groups: [{ filters: [{ field, value, condition_type }] }],
});
const all = ROWS.map((r) => r.id);

/** Flat query keys as an HTTP server hands them over. */
const filterKeys = (
  g: number,
  f: number,
  field: string,
  value: string,
  cond?: string,
  spelling = 'filter_groups',
) => ({
  [`searchCriteria[${spelling}][${g}][filters][${f}][field]`]: field,
  [`searchCriteria[${spelling}][${g}][filters][${f}][value]`]: value,
  ...(cond === undefined
    ? {}
    : { [`searchCriteria[${spelling}][${g}][filters][${f}][condition_type]`]: cond }),
});

describe('parseSearchCriteria', () => {
  it('treats a missing or bare searchCriteria as empty criteria and ignores other keys', () => {
    expect(parseSearchCriteria({})).toEqual({ filter_groups: [] });
    expect(parseSearchCriteria({ searchCriteria: '' })).toEqual({ filter_groups: [] });
    expect(parseSearchCriteria({ fields: 'items[sku]', 'other[pageSize]': 'x' })).toEqual({
      filter_groups: [],
    });
  });

  it('reads filters, sort orders and paging, defaulting the condition to eq', () => {
    const criteria = parseSearchCriteria({
      ...filterKeys(0, 0, 'sku', 'SIM-000001'),
      ...filterKeys(1, 0, 'price', '10', 'gt'),
      'searchCriteria[sortOrders][0][field]': 'price',
      'searchCriteria[sortOrders][0][direction]': 'desc',
      'searchCriteria[pageSize]': '20',
      'searchCriteria[currentPage]': '2',
    });
    expect(criteria).toEqual({
      filter_groups: [
        { filters: [{ field: 'sku', value: 'SIM-000001', condition_type: 'eq' }] },
        { filters: [{ field: 'price', value: '10', condition_type: 'gt' }] },
      ],
      sort_orders: [{ field: 'price', direction: 'DESC' }],
      page_size: 20,
      current_page: 2,
    });
  });

  it('accepts camelCase and snake_case spellings alike', () => {
    const camel = parseSearchCriteria({
      'searchCriteria[filterGroups][0][filters][0][field]': 'name',
      'searchCriteria[filterGroups][0][filters][0][value]': '%a%',
      'searchCriteria[filterGroups][0][filters][0][conditionType]': 'like',
      'searchCriteria[sortOrders][0][field]': 'name',
      'searchCriteria[sortOrders][0][direction]': 'ASC',
      'searchCriteria[pageSize]': '5',
      'searchCriteria[currentPage]': '3',
    });
    const snake = parseSearchCriteria({
      'search_criteria[filter_groups][0][filters][0][field]': 'name',
      'search_criteria[filter_groups][0][filters][0][value]': '%a%',
      'search_criteria[filter_groups][0][filters][0][condition_type]': 'like',
      'search_criteria[sort_orders][0][field]': 'name',
      'search_criteria[sort_orders][0][direction]': 'ASC',
      'search_criteria[page_size]': '5',
      'search_criteria[current_page]': '3',
    });
    expect(snake).toEqual(camel);
    expect(camel.filter_groups[0]?.filters[0]?.condition_type).toBe('like');
    expect(camel.page_size).toBe(5);
  });

  it('orders sparse indexes of 10 and more numerically, not by text or arrival', () => {
    const criteria = parseSearchCriteria({
      ...filterKeys(10, 11, 'b', '2'),
      ...filterKeys(10, 3, 'a', '1'),
      ...filterKeys(2, 0, 'c', '3', 'neq'),
      'searchCriteria[sortOrders][10][field]': 'second',
      'searchCriteria[sortOrders][10][direction]': 'ASC',
      'searchCriteria[sortOrders][9][field]': 'first',
      'searchCriteria[sortOrders][9][direction]': 'DESC',
    });
    expect(criteria.filter_groups).toEqual([
      { filters: [{ field: 'c', value: '3', condition_type: 'neq' }] },
      {
        filters: [
          { field: 'a', value: '1', condition_type: 'eq' },
          { field: 'b', value: '2', condition_type: 'eq' },
        ],
      },
    ]);
    expect(criteria.sort_orders).toEqual([
      { field: 'first', direction: 'DESC' },
      { field: 'second', direction: 'ASC' },
    ]);
  });

  it('sorts descending when a sort order has no direction, as Magento SortingProcessor does', () => {
    expect(parseSearchCriteria({ 'searchCriteria[sortOrders][0][field]': 'id' }).sort_orders).toEqual([
      { field: 'id', direction: 'DESC' },
    ]);
  });

  it('treats an empty condition type as eq and keeps a missing value as empty', () => {
    const criteria = parseSearchCriteria({
      'searchCriteria[filter_groups][0][filters][0][field]': 'note',
      'searchCriteria[filter_groups][0][filters][0][condition_type]': '',
    });
    expect(criteria.filter_groups[0]?.filters[0]).toEqual({ field: 'note', value: '', condition_type: 'eq' });
  });

  const typeError = (v: string) =>
    `The "${v}" value's type is invalid. The "int" type was expected. Verify and try again.`;
  const notSupported = '"%fieldName" is not supported. Correct the field name and try again.';
  // prettier-ignore
  it.each([
    ['non-numeric pageSize', { 'searchCriteria[pageSize]': 'ten' }, typeError('ten'), []],
    ['fractional pageSize', { 'searchCriteria[pageSize]': '2.5' }, typeError('2.5'), []],
    ['empty currentPage', { 'searchCriteria[currentPage]': '' }, typeError(''), []],
    ['unknown condition', filterKeys(0, 0, 'name', 'x', 'contains'), 'Invalid value of "%value" provided for the %fieldName field.', { fieldName: 'condition_type', value: 'contains' }],
    ['filter without field', { 'searchCriteria[filter_groups][0][filters][4][value]': 'x' }, '"%fieldName" is required. Enter and try again.', { fieldName: 'searchCriteria[filter_groups][0][filters][4][field]' }],
    ['sort without field', { 'searchCriteria[sortOrders][1][direction]': 'ASC' }, '"%fieldName" is required. Enter and try again.', { fieldName: 'searchCriteria[sortOrders][1][field]' }],
    ['bad direction', { 'searchCriteria[sortOrders][0][field]': 'id', 'searchCriteria[sortOrders][0][direction]': 'up' }, 'The sort order has to be specified as %1 for ascending order or %2 for descending order.', ['ASC', 'DESC']],
    ['unknown property', { 'searchCriteria[limit]': '5' }, notSupported, { fieldName: 'limit' }],
    ['unknown filter key', { 'searchCriteria[filter_groups][0][filters][0][operator]': 'eq' }, notSupported, { fieldName: 'operator' }],
    ['non-numeric index', { 'searchCriteria[filter_groups][a][filters][0][field]': 'x' }, notSupported, { fieldName: 'searchCriteria[filter_groups][a][filters][0][field]' }],
    ['unclosed bracket', { 'searchCriteria[pageSize': '5' }, notSupported, { fieldName: 'searchCriteria[pageSize' }],
  ])('rejects %s with a 400', (_label, query, message, parameters) => {
    const e = caught(() => parseSearchCriteria(query));
    expect(e).toBeInstanceOf(CatalogInputError);
    expect(e.status).toBe(400);
    expect(e.message).toBe(message);
    expect(e.parameters).toEqual(parameters);
  });
});

describe('applySearchCriteria conditions', () => {
  it('eq compares strings without case and numbers as numbers; NULL never equals', () => {
    expect(ids(where('name', 'eq', 'CAFE NOIR'))).toEqual([2]);
    expect(ids(where('price', 'eq', '10.00'))).toEqual([2, 5]);
    expect(ids(where('note', 'eq', ''))).toEqual([3]);
    expect(ids(where('name', 'eq', 'cafe'))).toEqual([]);
  });

  it('neq skips NULLs as SQL does', () => {
    expect(ids(where('status', 'neq', '1'))).toEqual([2, 5, 7]);
    expect(ids(where('note', 'neq', 'x'))).toEqual([3, 4, 7]);
  });

  it('like supports % on both sides, _ for one character, escapes, and ignores case', () => {
    expect(ids(where('name', 'like', '%café%'))).toEqual([1, 3]);
    expect(ids(where('name', 'like', 'caf'))).toEqual([]);
    expect(ids(where('name', 'like', 'cafe%'))).toEqual([2]);
    expect(ids(where('name', 'like', 'snake_case'))).toEqual([6, 7]);
    expect(ids(where('name', 'like', 'snake\\_case'))).toEqual([6]);
    expect(ids(where('name', 'like', '100%'))).toEqual([4, 5]);
    expect(ids(where('name', 'like', '100\\%%'))).toEqual([4]);
    expect(ids(where('name', 'like', '%&%'))).toEqual([8]);
    expect(ids(where('name', 'like', '% (%'))).toEqual([]);
    expect(likeToRegExp('a.b').test('axb')).toBe(false);
  });

  it('nlike is the complement of like among non-NULL values', () => {
    expect(ids(where('name', 'nlike', '%café%'))).toEqual([2, 4, 5, 6, 7, 8]);
    expect(ids(where('note', 'nlike', 'x'))).toEqual([3, 4, 7]);
  });

  it('compares numeric fields numerically (text order would put 10 before 9)', () => {
    expect(ids(where('price', 'gt', '9'))).toEqual([2, 3, 4, 5, 8]);
    expect(ids(where('price', 'lt', '10'))).toEqual([1, 6, 7]);
    expect(ids(where('price', 'gteq', '10'))).toEqual([2, 3, 4, 5, 8]);
    expect(ids(where('price', 'lteq', '10'))).toEqual([1, 2, 5, 6, 7]);
  });

  it('from and moreq act as gteq, to as lteq, boundaries included', () => {
    expect(ids(where('price', 'from', '10'))).toEqual(ids(where('price', 'gteq', '10')));
    expect(ids(where('price', 'moreq', '10'))).toEqual(ids(where('price', 'gteq', '10')));
    expect(ids(where('price', 'to', '10'))).toEqual(ids(where('price', 'lteq', '10')));
    // Magento ORs filters of one group, so a range needs two groups.
    const range: SearchCriteria = {
      filter_groups: [
        { filters: [{ field: 'price', value: '9', condition_type: 'from' }] },
        { filters: [{ field: 'price', value: '12', condition_type: 'to' }] },
      ],
    };
    expect(ids(range)).toEqual([1, 2, 5, 8]);
  });

  it('compares Magento datetimes as text and accepts ISO operands', () => {
    expect(ids(where('updated', 'gteq', '2024-03-01 00:00:00'))).toEqual([2, 4, 6]);
    expect(ids(where('updated', 'gteq', '2024-03-01T00:00:00Z'))).toEqual([2, 4, 6]);
    expect(ids(where('updated', 'gt', '2024-03-01 00:00:00'))).toEqual([4]);
    expect(ids(where('updated', 'lt', '2024-03-01'))).toEqual([1, 3, 5, 7, 8]);
  });

  it('in / nin split the value on commas', () => {
    expect(ids(where('id', 'in', '1,3,8'))).toEqual([1, 3, 8]);
    expect(ids(where('price', 'in', '10,12'))).toEqual([2, 5, 8]);
    expect(ids(where('name', 'in', 'cafe noir,SALT & PEPPER'))).toEqual([2, 8]);
    expect(ids(where('status', 'nin', '1'))).toEqual([2, 5, 7]);
    expect(ids(where('note', 'nin', 'x,y'))).toEqual([3, 7]);
  });

  it('null / notnull test for NULL only, not for empty strings', () => {
    expect(ids(where('note', 'null'))).toEqual([1, 5, 8]);
    expect(ids(where('note', 'notnull'))).toEqual([2, 3, 4, 6, 7]);
  });

  it('finset / nfinset look inside comma-separated values', () => {
    expect(ids(where('tags', 'finset', 'red'))).toEqual([1, 5, 6, 8]);
    expect(ids(where('tags', 'nfinset', 'red'))).toEqual([2, 3, 4, 7]);
  });

  it('ORs filters inside a group and ANDs groups', () => {
    const or: SearchCriteria = {
      filter_groups: [
        {
          filters: [
            { field: 'name', value: 'cafe noir', condition_type: 'eq' },
            { field: 'price', value: '100', condition_type: 'eq' },
          ],
        },
      ],
    };
    expect(ids(or)).toEqual([2, 3]);
    const and: SearchCriteria = {
      filter_groups: [
        { filters: [{ field: 'status', value: '1', condition_type: 'eq' }] },
        { filters: [{ field: 'price', value: '9', condition_type: 'gt' }] },
      ],
    };
    expect(ids(and)).toEqual([3, 4, 8]);
    const both: SearchCriteria = {
      filter_groups: [
        { filters: [{ field: 'status', value: '2', condition_type: 'eq' }] },
        {
          filters: [
            { field: 'price', value: '3', condition_type: 'eq' },
            { field: 'name', value: 'cafe%', condition_type: 'like' },
          ],
        },
        { filters: [] },
      ],
    };
    expect(ids(both)).toEqual([2, 7]);
  });

  it('rejects unknown filter and sort fields with Magento message', () => {
    for (const criteria of [
      where('colour', 'eq', 'red'),
      { filter_groups: [], sort_orders: [{ field: 'colour', direction: 'ASC' as const }] },
    ]) {
      const e = caught(() => run(criteria));
      expect(e.status).toBe(400);
      expect(e.message).toBe('Invalid attribute name: %1');
      expect(e.parameters).toEqual(['colour']);
    }
    // Inherited object keys are not fields either.
    expect(caught(() => run(where('toString', 'eq', 'x'))).parameters).toEqual(['toString']);
  });
});

describe('applySearchCriteria sorting', () => {
  const sorted = (...orders: [string, 'ASC' | 'DESC'][]) =>
    ids({ filter_groups: [], sort_orders: orders.map(([field, direction]) => ({ field, direction })) });

  it('sorts numbers numerically; equal keys keep id order in both directions', () => {
    expect(sorted(['price', 'ASC'])).toEqual([6, 7, 1, 2, 5, 8, 4, 3]);
    expect(sorted(['price', 'DESC'])).toEqual([3, 4, 8, 2, 5, 1, 7, 6]);
  });

  it('sorts strings without regard to case', () => {
    expect(sorted(['name', 'ASC'])).toEqual([4, 5, 2, 3, 1, 8, 6, 7]);
  });

  it('puts NULL first ascending and last descending', () => {
    expect(sorted(['note', 'ASC'])).toEqual([1, 5, 8, 3, 2, 6, 4, 7]);
    expect(sorted(['note', 'DESC'])).toEqual([7, 4, 2, 6, 3, 1, 5, 8]);
    expect(sorted(['noteLength', 'ASC'])).toEqual([1, 5, 8, 3, 2, 4, 6, 7]);
    expect(sorted(['noteLength', 'DESC'])).toEqual([2, 4, 6, 7, 3, 1, 5, 8]);
  });

  it('applies several sort orders in sequence', () => {
    expect(sorted(['status', 'ASC'], ['price', 'DESC'])).toEqual([3, 4, 8, 1, 6, 2, 5, 7]);
    expect(sorted(['updated', 'DESC'], ['id', 'DESC'])).toEqual([4, 6, 2, 3, 8, 1, 7, 5]);
  });

  it('skips the sort only for one ascending sort by a field the caller says never decreases', () => {
    const criteria = (...orders: [string, 'ASC' | 'DESC'][]): SearchCriteria => ({
      filter_groups: [],
      sort_orders: orders.map(([field, direction]) => ({ field, direction })),
    });
    const hinted = (rows: readonly Row[], c: SearchCriteria) =>
      applySearchCriteria(rows, c, FIELDS, { ascendingBy: ['id'] }).items.map((r) => [r.id, r.price]);
    expect(hinted(ROWS, criteria(['id', 'ASC'])).map(([id]) => id)).toEqual(all);
    expect(hinted(ROWS, criteria(['id', 'DESC'])).map(([id]) => id)).toEqual([...all].reverse());
    expect(hinted(ROWS, criteria(['price', 'ASC'])).map(([id]) => id)).toEqual(sorted(['price', 'ASC']));
    // The caller's word is taken: no scan, no sort.
    expect(hinted([...ROWS].reverse(), criteria(['id', 'ASC'])).map(([id]) => id)).toEqual(
      [...all].reverse(),
    );
    expect(ids(criteria(['id', 'ASC']), [...ROWS].reverse())).toEqual(all);
    // Equal ids: a second sort order decides between them, so the sort still runs.
    const tied = ROWS.map((r) => ({ ...r, id: r.id === 3 ? 2 : r.id }));
    expect(hinted(tied, criteria(['id', 'ASC'], ['price', 'DESC'])).slice(0, 4)).toEqual([
      [1, 9],
      [2, 100],
      [2, 10],
      [4, 25.5],
    ]);
    // Descending, equal ids keep entity order: not the input reversed.
    expect(hinted(tied, criteria(['id', 'DESC'])).slice(-4)).toEqual([
      [4, 25.5],
      [2, 10],
      [2, 100],
      [1, 9],
    ]);
    // Filtering keeps the input order, so the hint still holds for the matches.
    const filtered = applySearchCriteria(
      ROWS,
      { ...where('status', 'eq', '1'), sort_orders: [{ field: 'id', direction: 'ASC' }] },
      FIELDS,
      { ascendingBy: ['id'] },
    );
    expect(filtered.items.map((r) => r.id)).toEqual([1, 3, 4, 6, 8]);
  });

  it('seeks a lone gt/gteq filter on an ascending field and finds what the full filter finds', () => {
    // Ids with gaps and repeats (non-decreasing), as a catalog with deleted rows has.
    const rows = [1, 2, 2, 5, 9, 10, 10, 11, 40].map((id, i) => ({ ...(ROWS[i % ROWS.length] as Row), id }));
    const search = (condition: 'gt' | 'gteq' | 'moreq' | 'from', value: string, hint: boolean) =>
      applySearchCriteria(
        rows,
        { ...where('id', condition, value), sort_orders: [{ field: 'id', direction: 'ASC' }], page_size: 3 },
        FIELDS,
        hint ? { ascendingBy: ['id'] } : {},
      );
    for (const condition of ['gt', 'gteq', 'moreq', 'from'] as const)
      for (const value of ['0', '1', '2', '3', '10', '10.5', '40', '41', '-5', ' 7', '1e1', 'abc', '']) {
        const fast = search(condition, value, true);
        const full = search(condition, value, false);
        expect([condition, value, fast.total_count, fast.items]).toEqual([
          condition,
          value,
          full.total_count,
          full.items,
        ]);
      }
    expect(search('gt', '2', true).items.map((r) => r.id)).toEqual([5, 9, 10]);
    expect(search('gteq', '10', true).total_count).toBe(4);
  });

  it('keeps the input order without sort orders and never returns the input array itself', () => {
    const reversed = [...ROWS].reverse();
    expect(ids({ filter_groups: [] }, reversed)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    const result = run({ filter_groups: [] });
    expect(result.items).not.toBe(ROWS);
    expect(result.items).toEqual(ROWS);
  });
});

describe('applySearchCriteria paging and envelope', () => {
  const page = (
    page_size: number | undefined,
    current_page: number | undefined,
    extra: Partial<SearchCriteria> = {},
  ) => {
    const criteria: SearchCriteria = { filter_groups: [], ...extra };
    if (page_size !== undefined) criteria.page_size = page_size;
    if (current_page !== undefined) criteria.current_page = current_page;
    return run(criteria);
  };

  it('slices the requested page and counts every match in total_count', () => {
    const r = page(3, 2);
    expect(r.items.map((x) => x.id)).toEqual([4, 5, 6]);
    expect(r.total_count).toBe(8);
    const filtered = page(2, 1, where('status', 'eq', '1'));
    expect(filtered.items.map((x) => x.id)).toEqual([1, 3]);
    expect(filtered.total_count).toBe(5);
  });

  it('returns the last page for a page past the end, as Magento collections clamp', () => {
    const r = page(3, 99);
    expect(r.items.map((x) => x.id)).toEqual([7, 8]);
    expect(r.total_count).toBe(8);
    expect(r.search_criteria.current_page).toBe(99);
    expect(page(3, 0).items.map((x) => x.id)).toEqual([1, 2, 3]);
    const none = page(3, 5, where('name', 'eq', 'nothing'));
    expect(none.items).toEqual([]);
    expect(none.total_count).toBe(0);
  });

  it('returns every match when no page size is given', () => {
    expect(page(undefined, 2).items.map((x) => x.id)).toEqual(all);
  });

  it('rejects a page size of 0', () => {
    const e = caught(() => page(0, 1));
    expect(e.status).toBe(400);
    expect(e.message).toBe('The %fieldName value of "%value" must be greater than or equal to %minValue.');
    expect(e.parameters).toEqual({ fieldName: 'pageSize', value: 0, minValue: 1 });
  });

  it('echoes the criteria in snake_case and omits what was not given', () => {
    const parsed = parseSearchCriteria({
      ...filterKeys(0, 0, 'price', '10', 'gteq', 'filterGroups'),
      'searchCriteria[sortOrders][0][field]': 'price',
      'searchCriteria[sortOrders][0][direction]': 'ASC',
      'searchCriteria[pageSize]': '2',
    });
    const r = run(parsed);
    expect(Object.keys(r)).toEqual(['items', 'search_criteria', 'total_count']);
    expect(r.search_criteria).toEqual({
      filter_groups: [{ filters: [{ field: 'price', value: '10', condition_type: 'gteq' }] }],
      sort_orders: [{ field: 'price', direction: 'ASC' }],
      page_size: 2,
    });
    expect(r.search_criteria).not.toHaveProperty('current_page');
    expect(r.search_criteria).not.toBe(parsed);
    expect(run({ filter_groups: [] }).search_criteria).toEqual({ filter_groups: [] });
  });

  it('concatenated pages equal the full sorted match list (property)', () => {
    const row = fc.record({
      price: fc.integer({ min: 0, max: 6 }),
      name: fc.constantFrom('a', 'B', 'b', 'c', 'Ä'),
      note: fc.option(fc.constantFrom('x', 'y'), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom('price', 'name', 'note'),
        fc.constantFrom('ASC' as const, 'DESC' as const),
        fc.integer({ min: 0, max: 6 }),
        (raw, pageSize, field, direction, minPrice) => {
          const rows: Row[] = raw.map((r, i) => ({ ...r, id: i + 1, status: 1, updated: '', tags: '' }));
          const base: SearchCriteria = {
            filter_groups: [
              { filters: [{ field: 'price', value: String(minPrice), condition_type: 'gteq' }] },
            ],
            sort_orders: [{ field, direction }],
          };
          const full = run(base, rows);
          const key = (r: Row) => {
            const v = FIELDS[field]?.(r) ?? null;
            return typeof v === 'string' ? v.toLowerCase() : v;
          };
          const sign = direction === 'ASC' ? 1 : -1;
          const expected = rows
            .filter((r) => r.price >= minPrice)
            .sort((a, b) => {
              const x = key(a);
              const y = key(b);
              if (x === y) return a.id - b.id;
              if (x === null) return -sign;
              if (y === null) return sign;
              return (x < y ? -1 : 1) * sign;
            });
          expect(full.items).toEqual(expected);
          expect(full.total_count).toBe(expected.length);

          const lastPage = Math.max(1, Math.ceil(full.total_count / pageSize));
          const pages: Row[] = [];
          for (let p = 1; p <= lastPage; p++) {
            const r = run({ ...base, page_size: pageSize, current_page: p }, rows);
            expect(r.total_count).toBe(full.total_count);
            pages.push(...r.items);
          }
          expect(pages).toEqual(full.items);
          const past = run({ ...base, page_size: pageSize, current_page: lastPage + 3 }, rows);
          expect(past.items).toEqual(
            run({ ...base, page_size: pageSize, current_page: lastPage }, rows).items,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('searching 100,000 products', () => {
  it('filters on updated_at, sorts the matches and returns the right page', () => {
    const catalog = Catalog.generate({
      seed: 3,
      products: 100_000,
      customers: 0,
      orders: 0,
      now: new Date('2025-06-01T00:00:00Z'),
    });
    const since = '2025-03-01 00:00:00';
    const criteria = parseSearchCriteria({
      ...filterKeys(0, 0, 'updated_at', since, 'gteq'),
      'searchCriteria[sortOrders][0][field]': 'updated_at',
      'searchCriteria[sortOrders][0][direction]': 'DESC',
      'searchCriteria[pageSize]': '50',
      'searchCriteria[currentPage]': '3',
    });
    const result = catalog.searchProducts(criteria);
    const expected = catalog.products
      .filter((p) => p.updated_at >= since)
      .sort((a, b) => (a.updated_at === b.updated_at ? a.id - b.id : a.updated_at < b.updated_at ? 1 : -1));
    expect(result.total_count).toBe(expected.length);
    expect(result.total_count).toBeGreaterThan(1000);
    expect(result.items).toEqual(expected.slice(100, 150));
  });
});
