import type { AccountErrorCode } from '../accounts/users.js';
import type {
  ActivationRefusedError,
  ActivationUnavailableError,
  LiveIntegrationExistsError,
} from '../activation/activation-service.js';
import type { CallbackErrorCode } from '../activation/callback-route.js';
import type { IdentityLinkErrorCode } from '../activation/identity-routes.js';
import type { RegistrationError } from '../activation/register-store.js';
import type { AppError } from '../errors.js';
import {
  MagentoError,
  type MagentoApiError,
  type MagentoAuthError,
  type MagentoExpiredError,
} from '../magento/errors.js';
import type { ImsTokenError } from '../magento/ims-token.js';
import type { StoreAddressRefused } from '../magento/outbound-guard.js';
import type { ModuleInputError } from '../module/generate.js';
import type { DecryptionError, DifferentKeyError } from '../storage/crypto.js';
import type { SchemaTooNewError } from '../storage/postgres/migrate.js';
import type { DuplicateError, NotFoundError } from '../storage/types.js';
import type { DeletionScanError } from '../sync/deletion-scan.js';
import type { CsvError } from '../sync/import-export/csv.js';
import type { MalformedDeliveryError } from '../sync/webhooks/events.js';
import type { StaleReadError } from '../sync/webhooks/webhook-service.js';
import type { WebhookSettingsError } from '../sync/webhooks/webhook-settings.js';

/** How the web edge answers one error code. */
export interface ErrorAnswer {
  status: number;
  /** The error page's heading; JSON answers carry only the message. */
  title: string;
  /** Replaces the error's own message where that speaks of the server's insides (keys, files). */
  message?: string;
  /** A fault on our side that no route reports: the edge logs it with the error. */
  log?: true;
}

/** Every fixed code a domain error declares: a new one that is not answered below fails typecheck. */
type KnownCode =
  | AccountErrorCode
  | ActivationRefusedError['code']
  | ActivationUnavailableError['code']
  | LiveIntegrationExistsError['code']
  | RegistrationError['code']
  | CallbackErrorCode
  | IdentityLinkErrorCode
  | MagentoAuthError['code']
  | MagentoApiError['code']
  | MagentoExpiredError['code']
  | ImsTokenError['code']
  | StoreAddressRefused['code']
  | 'MAGENTO_BAD_BASE_URL'
  | ModuleInputError['code']
  | DuplicateError['code']
  | NotFoundError['code']
  | DecryptionError['code']
  | DifferentKeyError['code']
  | SchemaTooNewError['code']
  | DeletionScanError['code']
  | CsvError['code']
  | MalformedDeliveryError['code']
  | StaleReadError['code']
  | WebhookSettingsError['code'];

const REFUSED = 'Request refused';
const STORE = 'The store did not answer as expected';
const STORAGE_FAULT: ErrorAnswer = {
  status: 503,
  title: 'Unavailable',
  message: 'The connector cannot read its stored data right now. The error has been logged for the operator.',
  log: true,
};

export const ERROR_ANSWERS: Readonly<Record<KnownCode, ErrorAnswer>> = {
  // accounts
  invalid_email: { status: 400, title: REFUSED },
  weak_password: { status: 400, title: REFUSED },
  duplicate: { status: 409, title: 'Already exists' },
  unknown_user: { status: 404, title: 'Not found' },
  last_admin: { status: 409, title: REFUSED },
  // activation
  activation_refused: { status: 403, title: REFUSED },
  // The store reads any other answer than 200 as "try again later".
  activation_unavailable: { status: 503, title: 'Try again' },
  live_integration_exists: { status: 409, title: 'Store already linked' },
  registration_invalid: { status: 400, title: REFUSED },
  callback_too_large: { status: 413, title: REFUSED },
  callback_too_many_fields: { status: 413, title: REFUSED },
  callback_charset: { status: 415, title: REFUSED },
  callback_cut_short: { status: 400, title: REFUSED },
  callback_unreadable: { status: 400, title: REFUSED },
  callback_not_form: { status: 415, title: REFUSED },
  callback_invalid: { status: 400, title: REFUSED },
  callback_store_url_invalid: { status: 400, title: REFUSED },
  callback_store_url_refused: { status: 403, title: REFUSED },
  callback_not_stored: { status: 503, title: 'Try again' },
  identity_link_invalid: { status: 400, title: 'Bad identity link' },
  identity_link_unknown: { status: 404, title: 'Waiting for the store' },
  identity_link_not_handshake: { status: 403, title: 'No identity link for this store' },
  identity_redirect_refused: { status: 400, title: 'Refused redirect' },
  identity_not_linked: { status: 403, title: 'Not linked' },
  identity_linked_elsewhere: { status: 403, title: 'Linked to another user' },
  // magento: the store is upstream of us, so its failures are a bad gateway, not our 500
  MAGENTO_AUTH: { status: 502, title: STORE, log: true },
  MAGENTO_API: { status: 502, title: STORE, log: true },
  MAGENTO_EXPIRED: { status: 502, title: STORE, log: true },
  IMS_TOKEN: { status: 502, title: STORE, log: true },
  MAGENTO_ADDRESS_REFUSED: { status: 403, title: 'Store address refused' },
  MAGENTO_BAD_BASE_URL: { status: 400, title: REFUSED },
  // module
  module_input_invalid: { status: 400, title: REFUSED },
  // storage: the messages name keys and ids, so the answer says it in general terms
  duplicate_record: { status: 409, title: 'Already exists', message: 'It already exists; reload the page.' },
  record_not_found: {
    status: 404,
    title: 'Not found',
    message: 'It does not exist, or no longer; reload the page.',
  },
  decryption_failed: STORAGE_FAULT,
  different_encryption_key: STORAGE_FAULT,
  schema_too_new: STORAGE_FAULT,
  // sync
  deletion_scan_failed: { status: 502, title: STORE, log: true },
  CSV_INVALID: { status: 400, title: REFUSED },
  malformed_delivery: { status: 400, title: REFUSED },
  stale_read: { status: 503, title: 'Try again', log: true },
  webhook_settings_invalid: { status: 400, title: REFUSED },
};

/** A store that could not be reached: the network error's code is the socket's (ECONNREFUSED, ...). */
const STORE_UNREACHABLE: ErrorAnswer = { status: 502, title: STORE, log: true };

/** The answer for a domain error; undefined for a code no one mapped, which the edge treats as a bug (500). */
export function answerFor(error: AppError): ErrorAnswer | undefined {
  if (Object.hasOwn(ERROR_ANSWERS, error.code)) return ERROR_ANSWERS[error.code as KnownCode];
  if (error instanceof MagentoError) return STORE_UNREACHABLE;
  return undefined;
}
