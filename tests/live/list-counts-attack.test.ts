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
import { updateAttendee } from '../../server/attendees/actions.js';
import { removeSite } from '../../server/sites/actions.js';

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
});
