// The one-time message for the page after a redirect ("Saved", "Cannot remove…"), kept in the
// session for every part's pages: one module, one typed session field.
import type { Request, RequestHandler, Response } from 'express';

export interface Flash {
  text: string;
  /** Shown as an error (the page's own error banner) rather than a confirmation. */
  error?: boolean;
}

declare module 'express-session' {
  interface SessionData {
    flash?: Flash;
  }
}

export function setFlash(req: Request, text: string, error = false): void {
  if (req.session) req.session.flash = { text, error };
}

/** `{ flash, flashError }` for res.render: the layout shows `flash`; our pages show errors themselves. */
export function takeFlash(req: Request): { flash?: string; flashError?: string } {
  const stored = req.session?.flash;
  if (!stored) return {};
  delete req.session.flash;
  return stored.error ? { flashError: stored.text } : { flash: stored.text };
}

/**
 * Shows a pending flash on the very next page rendered after a redirect, whichever page that is
 * (e.g. the edit form a duplicate lands on), and only once: every res.render that was not given a
 * flash of its own takes the stored one. Redirects and JSON answers leave it in place.
 */
export function flashOnNextPage(): RequestHandler {
  return (req, res, next) => {
    const render = res.render.bind(res) as (view: string, options?: object, callback?: (err: Error, html: string) => void) => void;
    res.render = function renderWithFlash(view: string, options?: object | ((err: Error, html: string) => void), callback?: (err: Error, html: string) => void) {
      if (typeof options === 'function') {
        callback = options as (err: Error, html: string) => void;
        options = undefined;
      }
      const locals = { ...(options ?? {}) } as { flash?: unknown; flashError?: unknown };
      if (locals.flash === undefined && locals.flashError === undefined) {
        const taken = takeFlash(req);
        if (taken.flash !== undefined) locals.flash = taken.flash;
        if (taken.flashError !== undefined) locals.flashError = taken.flashError;
      }
      render(view, locals, callback);
    } as Response['render'];
    next();
  };
}
