declare module 'oauth-sign' {
  type Params = Record<string, string | string[]>;
  export function hmacsign(
    method: string,
    baseUri: string,
    params: Params,
    consumerSecret: string,
    tokenSecret?: string,
  ): string;
  export function hmacsign256(
    method: string,
    baseUri: string,
    params: Params,
    consumerSecret: string,
    tokenSecret?: string,
  ): string;
  export function rfc3986(str: string): string;
}
