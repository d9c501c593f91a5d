// A second reader's attacks on "headcounts follow the attendee list" (live/counts.ts
// rosterAfterListChange / countsEvents): after each change of the list on the day, the newest
// counts a screen heard (per-entity rule, docs/api/live.md) are what a fresh snapshot says, on a
// batched and an unbatched screen. Real socket.io-client screens against a real app and store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, opId, Screens, send, type DayFixture } from './fixtures.js';
import type { AttendanceCounts, LiveEvent, LiveSnapshot, QuorumView } from '../../server/live/contract.js';
import { checkIn } from '../../server/attendance/actions.js';
import { removeAttendee, updateAttendee } from '../../server/attendees/actions.js';
import { removeSite } from '../../server/sites/actions.js';
import { commitImport, previewImport } from '../../server/attendees/import.js';
import { addWalkIn } from '../../server/attendance/actions.js';
import { HttpClient } from '../helpers/http.js';

type Counted = AttendanceCounts & { revision: number };
type CountsPayload = { siteId: string; counts: Counted; totals: Counted; quorum: QuorumView };

function listen(socket: Socket): LiveEvent[] {
  const heard: LiveEvent[] = [];
  socket.on('events', (events: LiveEvent[]) => heard.push(...events));
  socket.on('event', (event: LiveEvent) => heard.push(event));
  return heard;
}

/** What a screen that applied everything it heard shows for a site and the totals (newest revision wins). */
function shown(heard: LiveEvent[], siteId: string): { counts?: Counted; totals?: Counted; quorum?: QuorumView } {
  let counts: Counted | undefined;
  let totals: Counted | undefined;
  let quorum: QuorumView | undefined;
  for (const event of heard) {
    if (event.type !== 'attendance.counts') continue;
    const payload = event.payload as CountsPayload;
    if (payload.siteId === siteId && (!counts || counts.revision < payload.counts.revision)) counts = payload.counts;
    if (!totals || totals.revision < payload.totals.revision) {
      totals = payload.totals;
      quorum = payload.quorum;
    }
  }
  return { counts, totals, quorum };
}

const withoutRevision = ({ revision: _revision, ...rest }: Counted) => rest;

describe('counts after a change of the attendee list on the day', () => {
  let app: TestApp;
  let screens: Screens;
  let day: DayFixture;
  let phones: Array<{ socket: Socket; heard: LiveEvent[] }>;

  beforeAll(async () => {
    app = await startTestApp();
    screens = new Screens(app.baseUrl);
    day = await conferenceDay(app.organizer, { peoplePerSite: 3 });
    phones = [];
    for (const [index, batched] of [true, false].entries()) {
      const socket = screens.open({ token: day.people[0][index].token });
      const heard = listen(socket);
      expect(await send(socket, 'meeting:join', { meetingId: day.meetingId, screen: 'attendee', batched })).toMatchObject({ ok: true });
      phones.push({ socket, heard });
    }
  });
  afterAll(async () => {
    screens?.closeAll();
    await app?.stop();
  });

  async function expectScreensMatchServer(siteIds: string[]): Promise<LiveSnapshot> {
    const snapshot = (await send(phones[0].socket, 'live:snapshot', { meetingId: day.meetingId })).snapshot as LiveSnapshot;
    for (const phone of phones) {
      await expect.poll(() => phone.heard.some((event) => event.revision >= snapshot.revision), { timeout: 10_000 }).toBe(true);
      for (const siteId of siteIds) {
        const server = snapshot.sites.find((site) => site.id === siteId)!.counts;
        const screen = shown(phone.heard, siteId);
        expect(screen.counts && withoutRevision(screen.counts), `site ${siteId}`).toEqual(withoutRevision(server));
        expect(screen.totals && withoutRevision(screen.totals)).toEqual(withoutRevision(snapshot.totals));
        expect(screen.quorum).toEqual(snapshot.quorum);
      }
    }
    return snapshot;
  }

  it('a present person moved to another site: both sites, the totals and the quorum line follow', async () => {
    const person = day.people[1][0];
    await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: person.id, opId: opId() });
    await updateAttendee(app.organizer, { meetingId: day.meetingId, attendeeId: person.id, siteId: day.sites[2].id });
    const snapshot = await expectScreensMatchServer([day.sites[1].id, day.sites[2].id]);
    expect(snapshot.sites.find((site) => site.id === day.sites[2].id)!.counts).toMatchObject({ present: 1, expected: 4 });
  });

  it('a site removed with its people (and someone present) moved to another: the site they join follows', async () => {
    await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[3][0].id, opId: opId() });
    await expectScreensMatchServer([day.sites[3].id]);
    await removeSite(app.organizer, { meetingId: day.meetingId, siteId: day.sites[3].id, reassignTo: day.sites[2].id });
    const snapshot = await expectScreensMatchServer([day.sites[2].id]);
    expect(snapshot.sites.find((site) => site.id === day.sites[2].id)!.counts).toMatchObject({ present: 2, expected: 7 });
    // The removed site, still drawn until the next snapshot, counts nothing any more (not twice in the totals).
    for (const phone of phones) expect(shown(phone.heard, day.sites[3].id).counts).toMatchObject({ present: 0, expected: 0, pending: 0 });
  });

  it('someone who declined, came after all and was moved, then removed; a walk-in removed; a list imported: every site touched follows', async () => {
    const [, cao, thap] = day.sites;
    const decliner = day.people[1][1];
    expect((await HttpClient.withBearer(app.baseUrl, decliner.token).json('POST', '/api/v1/my/rsvp', { response: 'declined', reason: 'Trùng lịch' })).status).toBe(200);
    await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: decliner.id, opId: opId() });
    await expectScreensMatchServer([cao.id]);
    await updateAttendee(app.organizer, { meetingId: day.meetingId, attendeeId: decliner.id, siteId: thap.id });
    await expectScreensMatchServer([cao.id, thap.id]);
    await removeAttendee(app.organizer, { meetingId: day.meetingId, attendeeId: decliner.id });
    await expectScreensMatchServer([thap.id]);

    const walkIn = await addWalkIn(app.organizer, { meetingId: day.meetingId, siteId: cao.id, opId: opId(), fullName: 'Lê Văn Khách' });
    await expectScreensMatchServer([cao.id]);
    await removeAttendee(app.organizer, { meetingId: day.meetingId, attendeeId: walkIn.record.attendeeId });
    await expectScreensMatchServer([cao.id]);

    const csv = ['Họ và tên,Điểm cầu', `Nguyễn Văn Một,${cao.name}`, `Trần Thị Hai,${thap.name}`, `Lê Văn Ba,${thap.name}`].join('\r\n');
    const buffer = Buffer.from(csv, 'utf8');
    const preview = await previewImport(app.organizer, day.meetingId, { originalname: 'them.csv', buffer, size: buffer.length });
    expect(preview).toMatchObject({ ok: 3, bad: 0 });
    await commitImport(app.organizer, { meetingId: day.meetingId, draftId: preview.draftId });
    const snapshot = await expectScreensMatchServer([cao.id, thap.id]);
    expect(snapshot.sites.find((site) => site.id === thap.id)!.counts).toMatchObject({ present: 2, expected: 9 });
  });
});
