// Whatever a careless client or an attacker sends as a body — an upload cut off halfway, a form
// nested 40 levels deep, 1,001 fields on the anonymous sign-in form, broken JSON, a body of a type
// we do not read — the answer is a 400 that says what is wrong, in the asker's language, and the
// server logs no "unhandled error" and stays up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';
import type { HttpClient } from '../helpers/http.js';

let app: TestApp;
let organizer: HttpClient;
let meetingId: string;
const logged: Array<{ level: number; msg: string }> = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logged.push(JSON.parse(line));
      done();
    },
  });
  app = await startTestApp({ logger: pino({ level: 'info' }, sink) });
  organizer = await app.signInOrganizer();
  meetingId = String((await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' }))._id);
});
afterAll(() => app.stop());

const unhandled = () => logged.filter((entry) => entry.msg === 'unhandled error' || entry.level >= 50);

function post(path: string, body: string | Uint8Array, headers: Record<string, string>) {
  return fetch(new URL(path, app.baseUrl), { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers, redirect: 'manual' });
}

async function expectBadRequest(response: Response, message: string) {
  expect(response.status).toBe(400);
  const text = await response.text();
  expect(text).toContain(message);
  expect(unhandled()).toEqual([]);
}

/** An upload of `content` whose closing boundary never arrives (the connection dropped). */
function truncatedMultipart(content: string) {
  const boundary = '----bridgepoint-test-boundary';
  const full = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="danh-sach.csv"\r\nContent-Type: text/csv\r\n\r\n${content}\r\n--${boundary}--\r\n`;
  return { body: Buffer.from(full.slice(0, full.length - boundary.length - 10)), type: `multipart/form-data; boundary=${boundary}` };
}

describe('a malformed body', () => {
  it('an attendee list upload cut off halfway is refused with a message on the upload form', async () => {
    const { body, type } = truncatedMultipart('Họ và tên,Email\r\nNguyễn Văn Hùng,hung@example.vn\r\n'.repeat(50));
    const csrf = await organizer.csrfToken();
    const response = await post(`/meetings/${meetingId}/attendees/import?_csrf=${encodeURIComponent(csrf)}`, body, { 'content-type': type, cookie: organizer.cookieHeader(), accept: 'text/html' });
    await expectBadRequest(response, 'Tệp tải lên bị hỏng hoặc chưa gửi hết');
  });

  it('the same through the API answers JSON, in English when asked', async () => {
    const { body, type } = truncatedMultipart('Full name,Email\r\n');
    const csrf = await organizer.csrfToken();
    const response = await post(`/api/v1/meetings/${meetingId}/attendees/import?lang=en`, body, { 'content-type': type, cookie: organizer.cookieHeader(), 'x-csrf-token': csrf, accept: 'application/json' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'bad_request', message: 'The upload is damaged or incomplete. Please choose the file and send it again.' } });
  });

  it('an upload of two files, a file under another field name or too many form fields says so in the asker\'s language, not the parser\'s English', async () => {
    const boundary = 'bp-boundary';
    const part = (name: string, body: string, filename?: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n${filename ? 'Content-Type: text/csv\r\n' : ''}\r\n${body}\r\n`;
    const list = 'Họ và tên\r\nNguyễn Văn Hùng\r\n';
    const bodies = {
      twoFiles: part('file', list, 'a.csv') + part('file', list, 'b.csv'),
      otherField: part('danh-sach', list, 'a.csv'),
      manyFields: Array.from({ length: 40 }, (_, index) => part(`f${index}`, 'x')).join('') + part('file', list, 'a.csv'),
    };
    const csrf = await organizer.csrfToken();
    for (const [lang, expected] of [
      ['vi', 'Vui lòng gửi đúng một tệp danh sách (CSV hoặc Excel) trong biểu mẫu tải lên.'],
      ['en', 'Please send exactly one list file (CSV or Excel) in the upload form.'],
    ] as const) {
      for (const [name, body] of Object.entries(bodies)) {
        const response = await post(`/api/v1/meetings/${meetingId}/attendees/import?lang=${lang}`, `${body}--${boundary}--\r\n`, {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          cookie: organizer.cookieHeader(),
          'x-csrf-token': csrf,
          accept: 'application/json',
        });
        expect(response.status, name).toBe(400);
        expect(await response.json(), name).toEqual({ error: { code: 'bad_request', message: expected } });
      }
    }
    expect(unhandled()).toEqual([]);
  });

  it('a form nested deeper than 32 levels, sent anonymously to the sign-in page', async () => {
    const deep = `email${'[a]'.repeat(40)}=x&password=y`;
    const response = await post('/login', deep, { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' });
    await expectBadRequest(response, 'Biểu mẫu gửi lên lồng nhau quá sâu (tối đa 32 cấp).');
  });

  it('a sign-in form with 1,001 fields', async () => {
    const wide = Array.from({ length: 1001 }, (_, index) => `f${index}=x`).join('&');
    const response = await post('/login', wide, { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: 'lang=en' });
    await expectBadRequest(response, 'The submitted form has too many fields (at most 1000).');
  });

  it('broken JSON to the API', async () => {
    const csrf = await organizer.csrfToken();
    const response = await post(`/api/v1/meetings/${meetingId}/attendees`, '{"fullName": "Lê Thị Hồng",', { 'content-type': 'application/json', cookie: organizer.cookieHeader(), 'x-csrf-token': csrf, accept: 'application/json' });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toEqual({ code: 'bad_request', message: 'Nội dung gửi lên không phải JSON hợp lệ.' });
  });

  it('JSON sent as text/plain, or XML, is refused by its type instead of read as "no input"', async () => {
    const csrf = await organizer.csrfToken();
    for (const type of ['text/plain', 'application/xml']) {
      const response = await post(`/api/v1/meetings/${meetingId}/attendees`, '{"fullName": "Lê Thị Hồng"}', { 'content-type': type, cookie: organizer.cookieHeader(), 'x-csrf-token': csrf, accept: 'application/json' });
      expect(response.status).toBe(400);
      expect((await response.json()).error.message).toMatch(/^Định dạng dữ liệu gửi lên không được hỗ trợ/);
    }
  });

  it('a body in a charset other than UTF-8', async () => {
    const response = await post('/login', 'email=a', { 'content-type': 'application/x-www-form-urlencoded; charset=koi8-r', accept: 'application/json' });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toBe('Dữ liệu gửi lên phải được mã hóa UTF-8, không nén.');
  });

  it('leaves nothing behind: no attendee was added and the server answers everyone', async () => {
    const list = await organizer.getJson(`/api/v1/meetings/${meetingId}/attendees`);
    expect(list.status).toBe(200);
    expect(list.json.total ?? list.json.items.length).toBe(0);
    expect((await app.newClient().get('/login')).status).toBe(200);
    expect(unhandled()).toEqual([]);
  });
});
