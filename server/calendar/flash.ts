// The calendar pages' one-time messages, through the app's one flash module (lib/flash.ts).
import type { Request } from 'express';
import { setFlash as setSessionFlash, takeFlash } from '../lib/flash.js';

type Flash = { text: string; kind: 'ok' | 'error' };

export function setFlash(req: Request, text: string, kind: Flash['kind'] = 'ok'): void {
  setSessionFlash(req, text, kind === 'error');
}

export function takeCalendarFlash(req: Request): Flash | undefined {
  const taken = takeFlash(req);
  if (taken.flashError !== undefined) return { text: taken.flashError, kind: 'error' };
  return taken.flash !== undefined ? { text: taken.flash, kind: 'ok' } : undefined;
}
