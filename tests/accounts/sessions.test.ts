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

  it('are not created by the sign-in page: no session stored, no session cookie', async () => {
    const before = await storedSessions();
    const response = await app.newClient().get('/login');
    expect(response.status).toBe(200);
    const cookies = response.headers.getSetCookie().map((line) => line.split('=')[0]);
    expect(cookies).not.toContain('bp.sid');
    // The form's CSRF token is bound to a signed double-submit cookie instead.
    expect(cookies).toEqual(['bp.csrf']);
    expect(response.text).toMatch(/name="_csrf" value="[\w-]{43}"/);
    expect(await storedSessions()).toBe(before);
  });

  it('1,000 anonymous visits of the sign-in page store no session at all', async () => {
    const before = await storedSessions();
    for (let batch = 0; batch < 50; batch++) {
      const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${app.baseUrl}/login`)));
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.headers.getSetCookie().some((line) => line.startsWith('bp.sid='))).toBe(false);
        await response.arrayBuffer();
      }
    }
    expect(await storedSessions()).toBe(before);
  }, 180_000); // 1,000 real requests on a shared CI machine

  it('nor by failed sign-ins', async () => {
    const before = await storedSessions();
    const client = app.newClient();
    await client.get('/login');
    const response = await client.signIn('organizer@example.vn', 'not the password at all');
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie().some((line) => line.startsWith('bp.sid='))).toBe(false);
    expect(await storedSessions()).toBe(before);
  });

  it('sign-in still refuses a form without the token, or with a token made for another browser (login CSRF)', async () => {
    const attacker = app.newClient();
    const forged = await attacker.csrfToken();
    const victim = app.newClient();
    await victim.get('/login');
    const withoutToken = await victim.postForm('/login', { email: 'organizer@example.vn', password: 'correct horse battery staple' }, { csrf: false });
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.text).toContain('Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ');
    const withForeignToken = await victim.postForm('/login', { _csrf: forged, email: 'organizer@example.vn', password: 'correct horse battery staple' }, { csrf: false });
    expect(withForeignToken.status).toBe(403);
    // A cookie and token pair copied from nowhere: a made-up cookie does not make its own token valid.
    const madeUp = await fetch(`${app.baseUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `bp.csrf=${'a'.repeat(43)}` },
      body: new URLSearchParams({ _csrf: 'a'.repeat(43), email: 'organizer@example.vn', password: 'correct horse battery staple' }),
    });
    expect(madeUp.status).toBe(403);
  });

  it('are stored once an organizer signs in, and survive across requests', async () => {
    const before = await storedSessions();
    const client = await app.signInOrganizer();
    expect(await storedSessions()).toBe(before + 1);
    expect((await client.getJson('/api/v1/session')).json.actor.kind).toBe('organizer');
    expect(await storedSessions()).toBe(before + 1);
  });
});
