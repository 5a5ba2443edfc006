export interface RestErrorItem {
  message: string;
  parameters?: string[] | Record<string, string>;
}

function hasParameters(parameters: RestErrorItem['parameters']): boolean {
  return Array.isArray(parameters)
    ? parameters.length > 0
    : parameters !== undefined && Object.keys(parameters).length > 0;
}

/** A REST error in Magento's `{message, parameters}` shape (contract §6.1). */
export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    readonly template: string,
    readonly parameters?: string[] | Record<string, string>,
    /** An aggregate InputException's errors, each `{message, parameters}` as Magento renders them. */
    readonly errors?: RestErrorItem[],
  ) {
    super(template);
  }

  toJSON(): {
    message: string;
    parameters?: string[] | Record<string, string>;
    errors?: RestErrorItem[];
  } {
    return {
      message: this.template,
      ...(hasParameters(this.parameters) ? { parameters: this.parameters } : {}),
      ...(this.errors && this.errors.length > 0 ? { errors: this.errors } : {}),
    };
  }
}

export const notAuthorized = (resources: string[]) =>
  new RestError(401, "The consumer isn't authorized to access %resources.", {
    resources: resources.join(', '),
  });
