// A one-time message after a calendar form (RSVP saved, link made or revoked, invitations queued),
// kept in the session for the next page.
import type { Request } from 'express';

type Flash = { text: string; kind: 'ok' | 'error' };
type WithFlash = { calendarFlash?: Flash };

export function setFlash(req: Request, text: string, kind: Flash['kind'] = 'ok'): void {
  const session = req.session as unknown as WithFlash | undefined;
  if (session) session.calendarFlash = { text, kind };
}

export function takeCalendarFlash(req: Request): Flash | undefined {
  const session = req.session as unknown as WithFlash | undefined;
  const flash = session?.calendarFlash;
  if (session && flash) delete session.calendarFlash;
  return flash;
}
