/**
 * Magento's two OAuth exception kinds: Oauth\Exception (401) and OauthInputException (400).
 * The message stays a template with its parameters, because REST errors show the raw template
 * while the token endpoints show the rendered text (contract §3.2, §6.1).
 */
export class OauthProblem extends Error {
  override name = 'OauthProblem';
  constructor(
    readonly template: string,
    readonly status: 400 | 401,
    readonly parameters: string[] = [],
  ) {
    super(renderTemplate(template, parameters));
  }
}

export const oauthError = (template: string, ...parameters: string[]) =>
  new OauthProblem(template, 401, parameters);
export const inputError = (template: string, ...parameters: string[]) =>
  new OauthProblem(template, 400, parameters);

export function renderTemplate(template: string, parameters: string[] | Record<string, string>): string {
  if (Array.isArray(parameters))
    return template.replace(/%(\d+)/g, (m, n: string) => parameters[Number(n) - 1] ?? m);
  return template.replace(/%([a-zA-Z_]+)/g, (m, n: string) => parameters[n] ?? m);
}

export const MESSAGES = {
  version: 'The "%1" Oauth version isn\'t supported.',
  required: '"%1" is required. Enter and try again.',
  tokenLength: 'The token length is invalid. Check the length and try again.',
  method: 'Signature method %1 is not supported',
  consumerLength: 'Consumer key is not the correct length',
  consumerMissing: 'A consumer having the specified key does not exist',
  timestamp: 'Incorrect timestamp value in the oauth_timestamp parameter',
  nonceUsed: 'The nonce is already being used by the consumer with ID %1',
  consumerExpired: 'Consumer key has expired',
  signature: 'The signature is invalid. Verify and try again.',
  noToken: 'A token with consumer ID %1 does not exist',
  notVerifier: 'Cannot create request token because consumer token is not a verifier token',
  tokenMissing: 'Specified token does not exist',
  requestTokenConsumer: 'Request token is not associated with the specified consumer',
  tokenUsed: 'Token is already being used',
  verifierInvalid: 'Verifier is invalid',
  verifierLength: 'Verifier is not the correct length',
  verifierMismatch: 'Token verifier and verifier token do not match',
  tokenConsumer: 'Token is not associated with the specified consumer',
  notAccess: 'Token is not an access token',
  revoked: 'Access token has been revoked',
} as const;
