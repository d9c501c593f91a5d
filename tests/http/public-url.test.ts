// Links sent out (a site coordinator's link, an attendee's personal link) are built on PUBLIC_URL
// when it is set, never on the Host header a request happened to carry: a request through a
// hostile proxy or a mistyped address must not hand out links to somewhere else.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';

/** GET `path` with the organizer's cookies and a Host header of our choosing (fetch would not send it). */
function getWithHost(app: TestApp, client: HttpClient, path: string, host: string): Promise<{ status: number; text: string }> {
  const { port } = new URL(app.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, cookie: client.cookieHeader(), accept: 'text/html' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function meetingWithLinks(app: TestApp): Promise<{ meetingId: string; siteToken: string; attendeeToken: string }> {
  const meetingId = String((await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' }))._id);
  const site = await addSite(app.organizer, { meetingId, name: 'UBND huyện Cao Lãnh', isMain: true });
  const attendee = await createAttendee(app.organizer, { meetingId, fullName: 'Nguyễn Văn An', siteId: String(site._id) });
  return {
    meetingId,
    siteToken: (await SiteModel.findById(site._id).lean())!.coordinatorToken,
    attendeeToken: (await AttendeeModel.findById(attendee.id).lean())!.accessToken,
  };
}

describe('links sent out', () => {
  describe('with PUBLIC_URL set', () => {
    let app: TestApp;
    let organizer: HttpClient;
    let links: Awaited<ReturnType<typeof meetingWithLinks>>;
    beforeAll(async () => {
      app = await startTestApp({ publicUrl: 'https://hoinghi.example.vn/' });
      organizer = await app.signInOrganizer();
      links = await meetingWithLinks(app);
    });
    afterAll(() => app?.stop());

    it("the coordinator's link on the sites page is under PUBLIC_URL whatever the Host header says", async () => {
      const page = await getWithHost(app, organizer, `/meetings/${links.meetingId}/sites`, 'evil.example:8080');
      expect(page.status).toBe(200);
      expect(page.text).toContain(`value="https://hoinghi.example.vn/s/${links.siteToken}"`);
      expect(page.text).not.toContain('evil.example');
    });

    it("an attendee's personal link in the table is under PUBLIC_URL too", async () => {
      const page = await getWithHost(app, organizer, `/meetings/${links.meetingId}/attendees`, 'evil.example:8080');
      expect(page.status).toBe(200);
      expect(page.text).toContain(`data-copy-link="https://hoinghi.example.vn/a/${links.attendeeToken}"`);
      expect(page.text).not.toContain('evil.example');
    });
  });

  describe('without PUBLIC_URL', () => {
    let app: TestApp;
    let organizer: HttpClient;
    let links: Awaited<ReturnType<typeof meetingWithLinks>>;
    beforeAll(async () => {
      app = await startTestApp();
      organizer = await app.signInOrganizer();
      links = await meetingWithLinks(app);
    });
    afterAll(() => app?.stop());

    it('they use the address the request came to', async () => {
      const page = await getWithHost(app, organizer, `/meetings/${links.meetingId}/sites`, 'hoinghi.local:3000');
      expect(page.text).toContain(`value="http://hoinghi.local:3000/s/${links.siteToken}"`);
    });
  });
});
