import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ loginRateLimit: 3 });
});
afterAll(() => app.stop());

describe('an organizer signing in', () => {
  it('reaches the meetings list after signing in with the right password', async () => {
    const client = app.newClient();
    const response = await client.signIn(organizerCredentials.email, organizerCredentials.password);
    expect(response.status).toBe(303);
    expect(response.location).toBe('/meetings');
    const session = await client.getJson('/api/v1/session');
    expect(session.json.actor).toMatchObject({ kind: 'organizer', name: organizerCredentials.name, isAdmin: true });
  });

  it('sees a Vietnamese error and stays signed out with a wrong password', async () => {
    const client = app.newClient();
    const response = await client.signIn(organizerCredentials.email, 'wrong password');
    expect(response.status).toBe(401);
    expect(response.text).toContain('Email hoặc mật khẩu không đúng.');
    expect((await client.getJson('/api/v1/session')).json.actor).toEqual({ kind: 'anonymous' });
  });

  it('sees the error in English after switching the language', async () => {
    const client = app.newClient();
    await client.get('/login?lang=en');
    const response = await client.signIn(organizerCredentials.email, 'wrong password');
    expect(response.text).toContain('Wrong email or password.');
  });

  it('is only ever sent back to a page of this site after signing in', async () => {
    for (const next of ['/\\evil.example', '//evil.example', 'https://evil.example', '/ok\u0000']) {
      const client = app.newClient();
      const response = await client.postForm('/login', { email: organizerCredentials.email, password: organizerCredentials.password, next });
      expect(response.location).toBe('/meetings');
    }
    const client = app.newClient();
    const back = await client.postForm('/login', { email: organizerCredentials.email, password: organizerCredentials.password, next: '/meetings?tab=past' });
    expect(back.location).toBe('/meetings?tab=past');
  });

  it('is sent to sign in, then back, when opening a page without a session', async () => {
    const response = await app.newClient().get('/meetings');
    expect(response.status).toBe(303);
    expect(response.location).toBe('/login?next=%2Fmeetings');
  });

  it('is slowed down after too many failed attempts, even with the right password', async () => {
    const client = app.newClient();
    const email = 'someone-else@example.vn';
    for (let attempt = 0; attempt < 3; attempt++) expect((await client.signIn(email, 'guess')).status).toBe(401);
    const blocked = await client.signIn(email, 'guess');
    expect(blocked.status).toBe(429);
    expect(blocked.text).toContain('Đăng nhập sai quá nhiều lần');
  });

  it('cannot post a form without the CSRF token', async () => {
    const client = await app.signInOrganizer();
    const response = await client.postForm('/logout', {}, { csrf: false });
    expect(response.status).toBe(403);
    expect(response.text).toContain('Phiên làm việc đã hết hạn');
    expect((await client.getJson('/api/v1/session')).json.actor.kind).toBe('organizer');
  });

  it('signs out and loses access', async () => {
    const client = await app.signInOrganizer();
    const response = await client.postForm('/logout', {});
    expect(response.status).toBe(303);
    expect((await client.getJson('/api/v1/session')).json.actor).toEqual({ kind: 'anonymous' });
  });

  it('gets a JSON error with a 4xx status for a malformed JSON body', async () => {
    const client = await app.signInOrganizer();
    const response = await client.request('POST', '/api/v1/meetings', {
      body: '{"title": ',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': await client.csrfToken() },
    });
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'bad_request', message: 'Nội dung gửi lên không phải JSON hợp lệ.' });
  });

  it('sends security headers on every page', async () => {
    const response = await app.newClient().get('/login');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});

describe('capability links', () => {
  it('refuses an unknown link with a friendly message', async () => {
    const response = await app.newClient().get('/a/not-a-real-token');
    expect(response.status).toBe(404);
    expect(response.text).toContain('Đường dẫn này không còn hiệu lực');
  });
});
