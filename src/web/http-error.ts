import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { answerFor } from './error-answers.js';

/** The web layer's own refusal, its status chosen here: status plus one sentence saying what to do. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly title = 'Request refused',
  ) {
    super(message);
  }
}

/** Machine callers (the store's callback POST, /api) get JSON; browsers get a page. */
function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path === '/magento/callback') return true;
  return req.accepts(['html', 'json']) === 'json';
}

/**
 * The one place errors become answers: a domain error by its code (error-answers.ts), express's and
 * the body parsers' by their status; anything else is a bug, a plain 500 that shows nothing of it.
 */
export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const e = error as {
      status?: number;
      statusCode?: number;
      code?: string;
      type?: string;
      expose?: boolean;
    };
    let status = 500;
    let message = 'Something went wrong on our side. The error has been logged.';
    let title = 'Error';
    const answer = error instanceof AppError ? answerFor(error) : undefined;
    if (error instanceof HttpError) {
      ({ status, message, title } = error);
    } else if (answer) {
      ({ status, title } = answer);
      message = answer.message ?? (error as AppError).message;
      if (answer.log) logger.error({ err: error, path: req.path }, 'request failed');
    } else if (
      e.code === 'EBADCSRFTOKEN' ||
      (e.status === 403 && /csrf/i.test(String((error as Error).message)))
    ) {
      status = 403;
      title = 'Form expired';
      message =
        'The form was missing its security token or it expired. Go back, reload the page and try again.';
    } else if (e.type === 'entity.too.large') {
      status = 413;
      message = 'The request body is too large.';
    } else if (e.type === 'entity.parse.failed') {
      status = 400;
      message = 'The request body could not be parsed.';
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      status = e.status;
      message = (error as Error).message;
    } else {
      logger.error({ err: error, path: req.path }, 'unhandled error');
    }
    if (res.headersSent) return;
    res.status(status);
    if (wantsJson(req)) res.json({ error: message });
    else res.render('error', { title, message, status, user: res.locals.user });
  };
}
