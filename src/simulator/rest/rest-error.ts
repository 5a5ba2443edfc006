/** A REST error in Magento's `{message, parameters}` shape (contract §6.1). */
export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    readonly template: string,
    readonly parameters?: string[] | Record<string, string>,
    /** An aggregate exception's errors, rendered as Magento's `errors` array. */
    readonly errors?: { message: string; parameters: unknown }[],
  ) {
    super(template);
  }

  toJSON(): {
    message: string;
    parameters?: string[] | Record<string, string>;
    errors?: { message: string; parameters: unknown }[];
  } {
    const hasParams = Array.isArray(this.parameters)
      ? this.parameters.length > 0
      : this.parameters !== undefined && Object.keys(this.parameters).length > 0;
    return {
      message: this.template,
      ...(hasParams ? { parameters: this.parameters } : {}),
      ...(this.errors?.length ? { errors: this.errors } : {}),
    };
  }
}

export const notAuthorized = (resources: string[]) =>
  new RestError(401, "The consumer isn't authorized to access %resources.", {
    resources: resources.join(', '),
  });
