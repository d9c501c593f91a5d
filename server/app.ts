// Assembles the Express app: security headers, sessions, the asker's identity and language,
// CSRF, the domain routers, views, and the one error handler.
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import session from 'express-session';
import mongoose from 'mongoose';
import helmet from 'helmet';
import cookieParser from 'cookie-parser';
import compression from 'compression';
import type { Logger } from 'pino';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createViewEngine } from './views.js';
import { assetsMiddleware, inlineAssetHash, inlineScriptHashes } from './assets.js';
import { accountsRoutes } from './accounts/routes.js';
import { adminRoutes } from './accounts/admin-routes.js';
import { bearerFrom, resolveActor } from './accounts/identify.js';
import { createSessionStore } from './accounts/session-store.js';
import { meetingsRoutes } from './meetings/routes.js';
import { sitesRoutes } from './sites/routes.js';
import { attendeesRoutes } from './attendees/routes.js';
import { agendaRoutes } from './agenda/routes.js';
import { calendarRoutes } from './calendar/routes.js';
import { configureCalendar, type CalendarSettings } from './calendar/settings.js';
import { liveRoutes } from './live/routes.js';
import { screensRoutes } from './screens/routes.js';
import { followupRoutes } from './followup/routes.js';
import { reportsRoutes } from './reports/routes.js';
import { minutesRoutes } from './minutes/routes.js';
import { summaryRoutes } from './summary/routes.js';
import { auditRoutes } from './audit/routes.js';
import { AppError, Invalid, isDatabaseUnreachable, NotFound, TooLarge, Unavailable } from './lib/errors.js';
import { defaultLocale, isLocale, t } from './lib/i18n.js';
import { isApiRequest, toErrorBody } from './lib/http.js';
import { bodyError, bodyParsers } from './lib/request-body.js';
import { csrfProtection } from './lib/csrf.js';
import { linkGuessLimiter, linkPaths } from './lib/link-guard.js';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppOptions {
  sessionSecret: string;
  isProduction: boolean;
  logger: Logger;
  loginRateLimit: number;
  setupCode?: string;
  trustProxy?: string;
  /** PUBLIC_URL, MAIL_FROM and SMTP_URL for calendar files and invitation e-mails. */
  calendar?: CalendarSettings;
  /** PUBLIC_URL: the base of links sent out (coordinator and personal links); else the request's host. */
  publicUrl?: string;
}

export interface BuiltApp {
  app: express.Express;
  /** The session middleware, shared with Socket.IO's handshake. */
  sessionMiddleware: RequestHandler;
  /** Its store, for Socket.IO to read a socket's session again when it re-checks the asker. */
  sessionStore: session.Store;
}

export function createApp(options: AppOptions): BuiltApp {
  const app = express();
  app.disable('x-powered-by');
  // Every page and API answer is Cache-Control: no-store (below): an ETag would only cost a hash
  // of each body (a 100 KB attendee page) that no browser or proxy ever sends back.
  app.set('etag', false);
  if (options.calendar) configureCalendar(options.calendar);
  if (options.publicUrl) app.set('publicUrl', options.publicUrl.replace(/\/+$/, ''));
  if (options.trustProxy) app.set('trust proxy', trustProxySetting(options.trustProxy));

  createViewEngine(app, path.join(rootDir, 'views'));

  app.use(requestLogger(options.logger));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Pages load only our own bundles; data for scripts travels in <script type="application/json">.
          // The two slow-link pages inline their bundle, allowed by its hash (assets.ts).
          'script-src': ["'self'", () => inlineScriptHashes()],
          // No 'unsafe-inline' styles either: the one inline stylesheet (day-of screens) is
          // allowed by its hash, and no template carries a style attribute.
          'style-src': ["'self'", () => inlineStyleSource()],
          'img-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'upgrade-insecure-requests': options.isProduction ? [] : null,
        },
      },
    }),
  );
  // District links are slow: pages and JSON go out brotli/gzip-compressed (bundles are
  // precompressed at build time and skipped here).
  // Brotli at quality 3 rather than the library's 4: for a 70 KB attendee page about half the
  // CPU (0.25 ms instead of 0.45) for 6% more bytes (7.2 KB instead of 6.7). A 256 KB window
  // (lgwin 18) rather than brotli's 4 MB: each response's encoder allocated that window anew,
  // and under 20 concurrent requests the fresh memory and the garbage collections it brought on
  // cost the attendee page 5.6 ms of CPU per request (8.0 -> 2.4 ms measured, same bytes out:
  // no page comes near 256 KB).
  app.use(
    compression({
      filter: (req, res) => !req.path.startsWith('/assets/') && compression.filter(req, res),
      brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 3, [zlib.constants.BROTLI_PARAM_LGWIN]: 18 } },
    }),
  );
  app.use('/assets', assetsMiddleware());
  // Pages and API answers carry personal data and CSRF tokens: never stored by a browser or proxy.
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // For a load balancer or an orchestrator: 503 while the database is out of reach, so traffic
  // goes to instances that can serve it (the process itself stays up and reconnects).
  app.get('/healthz', (_req, res) => {
    const ok = mongoose.connection.readyState === 1;
    res.status(ok ? 200 : 503).json({ ok });
  });

  app.use(cookieParser());
  // The language first, so even a body that cannot be read is refused in the asker's language.
  app.use(chooseLocale);
  app.use(bodyParsers());

  const sessionStore = createSessionStore(mongoose.connection.getClient(), mongoose.connection.db?.databaseName);
  const sessionMiddleware = session({
    name: 'bp.sid',
    secret: options.sessionSecret,
    resave: false,
    saveUninitialized: false,
    store: sessionStore,
    // 'auto': Secure whenever the request came over TLS (with TRUST_PROXY, X-Forwarded-Proto), so
    // a staging server behind HTTPS does not send its session cookie in clear either.
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.isProduction ? true : 'auto', maxAge: 14 * 24 * 3600 * 1000 },
  });
  app.use(linkPaths, linkGuessLimiter());
  app.use(sessionMiddleware);
  app.use(identifyActor);
  app.use(csrfProtection({ secret: options.sessionSecret, isProduction: options.isProduction }));

  app.use(accountsRoutes({ setupCode: options.setupCode, loginRateLimit: options.loginRateLimit }));
  app.use(meetingsRoutes());
  app.use(adminRoutes());
  app.use(sitesRoutes());
  app.use(attendeesRoutes());
  app.use(agendaRoutes());
  app.use(calendarRoutes());
  app.use(liveRoutes());
  app.use(screensRoutes());
  app.use(followupRoutes());
  app.use(reportsRoutes());
  app.use(minutesRoutes());
  app.use(summaryRoutes());
  app.use(auditRoutes());

  app.use((_req, _res, next) => next(new NotFound()));
  app.use(errorHandler(options.logger));
  return { app, sessionMiddleware, sessionStore };
}

/** The CSP source of the inlined stylesheet ('self' again when the bundles are not built yet). */
function inlineStyleSource(): string {
  try {
    return inlineAssetHash('styles.css');
  } catch {
    return "'self'";
  }
}

/**
 * One log line per finished request (method, URL, status, time). pino-http did the same with a
 * child logger and serializers per request, which cost about as much as a whole store round trip
 * even with logging off; this attaches nothing when info is not logged.
 */
function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled('info') || req.url.startsWith('/assets/')) return next();
    const started = performance.now();
    res.once('finish', () => {
      const responseTime = Math.round(performance.now() - started);
      const url = loggableUrl(req.originalUrl);
      const entry = { req: { method: req.method, url }, res: { statusCode: res.statusCode }, responseTime };
      if (res.statusCode >= 500) logger.error(entry, 'request errored');
      else logger.info(entry, 'request completed');
    });
    next();
  };
}

/** TRUST_PROXY (as config.ts checked it) as Express takes it: true/false, a number of proxies, or addresses. */
export function trustProxySetting(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * URLs as logged: personal and site links (/a/<token>, /s/<token>), calendar feed links
 * (/calendar/feeds/<token>.ics) and organizer invitations (/invite/<token>) are secrets, and
 * multipart forms carry the CSRF token in their URL (no header without JavaScript). Routes match
 * without regard to case (`/A/<token>` opens the link too), and so does this.
 */
export function loggableUrl(url: string): string {
  return url
    .replace(/^\/(a|s|invite)\/[^/?]+/i, '/$1/[redacted]')
    .replace(/^\/(calendar\/feeds)\/[^/?]+?(\.ics)?(?=$|[/?])/i, '/$1/[redacted]$2')
    .replace(/([?&]_csrf=)[^&]*/, '$1[redacted]');
}

/** `?lang=en` switches the language and remembers it; Vietnamese is the default. */
const chooseLocale: RequestHandler = (req, res, next) => {
  const asked = req.query.lang;
  if (isLocale(asked)) res.cookie('lang', asked, { maxAge: 365 * 24 * 3600 * 1000, sameSite: 'lax', httpOnly: false, secure: req.secure });
  const cookie = req.cookies?.lang;
  res.locals.locale = isLocale(asked) ? asked : isLocale(cookie) ? cookie : defaultLocale;
  res.locals.currentPath = req.path;
  next();
};

const identifyActor: RequestHandler = async (req, res, next) => {
  try {
    res.locals.actor = await resolveActor({ bearerToken: bearerFrom(req.get('authorization')), session: req.session });
    next();
  } catch (error) {
    next(error);
  }
};

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    if (!appError) logger.error({ err: error, url: loggableUrl(req.originalUrl) }, 'unhandled error');
    else if (appError instanceof Unavailable) logger.warn({ err: error, url: loggableUrl(req.originalUrl) }, 'database unreachable');
    const status = appError?.status ?? 500;
    const locale = res.locals.locale ?? defaultLocale;
    const body = appError ? toErrorBody(appError, locale) : { error: { code: 'internal', message: t(locale, 'error.internal') } };
    if (res.headersSent) return;
    if (status === 401 && !isApiRequest(req) && req.method === 'GET') {
      return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    res.status(status);
    if (isApiRequest(req) || req.accepts(['html', 'json']) === 'json') return res.json(body);
    res.render('error', { title: body.error.message, status, message: body.error.message, fields: 'fields' in body.error ? body.error.fields : undefined }, (renderError: Error | null, html?: string) => {
      if (!renderError) return res.send(html);
      // The error page itself failed (e.g. bundles missing): say it in one line, never with
      // Express's default page, which shows the stack outside production.
      logger.error({ err: renderError, url: loggableUrl(req.originalUrl) }, 'error page failed');
      res.type('text/plain').send(body.error.message);
    });
  };
}

/** Errors from libraries, in the project's terms. */
function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnreachable(error)) return new Unavailable('error.unavailable');
  if (error instanceof mongoose.Error.CastError) return new NotFound();
  if (error instanceof mongoose.Error.ValidationError) {
    return new Invalid(Object.fromEntries(Object.entries(error.errors).map(([path, problem]) => [path, { key: problem.message }])));
  }
  const fromBody = bodyError(error);
  if (fromBody) return fromBody;
  if ((error as { code?: unknown } | null)?.code === 'LIMIT_FILE_SIZE') return new TooLarge('error.tooLarge');
  return undefined;
}
