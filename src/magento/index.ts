export {
  MagentoClient,
  type BearerTokenSource,
  type GetOptions,
  type MagentoClientOptions,
} from './client.js';
export {
  ADOBE_IMS_TOKEN_URL,
  DEFAULT_IMS_SCOPES,
  ImsTokenError,
  ImsTokenProvider,
  sharedImsTokenProvider,
  type ImsClientCredentials,
} from './ims-token.js';
export {
  MagentoApiError,
  MagentoAuthError,
  MagentoError,
  MagentoExpiredError,
  MagentoNetworkError,
  fillPlaceholders,
  redactUrl,
  type MagentoParameters,
} from './errors.js';
export {
  SearchCriteria,
  searchCriteria,
  type ConditionType,
  type Filter,
  type FilterValue,
  type SearchResults,
  type SortDirection,
} from './search-criteria.js';
export {
  exchangeTokens,
  type AccessTokens,
  type ExchangeStepEvent,
  type ExchangeTokensInput,
} from './token-exchange.js';
export {
  DEVELOPMENT_OUTBOUND,
  PRODUCTION_OUTBOUND,
  StoreAddressRefused,
  addressRefusal,
  defaultOutboundPolicy,
  setDefaultOutboundPolicy,
  type OutboundPolicy,
} from './outbound-guard.js';
