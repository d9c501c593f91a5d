// CSRF protection for forms and cookie-authenticated API calls, without a session for anonymous
// visitors: a signed-in session keeps a synchronizer token (csrf-sync); an anonymous visitor of
// the sign-in forms gets a signed double-submit cookie instead (a random value in a cookie, the
// form carries its HMAC under the session secret), so anonymous traffic stores nothing.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';
import { Forbidden } from './errors.js';

export const anonymousCsrfCookie = 'bp.csrf';

/** Pages whose forms an anonymous visitor submits, and the API's token endpoint. */
const tokenIssuingPaths = new Set(['/login', '/setup', '/api/v1/session']);
const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function tokenFromRequest(req: Request): string | undefined {
  const header = req.get('x-csrf-token');
  if (header) return header;
  const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
  if (typeof fromBody === 'string') return fromBody;
  return typeof req.query._csrf === 'string' ? req.query._csrf : undefined;
}

export function csrfProtection(options: { secret: string; isProduction: boolean }): RequestHandler {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({ getTokenFromRequest: tokenFromRequest });
  const sign = (value: string) => createHmac('sha256', options.secret).update(`csrf:${value}`).digest('base64url');

  return (req, res, next) => {
    // Bearer-token calls carry no cookie a third-party page could ride on.
    if (/^Bearer\s+\S+$/i.test(req.get('authorization') ?? '')) {
      res.locals.csrfToken = '';
      return next();
    }
    if (req.session.userId || req.session.link) {
      res.locals.csrfToken = generateToken(req);
      return csrfSynchronisedProtection(req, res, (error?: unknown) => next(error ? new Forbidden('error.csrf') : undefined));
    }

    // Anonymous: only the sign-in forms (and the API's token endpoint) hand out a token.
    let value = typeof req.cookies?.[anonymousCsrfCookie] === 'string' ? (req.cookies[anonymousCsrfCookie] as string) : undefined;
    if (value !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(value)) value = undefined;
    res.locals.csrfToken = '';
    if (tokenIssuingPaths.has(req.path) && req.method === 'GET') {
      if (!value) {
        value = randomBytes(32).toString('base64url');
        res.cookie(anonymousCsrfCookie, value, { httpOnly: true, sameSite: 'lax', secure: options.isProduction || req.secure, path: '/' });
      }
      res.locals.csrfToken = sign(value);
    }
    if (!unsafeMethods.has(req.method)) return next();
    const given = tokenFromRequest(req);
    next(value && given && sameText(given, sign(value)) ? undefined : new Forbidden('error.csrf'));
  };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
