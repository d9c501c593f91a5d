import { describe, expect, it } from 'vitest';
import { loggableUrl } from '../server/app.js';

describe('request logs', () => {
  it('never contain personal links, site links, calendar feed links, organizer invitations or CSRF tokens', () => {
    expect(loggableUrl('/calendar/feeds/Zx9_secret-feed-token-0123456789.ics')).toBe('/calendar/feeds/[redacted].ics');
    expect(loggableUrl('/calendar/feeds/Zx9_secret-feed-token?x=1')).toBe('/calendar/feeds/[redacted]?x=1');
    expect(loggableUrl('/invite/Zx9_secret-invite')).toBe('/invite/[redacted]');
    expect(loggableUrl('/a/Zx9_secret-token')).toBe('/a/[redacted]');
    expect(loggableUrl('/s/site-secret?lang=en')).toBe('/s/[redacted]?lang=en');
    // Express routes ignore case: a link typed in capitals opens too, and is redacted too.
    expect(loggableUrl('/A/Zx9_secret-token')).toBe('/A/[redacted]');
    expect(loggableUrl('/Invite/Zx9_secret-invite')).toBe('/Invite/[redacted]');
    expect(loggableUrl('/Calendar/Feeds/Zx9_secret-feed-token.ICS')).toBe('/Calendar/Feeds/[redacted].ICS');
    expect(loggableUrl('/meetings/1/attendees/import?_csrf=abc123&x=1')).toBe('/meetings/1/attendees/import?_csrf=[redacted]&x=1');
    expect(loggableUrl('/meetings/abc/attendees?q=an')).toBe('/meetings/abc/attendees?q=an');
  });
});
