/** The URL with its password (and any password parameter) masked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(name)) parsed.searchParams.set(name, '***');
    }
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** "ECONNREFUSED", "password authentication failed for user ...", a timeout... */
export function describeCause(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && !text.includes(code)) {
    return text ? `${code} (${text})` : code;
  }
  return text || String(error);
}

export function connectionError(url: string, error: unknown): Error {
  return new Error(`Could not connect to DATABASE_URL (${redactUrl(url)}): ${describeCause(error)}`, {
    cause: error,
  });
}
