// The calendar part's share of the configuration (from config.ts via createApp), read by its
// actions and routes: where links point, the ORGANIZER/sender address and the mail server.
export interface CalendarSettings {
  /** PUBLIC_URL: base of links in files and e-mails. Unset: the address a request came to. */
  publicUrl?: string;
  /** MAIL_FROM: sender of invitations, and the ORGANIZER mailto of every calendar file. */
  mailFrom: string;
  /** SMTP_URL: unset means no e-mail (the invite button explains what to set). */
  smtpUrl?: string;
}

let current: CalendarSettings = { mailFrom: 'no-reply@bridgepoint.invalid' };

export function configureCalendar(settings: CalendarSettings): void {
  current = { ...settings, publicUrl: settings.publicUrl?.replace(/\/+$/, '') };
}

export function calendarSettings(): CalendarSettings {
  return current;
}

/** PUBLIC_URL when set, else the origin of the request being answered. */
export function baseUrlFor(requestOrigin: string): string {
  return current.publicUrl ?? requestOrigin;
}
