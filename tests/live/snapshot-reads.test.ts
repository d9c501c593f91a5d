// Thousands of phones ask for a snapshot at once after a reconnect or an instance's restart: what
// every snapshot of a meeting at one revision reads alike (sites, agenda, speaker requests) is
// read from the store once, and a change (a new revision) is read afresh by the next snapshot.
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, type DayFixture } from './fixtures.js';
import { getLiveSnapshot } from '../../server/live/queries.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { resolveActor } from '../../server/accounts/identify.js';
import { commitMeetingChange } from '../../server/meetings/revision.js';
import { SiteModel } from '../../server/sites/model.js';

let app: TestApp;
let day: DayFixture;

beforeAll(async () => {
  app = await startTestApp();
  day = await conferenceDay(app.organizer, { peoplePerSite: 10 });
});
afterAll(async () => {
  mongoose.set('debug', false);
  await app?.stop();
});

/** The finds each collection is asked while `run` runs (mongoose's own query log). */
async function findsDuring(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const finds: Record<string, number> = {};
  mongoose.set('debug', (collection: string, method: string) => {
    if (method === 'find' || method === 'findOne') finds[collection] = (finds[collection] ?? 0) + 1;
  });
  try {
    await run();
  } finally {
    mongoose.set('debug', false);
  }
  return finds;
}

describe('snapshots of one meeting asked for at once', () => {
  it('read its sites, agenda and speaker requests once, and each asker’s own record once each', async () => {
    const attendees = await Promise.all(day.people.flat().map((person) => resolveActor({ bearerToken: person.token })));
    expect(attendees.every((actor) => actor.kind === 'attendee')).toBe(true);
    const snapshots: Awaited<ReturnType<typeof getLiveSnapshot>>[] = [];
    const finds = await findsDuring(async () => snapshots.push(...(await Promise.all(attendees.map((actor) => getLiveSnapshot(actor, day.meetingId))))));
    expect(snapshots).toHaveLength(40);
    expect(new Set(snapshots.map((snapshot) => snapshot.revision)).size).toBe(1);
    // Each sees only themself, and the same sites and agenda as everyone.
    expect(snapshots.every((snapshot, index) => snapshot.attendance.length === 1 && snapshot.attendance[0].attendeeId === day.people.flat()[index].id)).toBe(true);
    expect(snapshots.every((snapshot) => snapshot.sites.length === 4 && snapshot.agenda.items.length === 4)).toBe(true);
    expect({ sites: finds.sites, agenda: finds.agendaitems, speakers: finds.speakerrequests, attendances: finds.attendances }).toEqual({ sites: 2, agenda: 1, speakers: 1, attendances: 40 });
  });

  it('a change is read afresh by the next snapshot', async () => {
    const before = await getLiveSnapshot(app.organizer, day.meetingId);
    await addAgendaItem(app.organizer, { meetingId: day.meetingId, title: 'Bế mạc', plannedMinutes: 5 });
    const after = await getLiveSnapshot(app.organizer, day.meetingId);
    expect(after.revision).toBeGreaterThan(before.revision);
    expect(after.agenda.items.map((item) => item.title)).toEqual([...before.agenda.items.map((item) => item.title), 'Bế mạc']);
  });

  it('a snapshot taken while a change is being written does not hand its reads to the snapshots after it', async () => {
    // A change claims its revision first and writes its site after (meetings/revision.ts): a
    // snapshot in between sees the new revision without the new site.
    let during: Awaited<ReturnType<typeof getLiveSnapshot>> | undefined;
    const { revision } = await commitMeetingChange({
      meetingId: day.meetingId,
      write: async (claimed) => {
        during = await getLiveSnapshot(app.organizer, day.meetingId);
        await SiteModel.create({ meetingId: day.meetingId, name: 'Điểm cầu Đồi Mây', order: 99, isMain: false, revision: claimed });
      },
      events: () => [],
    });
    expect(during?.revision).toBe(revision);
    expect(during?.sites.map((site) => site.name)).not.toContain('Điểm cầu Đồi Mây');
    // Once the change is written, a snapshot at that same revision has the site.
    const after = await getLiveSnapshot(app.organizer, day.meetingId);
    expect(after.revision).toBe(revision);
    expect(after.sites.map((site) => site.name)).toContain('Điểm cầu Đồi Mây');
  });
});
