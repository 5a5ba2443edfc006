/**
 * Errors carrying Magento's REST error body (contract §6.1): `message` is the raw phrase template
 * with `%name` / `%1` placeholders left in, `parameters` the phrase arguments.
 */

export type ErrorParameters = Record<string, string | number> | (string | number)[];

export abstract class CatalogError extends Error {
  abstract readonly status: 400 | 404;

  constructor(
    message: string,
    readonly parameters: ErrorParameters = [],
    /** An aggregate exception's own errors (Magento's `errors` array), e.g. a failed validation. */
    readonly errors?: { message: string; parameters: ErrorParameters }[],
  ) {
    super(message);
  }

  /** The message with placeholders filled in, for logs and assertions. */
  rendered(): string {
    return renderPhrase(this.message, this.parameters);
  }
}

/** Maps to Magento's InputException / LocalizedException: HTTP 400. */
export class CatalogInputError extends CatalogError {
  override name = 'CatalogInputError';
  readonly status = 400;
}

/** Maps to Magento's NoSuchEntityException: HTTP 404. */
export class CatalogNotFoundError extends CatalogError {
  override name = 'CatalogNotFoundError';
  readonly status = 404;
}

/** Substitutes `%1`… (positional) or `%name` (named) placeholders the way Magento's Phrase renderer does. */
export function renderPhrase(template: string, parameters: ErrorParameters): string {
  if (Array.isArray(parameters)) {
    return template.replace(/%(\d+)/g, (whole, n: string) => {
      const v = parameters[Number(n) - 1];
      return v === undefined ? whole : String(v);
    });
  }
  return template.replace(/%([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) =>
    Object.hasOwn(parameters, name) ? String(parameters[name]) : whole,
  );
}

export const MESSAGES = {
  productNotFound: "The product that was requested doesn't exist. Verify the product and try again.",
  entityNotFound: "The entity that was requested doesn't exist. Verify the entity and try again.",
  noSuchEntityField: 'No such entity with %fieldName = %fieldValue',
  attributeEmpty: 'The "%1" attribute value is empty. Set the attribute and try again.',
  attributeNotUnique: 'The value of the "%1" attribute isn\'t unique. Set a unique value and try again.',
  skuTooLong: 'SKU length should be %1 characters maximum.',
  notNegative: 'Please enter a number 0 or greater in this field.',
  required: '"%fieldName" is required. Enter and try again.',
  invalidFieldValue: 'Invalid value of "%value" provided for the %fieldName field.',
  minValue: 'The %fieldName value of "%value" must be greater than or equal to %minValue.',
  notSupported: '"%fieldName" is not supported. Correct the field name and try again.',
  invalidAttribute: 'Invalid attribute name: %1',
  sortDirection: 'The sort order has to be specified as %1 for ascending order or %2 for descending order.',
  requiredValue: '"%1" is a required value.',
  emailMissing: 'The customer email is missing. Enter and try again.',
  invalidEmail: '"%1" is not a valid email address.',
  emailNotUnique: 'A customer with the same email address already exists in an associated website.',
  inputEmpty: 'Input data is empty',
  sourceItemNotSaved: 'Could not save Source Item',
  fieldEmpty: '"%field" can not be empty.',
  fieldSpaces: '"%field" can not contain leading or trailing spaces.',
  fieldWhitespace: '"%field" can not contain whitespaces.',
  fieldNumeric: '"%field" should be numeric.',
  // Magento's own wording (InventoryApi StatusValidator).
  fieldStatus: '"%field" should a known status.',
} as const;

/**
 * Magento renders this one before it reaches the REST layer, so its body shows the filled-in text and
 * no parameters.
 */
export function invalidTypeError(value: string, type: string): CatalogInputError {
  return new CatalogInputError(
    `The "${value}" value's type is invalid. The "${type}" type was expected. Verify and try again.`,
  );
}
