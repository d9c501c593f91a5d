import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const storedSessions = () => mongoose.connection.db!.collection('sessions').countDocuments();

describe('sessions in the database', () => {
  it('are not created for anonymous visitors of the public page', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị công khai', start: '2026-12-29T14:00', end: '2026-12-29T17:00', status: 'scheduled' });
    const before = await storedSessions();
    for (let visit = 0; visit < 5; visit++) {
      const response = await app.newClient().get(`/p/${meeting.publicId}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('set-cookie')).toBeNull();
    }
    expect(await storedSessions()).toBe(before);
  });

  it('are stored once an organizer signs in, and survive across requests', async () => {
    const before = await storedSessions();
    const client = await app.signInOrganizer();
    expect(await storedSessions()).toBe(before + 1);
    expect((await client.getJson('/api/v1/session')).json.actor.kind).toBe('organizer');
    expect(await storedSessions()).toBe(before + 1);
  });
});
