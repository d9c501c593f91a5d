// A dashboard left open on a quiet meeting (nobody asks for a snapshot) still learns what the
// rooms say: the instance checks the presence of the meetings it has screens for now and then,
// and writes the correction, which every screen hears.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { conferenceDay, nextEvent, Screens } from './fixtures.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { forgetMeeting } from '../../server/meetings/cache.js';
import mongoose from 'mongoose';
import pino from 'pino';
import { Writable } from 'node:stream';
import { clearFailPoint, setFailPoint } from '../helpers/fail-point.js';

let app: TestApp;
/** What the app logged. */
const lines: { msg: string; meetings?: number; meetingId?: string }[] = [];
let organizer: HttpClient;
let screens: Screens;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  app = await startTestApp({ presenceSweepMs: 200, logger });
  organizer = await app.signInOrganizer();
  screens = new Screens(app.baseUrl);
});
afterAll(async () => {
  screens?.closeAll();
  await app?.stop();
});

/** What the store says of a site, as a stopped instance can leave it (written behind the app's back). */
async function storePresence(meetingId: string, siteId: string, connected: boolean): Promise<void> {
  await MeetingModel.updateOne({ _id: meetingId }, { $set: { [`live.sites.${siteId}.connected`]: connected, [`live.sites.${siteId}.lastSeenAt`]: new Date(Date.now() - 60_000) } });
  forgetMeeting(meetingId);
}

describe('presence on a quiet meeting', () => {
  it('a site the store says is connected, with no screen in any room, is announced gone; one with a screen the store lost is announced back', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị yên ắng' });
    const dashboard = await screens.join(day.meetingId, {}, { cookie: organizer.cookieHeader() });
    const [gone, back] = [day.sites[2], day.sites[3]];
    const coordinator = await screens.join(day.meetingId, { token: back.token });
    expect(coordinator.connected).toBe(true);

    const goneHeard = nextEvent(dashboard, 'site.presence', (event) => event.payload.siteId === gone.id && !event.payload.presence.connected);
    await storePresence(day.meetingId, gone.id, true);
    expect((await goneHeard).payload.presence.connected).toBe(false);

    const backHeard = nextEvent(dashboard, 'site.presence', (event) => event.payload.siteId === back.id && event.payload.presence.connected);
    await storePresence(day.meetingId, back.id, false);
    expect((await backHeard).payload.presence.connected).toBe(true);
  });
});

describe('presence sweep while the store refuses reads', () => {
  it('is logged once per sweep (with the number of meetings it could not check), not once per meeting', async () => {
    // Two more meetings followed here (three with the one above).
    for (const title of ['Họp một', 'Họp hai']) {
      const day = await conferenceDay(app.organizer, { title });
      await screens.join(day.meetingId, {}, { cookie: organizer.cookieHeader() });
    }
    const warnings = () => lines.filter((line) => line.msg === 'could not check site presence');
    await setFailPoint('alwaysOn', { failCommands: ['find'], errorCode: 91 });
    try {
      // Two whole sweeps while every read fails: each logs once, naming all three meetings.
      await expect.poll(() => warnings().filter((line) => line.meetings === 3).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    } finally {
      await clearFailPoint();
    }
    // A sweep the fail point was switched on or off in the middle of could not check only some of
    // them: still one line for that sweep, never one per meeting.
    expect(warnings().every((line) => typeof line.meetings === 'number' && Number.isInteger(line.meetings) && line.meetings >= 1 && line.meetings <= 3)).toBe(true);
  });
});

describe('a sweep slower than the period', () => {
  it('is not started again while it runs: the store answering slowly gets one read of the sites per meeting, not one per tick', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Họp chậm' });
    await screens.join(day.meetingId, {}, { cookie: organizer.cookieHeader() });
    // The sweep's reads of this meeting's sites, seen as mongoose sends them.
    let reads = 0;
    mongoose.set('debug', (collection: string, method: string, query: Record<string, unknown>) => {
      if (collection === 'sites' && method === 'find' && String(query?.meetingId) === day.meetingId) reads++;
    });
    // Every find waits 3 s (many sweep periods) before it is answered.
    await setFailPoint('alwaysOn', { failCommands: ['find'], blockConnection: true, blockTimeMS: 3_000 });
    try {
      await expect.poll(() => reads, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      // A find sent after the sweep's is answered after it: by then the sweep's read is answered.
      await MeetingModel.findOne({ _id: day.meetingId }, { _id: 1 }).lean();
      // The sweep whose read was just answered may have been followed by one more, no more.
      expect(reads).toBeLessThanOrEqual(2);
    } finally {
      await clearFailPoint();
      mongoose.set('debug', false);
    }
  });
});
