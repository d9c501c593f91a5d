// Opening someone's personal or site link while signed in as someone else asks first: a page
// from another site linking to /a/<token> must not silently sign the organizer out and in as a
// delegate (a forced identity swap). Only the page's own button, with its CSRF token, switches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, organizerCredentials, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { SiteModel } from '../../server/sites/model.js';
import type { HttpClient } from '../helpers/http.js';

let app: TestApp;
let delegateLink: string;
let siteLink: string;

beforeAll(async () => {
  app = await startTestApp();
  const meetingId = String((await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' }))._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  const site = (await SiteModel.findOne({ meetingId, isMain: false }).sort({ order: 1 }).lean())!;
  const delegate = await createAttendee(app.organizer, { meetingId, fullName: 'Lê Thị Hồng', siteId: String(site._id) });
  delegateLink = `/a/${(await AttendeeModel.findById(delegate.id).lean())!.accessToken}`;
  siteLink = `/s/${site.coordinatorToken}`;
});
afterAll(() => app.stop());

const whoAmI = async (client: HttpClient) => (await client.getJson('/api/v1/session')).json.actor as { kind: string; name: string };
const formToken = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

describe('opening a link while someone else is signed in', () => {
  it('asks the organizer first, with a POST button, and changes nothing until asked', async () => {
    const organizer = await app.signInOrganizer();
    const page = await organizer.get(delegateLink);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`Bạn đang đăng nhập là ${organizerCredentials.name} (ban tổ chức). Mở liên kết của Lê Thị Hồng (đại biểu)?`);
    expect(page.text).toContain(`<form method="post" action="${delegateLink}"`);
    expect(formToken(page.text)).toMatch(/\S{20,}/);
    expect(page.text).toContain(`Ở lại là ${organizerCredentials.name} (ban tổ chức)`);
    expect(await whoAmI(organizer)).toMatchObject({ kind: 'organizer' });
  });

  it('a forged POST without the page\u2019s CSRF token does not switch', async () => {
    const organizer = await app.signInOrganizer();
    const forged = await organizer.postForm(delegateLink, {}, { csrf: false });
    expect(forged.status).toBe(403);
    expect(await whoAmI(organizer)).toMatchObject({ kind: 'organizer' });
  });

  it('the button switches to the delegate', async () => {
    const organizer = await app.signInOrganizer();
    const page = await organizer.get(delegateLink);
    const switched = await organizer.postForm(delegateLink, { _csrf: formToken(page.text)! }, { csrf: false });
    expect(switched.status).toBe(303);
    expect(switched.location).toBe('/my');
    organizer.forgetCsrfToken();
    expect(await whoAmI(organizer)).toMatchObject({ kind: 'attendee', name: 'Lê Thị Hồng' });
  });

  it('asks in English too, and between a delegate and a site coordinator', async () => {
    const delegate = app.newClient();
    expect((await delegate.openLink(delegateLink)).location).toBe('/my');
    const page = await delegate.get(`${siteLink}?lang=en`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/You are signed in as Lê Thị Hồng \(delegate\)\. Open the link of .+ \(bridge point coordinator\)\?/);
    expect(await whoAmI(delegate)).toMatchObject({ kind: 'attendee' });
  });

  it('does not ask when nobody, or the same person, is signed in', async () => {
    const visitor = app.newClient();
    const first = await visitor.openLink(delegateLink);
    expect(first.status).toBe(303);
    expect(first.location).toBe('/my');
    const again = await visitor.openLink(delegateLink);
    expect(again.status).toBe(303);
    expect(await whoAmI(visitor)).toMatchObject({ kind: 'attendee', name: 'Lê Thị Hồng' });
  });

  it('a revoked link says so instead of asking', async () => {
    const organizer = await app.signInOrganizer();
    const page = await organizer.get('/a/no-such-token-anywhere');
    expect(page.status).toBe(404);
    expect(page.text).toContain('Đường dẫn này không còn hiệu lực');
    expect(await whoAmI(organizer)).toMatchObject({ kind: 'organizer' });
  });
});
