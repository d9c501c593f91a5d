// Sign-in, sign-out, first-admin setup, and the capability links that sign coordinators and
// attendees in without an account.
import { Router, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { authenticate, createFirstAdmin, hasAnyAccount, sessionEnded } from './actions.js';
import { homeOf, openLink, type LinkGrant } from './links.js';
import type { Actor } from '../lib/actor.js';
import { actorOf, fieldErrors, localeOf, toErrorBody, translate } from '../lib/http.js';
import { AppError, Invalid, TooManyRequests } from '../lib/errors.js';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** The account's accessVersion at sign-in: a reset or disable since then ends the session. */
    accessVersion?: number;
    link?: LinkGrant;
  }
}

export interface AccountsRoutesOptions {
  /** One-time code for /setup, printed in the log at start while no account exists. */
  setupCode?: string;
  loginRateLimit: number;
}

export function accountsRoutes(options: AccountsRoutesOptions): Router {
  const router = Router();

  const loginLimiter = rateLimit({
    windowMs: 15 * 60_000,
    limit: options.loginRateLimit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => `${ipKeyGenerator(req.ip ?? '')}|${String(req.body?.email ?? '').trim().toLowerCase()}`,
    handler: (_req, _res, next) => next(new TooManyRequests('accounts.tooManyAttempts')),
  });

  router.get('/login', async (req, res) => {
    if (!(await hasAnyAccount())) return res.redirect(303, '/setup');
    const next = safeNext(req.query.next);
    // A delegate or site coordinator lands here when their personal link was revoked or their session ended.
    const linkInvalid = next !== undefined && /^\/my(\/|\?|$)/.test(next);
    res.render('accounts/login', { title: translate(res, 'accounts.signIn'), values: { email: '' }, next, linkInvalid });
  });

  router.post('/login', loginLimiter, async (req, res) => {
    try {
      const user = await authenticate(req.body);
      await regenerate(req);
      req.session.userId = user.id;
      req.session.accessVersion = user.accessVersion;
      res.redirect(303, safeNext(req.body.next) ?? '/meetings');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res.status(error.status).render('accounts/login', {
        title: translate(res, 'accounts.signIn'),
        values: { email: String(req.body?.email ?? '') },
        next: safeNext(req.body?.next),
        formError: toErrorBody(error, localeOf(res)).error.message,
      });
    }
  });

  router.post('/logout', async (req, res) => {
    const sessionId = req.sessionID;
    await new Promise<void>((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
    sessionEnded(sessionId);
    res.clearCookie('bp.sid');
    res.redirect(303, '/login');
  });

  router.get('/setup', async (_req, res) => {
    if (await hasAnyAccount()) return res.redirect(303, '/login');
    res.render('accounts/setup', { title: translate(res, 'accounts.setupTitle'), values: {} });
  });

  router.post('/setup', async (req, res) => {
    if (!options.setupCode || (await hasAnyAccount())) return res.redirect(303, '/login');
    try {
      const user = await createFirstAdmin(req.body, { expected: options.setupCode, given: req.body?.setupCode });
      await regenerate(req);
      req.session.userId = user.id;
      res.redirect(303, '/meetings');
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      res.status(422).render('accounts/setup', {
        title: translate(res, 'accounts.setupTitle'),
        values: { email: req.body?.email, name: req.body?.name },
        errors: fieldErrors(error, localeOf(res)),
      });
    }
  });

  // Following a link while someone else is signed in asks first (GET shows the question, the
  // page's POST with its CSRF token switches); otherwise the link signs in at once.
  for (const [prefix, kind] of [['/s', 'site'], ['/a', 'attendee']] as const) {
    router.get(`${prefix}/:token`, async (req, res) => {
      const grant: LinkGrant = { kind, token: req.params.token };
      const { target, replaces } = await openLink(actorOf(res), grant);
      if (!replaces) return signInWithLink(req, res, grant, target);
      res.render('accounts/switch', {
        title: translate(res, 'accounts.switch.title'),
        current: describeActor(res, replaces),
        target: describeActor(res, target),
        action: `${prefix}/${encodeURIComponent(req.params.token)}`,
        stayHref: homeOf(replaces),
      });
    });
    router.post(`${prefix}/:token`, async (req, res) => {
      const grant: LinkGrant = { kind, token: req.params.token };
      const { target } = await openLink(actorOf(res), grant);
      await signInWithLink(req, res, grant, target);
    });
  }

  /** Who am I, and the CSRF token for API calls made with the session cookie. */
  router.get('/api/v1/session', (_req, res) => {
    res.json({ actor: actorOf(res), csrfToken: res.locals.csrfToken, locale: localeOf(res) });
  });

  return router;
}

async function signInWithLink(req: Request, res: Response, grant: LinkGrant, target: Actor): Promise<void> {
  await regenerate(req);
  req.session.link = grant;
  res.redirect(303, homeOf(target));
}

/** "Lê Thị Hồng (đại biểu)": who someone is, for the question before switching. */
function describeActor(res: Response, actor: Actor): string {
  return translate(res, `accounts.as.${actor.kind}`, { name: 'name' in actor ? actor.name : '' });
}

/** A fresh session id at every sign-in (no session fixation); the old session's sockets close. */
export async function regenerate(req: Request): Promise<void> {
  const previous = req.sessionID;
  await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
  sessionEnded(previous);
}

/** Only local paths, so a crafted ?next= cannot send the user elsewhere after sign-in. */
function safeNext(value: unknown): string | undefined {
  // "/x" only: not "//host" nor "/\\host" (browsers read both as another site), no spaces or controls.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a safe path may not hold
  return typeof value === 'string' && /^\/(?![/\\])[^\s\\\x00-\x1f]*$/.test(value) ? value : undefined;
}
