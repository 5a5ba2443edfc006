export {
  RFC_PROFILE,
  alternativeProfiles,
  authorizationHeader,
  createNonce,
  sameBaseString,
  type OAuthCredentials,
  type SignOptions,
  type SignableRequest,
  type SignatureMethod,
  type SigningProfile,
} from './sign.js';
export { encodeQuery, laminasPath, rfc3986, signedQueryParams, type QueryPairs } from './encoding.js';
export { strnatcmp } from './strnatcmp.js';
