import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('the meetings list on a first start', () => {
  it('opens on last year’s conference when nothing is upcoming, instead of an empty page', async () => {
    await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled' });
    const organizer = await app.signInOrganizer();

    const list = await organizer.get('/meetings');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Hội nghị Tổng kết năm 2021');
    expect(list.text).toContain('Chưa có hội nghị nào sắp diễn ra. Dưới đây là các hội nghị đã qua');

    const upcoming = await organizer.get('/meetings?tab=upcoming');
    expect(upcoming.text).not.toContain('Hội nghị Tổng kết năm 2021');
    expect(upcoming.text).toContain('Chưa có hội nghị nào sắp diễn ra.');
  });

  it('opens on the upcoming tab as soon as there is an upcoming meeting', async () => {
    await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết năm 2026', start: '2099-12-29T14:00', end: '2099-12-29T17:00', status: 'scheduled' });
    const list = await (await app.signInOrganizer()).get('/meetings');
    expect(list.text).toContain('Hội nghị Tổng kết năm 2026');
    expect(list.text).not.toContain('Hội nghị Tổng kết năm 2021');
  });
});

describe('a path naming nothing', () => {
  it('answers 404 in the user’s language for ids that are not even ids, in pages and the API', async () => {
    const organizer = await app.signInOrganizer();
    for (const path of ['/api/v1/meetings/zzz', '/api/v1/meetings/zzz/attendees', '/api/v1/meetings/zzz/agenda']) {
      const response = await organizer.getJson(path);
      expect(response.status).toBe(404);
      expect(response.json.error).toMatchObject({ code: 'not_found', message: 'Không tìm thấy nội dung yêu cầu.' });
    }
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị có thật', start: '2026-12-29T14:00', end: '2026-12-29T17:00' });
    const patch = await organizer.json('PATCH', `/api/v1/meetings/${meeting._id}/attendees/not-an-id`, { phone: '0911 111 111' });
    expect(patch.status).toBe(404);
    expect((await organizer.get('/meetings/zzz/sites')).status).toBe(404);
  });
});
