/** One line of an activation's log; a failed activation carries its log in its AdminError. */
export interface ActivationStep {
  step: 'reauthorize' | 'consumer_updated' | 'verifier' | 'callback_post' | 'popup' | 'tokens_issued';
  at: string;
  detail: string;
  ok: boolean;
}

/** A failure the admin (page or API) is shown; `status` is the HTTP answer of the admin API. */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    message: string,
    readonly status: number,
    readonly steps?: ActivationStep[],
  ) {
    super(message);
  }
}
