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
