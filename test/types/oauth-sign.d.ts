declare module 'oauth-sign' {
  type Params = Record<string, string | string[]>;
  type Sign = (
    method: string,
    baseUri: string,
    params: Params,
    consumerSecret: string,
    tokenSecret?: string,
  ) => string;
  export const hmacsign: Sign;
  export const hmacsign256: Sign;
  export function rfc3986(str: string): string;
}
