import { sleep } from './common.js';

/**
 * A browser on one connector instance, scripted: the store admin's identity-link popup (log in once,
 * as a browser keeps its session, then follow the progress page to success_call_back) and the
 * dashboard's "sync now".
 */
export class BrowserSession {
  private readonly cookies = new Map<string, string>();
  private csrf: string | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly email: string,
    private readonly password: string,
  ) {}

  private async request(
    pathAndQuery: string,
    init: { method?: string; form?: Record<string, string>; accept?: string } = {},
  ) {
    const res = await fetch(new URL(pathAndQuery, this.baseUrl), {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(init.accept ? { accept: init.accept } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return { status: res.status, location: res.headers.get('location') ?? undefined, body: await res.text() };
  }

  /**
   * Opens the link and submits the login form. Resolves with the progress URL (303), or explains why
   * the page did not get that far (e.g. 404: this instance has not seen the store's callback).
   */
  async link(
    consumerKey: string,
    successCallBack: string,
  ): Promise<{ ok: true; progress: string } | { ok: false; why: string }> {
    const query = new URLSearchParams({
      oauth_consumer_key: consumerKey,
      success_call_back: successCallBack,
    });
    const page = await this.request(`/magento/identity?${query}`);
    if (page.status !== 200) return { ok: false, why: `GET identity: HTTP ${page.status}` };
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!csrf) return { ok: false, why: 'GET identity: no CSRF token in the page' };
    const posted = await this.request('/magento/identity', {
      method: 'POST',
      form: {
        oauth_consumer_key: consumerKey,
        success_call_back: successCallBack,
        email: this.email,
        password: this.password,
        _csrf: csrf,
      },
    });
    if (posted.status !== 303 || !posted.location)
      return { ok: false, why: `POST identity: HTTP ${posted.status}` };
    return { ok: true, progress: posted.location };
  }

  /** Logs in on the dashboard's login form. */
  async logIn(): Promise<void> {
    const page = await this.request('/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const posted = await this.request('/login', {
      method: 'POST',
      form: { email: this.email, password: this.password, _csrf: csrf, next: '/' },
    });
    if (posted.status !== 303) throw new Error(`login on ${this.baseUrl}: HTTP ${posted.status}`);
    // The token is bound to the new session; fetched once here so concurrent forms share one cookie.
    this.csrf = /name="_csrf" value="([^"]+)"/.exec((await this.request('/')).body)?.[1] ?? '';
  }

  /** The dashboard's "sync now" for one store (after logIn); resolves with the HTTP status (202 = queued). */
  async syncNow(consumerKey: string): Promise<number> {
    if (this.csrf === undefined) throw new Error('log in first');
    const res = await this.request(`/integrations/${consumerKey}/sync`, {
      method: 'POST',
      form: { _csrf: this.csrf },
      accept: 'application/json',
    });
    return res.status;
  }

  /** Follows the progress page until it redirects to success_call_back (the store is active). */
  async waitForSuccess(progress: string, successCallBack: string, timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      const res = await this.request(progress);
      if (res.status === 303 && res.location === successCallBack) return 'redirected';
      last = `HTTP ${res.status}${res.location ? ` to ${res.location}` : ''}`;
      if (res.status !== 200) return last;
      await sleep(250);
    }
    return `still waiting (${last})`;
  }
}
