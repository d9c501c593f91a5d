// A brake on guessing secret links: personal and site links (/a/, /s/) and organizer invitations
// (/invite/) answer 404 to a wrong token; after too many of those from one address, every such
// link answers 429 for a while. A right link costs nothing. Calendar feeds are left out on
// purpose: calendar services fetch every subscriber's feed from a few shared addresses, so a
// handful of revoked feeds still polled there would shut every feed out for everyone.
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { TooManyRequests } from './errors.js';

export const linkPaths = ['/a/', '/s/', '/invite/'];

/** Wrong links allowed per address every 15 minutes (a district hall behind one NAT included). */
export const wrongLinkLimit = 50;

export function linkGuessLimiter(limit = wrongLinkLimit): RequestHandler {
  return rateLimit({
    windowMs: 15 * 60_000,
    limit,
    // Only the links that turned out wrong count.
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode < 400,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? ''),
    handler: (_req, _res, next) => next(new TooManyRequests('error.tooManyLinkAttempts')),
  });
}
