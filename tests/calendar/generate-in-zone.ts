// Run as a child process with a given TZ: builds the download, invitation and feed of the entries
// on stdin (JSON) and prints them, so tests see what the generator writes whatever the server's zone.
import { readFileSync } from 'node:fs';
import { downloadIcs, feedIcs, invitationIcs, type IcsEntry } from '../../server/calendar/ics.js';

const input = JSON.parse(readFileSync(0, 'utf8'), (key, value) => (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) ? new Date(value) : value)) as {
  entries: Array<IcsEntry & { attendee: NonNullable<IcsEntry['attendee']> }>;
  stamp: Date;
};
const context = { locale: 'vi' as const, baseUrl: 'https://hoinghi.example.vn', organizerEmail: 'hoi-nghi@so-khcn.example.vn' };
process.stdout.write(
  JSON.stringify({
    zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    download: downloadIcs(input.entries[0], context),
    invitation: invitationIcs(input.entries[0], { ...context, stamp: input.stamp }).ics,
    feed: feedIcs('Lịch; thử, nghiệm', input.entries, context),
  }),
);
