// What every route handler can rely on: the asker (actor), their language, the CSRF token, and a
// uniform way to answer a form or API call. Filled in by app.ts middleware.
import type { Request, Response, Router } from 'express';
import type { Actor } from './actor.js';
import { AppError, Invalid, NotFound, TooManyRequests, Unavailable } from './errors.js';
import { t, type Locale, type MessageParams } from './i18n.js';
import { describeField } from './validation.js';
import { isObjectIdString } from './input.js';
import { setFlash } from './flash.js';

declare global {
  // Express's own augmentation point for res.locals.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      actor: Actor;
      locale: Locale;
      csrfToken: string;
      /** The path of the current page, for the language switch and redirects after sign-in. */
      currentPath: string;
    }
  }
}

export function actorOf(res: Response): Actor {
  return res.locals.actor;
}

export function localeOf(res: Response): Locale {
  return res.locals.locale;
}

export function translate(res: Response, key: string, params?: MessageParams): string {
  return t(res.locals.locale, key, params);
}

/**
 * An absolute link to send out (copied into an e-mail or a chat): under PUBLIC_URL when set, so a
 * link never carries whatever Host header the request came with; else the request's own origin.
 */
export function absoluteUrl(req: Request, path: string): string {
  const base = (req.app.get('publicUrl') as string | undefined) ?? `${req.protocol}://${req.get('host')}`;
  return `${base}${path}`;
}

/** API calls live under /api/; everything else is a page. */
export function isApiRequest(req: Request): boolean {
  return req.originalUrl.startsWith('/api/');
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string>; retryAfterMs?: number };
}

/** The one error shape, for JSON responses and Socket.IO acks alike. */
export function toErrorBody(error: AppError, locale: Locale): ErrorBody {
  const fields = Object.fromEntries(Object.entries(error.fields).map(([path, field]) => [path, describeField(locale, field)]));
  return {
    error: {
      code: error.code,
      message: t(locale, error.messageKey, error.params),
      ...(Object.keys(fields).length > 0 ? { fields } : {}),
      ...((error instanceof TooManyRequests || error instanceof Unavailable) && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    },
  };
}

/**
 * For form pages: field messages of an Invalid error, translated, keyed by field path, so a
 * view can show each next to its input (`{{errors.title}}`).
 */
export function fieldErrors(error: Invalid, locale: Locale): Record<string, string> {
  return toErrorBody(error, locale).error.fields ?? {};
}

/** Path parameters that name a document by its ObjectId. */
const idParams = ['meetingId', 'siteId', 'attendeeId', 'itemId', 'draftId', 'directiveId', 'taskId', 'userId', 'unitId'] as const;

/**
 * A path whose id is not even an ObjectId names nothing: 404, as for an id that does not exist,
 * rather than the 422 the action's validation would give for a field.
 */
export function notFoundForMalformedIds(router: Router): Router {
  for (const name of idParams) {
    router.param(name, (_req, _res, next, value: string) => next(isObjectIdString(value) ? undefined : new NotFound()));
  }
  return router;
}

/** The named fields of a form or JSON body, and nothing else (the rest is never passed to an action). */
export function pickFields(body: unknown, keys: readonly string[]): Record<string, unknown> {
  const source = (body ?? {}) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of keys) if (key in source) picked[key] = source[key];
  return picked;
}

/**
 * A refusal (409: attendees still assigned, a transition the meeting's status does not allow) or,
 * unless the page has a form of its own for them, a small form's mistakes (422) come back to the
 * page `to` as one error message instead of an error page: the field messages when the error
 * names fields, else its own message. Anything else is thrown on, to the error handler.
 */
export function redirectWithRefusal(req: Request, res: Response, error: unknown, to: string, options: { invalid?: boolean } = {}): void {
  const invalid = error instanceof Invalid;
  if (!(error instanceof AppError) || !(error.status === 409 || (invalid && options.invalid !== false))) throw error;
  const fields = invalid ? Object.values(fieldErrors(error, localeOf(res))) : [];
  setFlash(req, fields.length > 0 ? fields.join(' ') : toErrorBody(error, localeOf(res)).error.message, true);
  res.redirect(303, to);
}
