// One-time messages for the page after a redirect (meetings and sites pages), kept in the session.
import type { Request } from 'express';

type Flash = { text: string; error?: boolean };
type FlashSession = { meetingsFlash?: Flash };

export function setFlash(req: Request, text: string, error = false): void {
  const session = req.session as unknown as FlashSession | undefined;
  if (session) session.meetingsFlash = { text, error };
}

/** `{ flash, flashError }` for res.render: the layout shows `flash`; our pages show errors themselves. */
export function takeFlash(req: Request): { flash?: string; flashError?: string } {
  const session = req.session as unknown as FlashSession | undefined;
  const stored = session?.meetingsFlash;
  if (!stored) return {};
  delete session!.meetingsFlash;
  return stored.error ? { flashError: stored.text } : { flash: stored.text };
}
