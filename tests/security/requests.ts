// How the security tests send each registered route: a page or form for browser routes, JSON for
// /api/v1, a file for the import uploads, and a valid body for each change (so an allowed asker
// gets through validation and only who asks decides the answer).
import type { HttpClient, TestResponse } from '../helpers/http.js';
import type { World } from './world.js';
import { testUnit } from '../helpers/database.js';

type Fields = Record<string, string | number | boolean | string[]>;
type Json = Record<string, unknown> | unknown[];

/** A valid body per "METHOD /pattern" (routes not listed send none, or an empty form). */
export function bodyFor(world: World, route: string): Fields | Json | undefined {
  const { siteA, siteB, day } = world;
  const bodies: Record<string, Fields | Json> = {
    'POST /login': { email: 'khcn@example.vn', password: 'not the password' },
    'POST /setup': { email: 'new-admin@example.vn', name: 'Quản trị mới', password: 'another long password', code: '000000' },
    'POST /invite/:token': { password: 'a brand new password' },
    'POST /meetings': { title: 'Hội nghị mới', start: '2027-01-10T08:00', end: '2027-01-10T11:00', unitId: testUnit.id },
    'POST /meetings/:meetingId/edit': { title: 'Hội nghị tổng kết (sửa)', start: '2026-12-29T07:30', end: '2026-12-29T11:30' },
    'POST /meetings/:meetingId/status': { action: 'cancel' },
    'POST /meetings/:meetingId/duplicate': { start: '2027-12-29T07:30', copyAttendees: 'true' },
    'POST /api/v1/meetings': { title: 'Hội nghị mới', start: '2027-01-10T08:00', end: '2027-01-10T11:00', unitId: testUnit.id },
    'POST /my/calendar/feed': { meetingId: world.meetingId },
    'POST /api/v1/my/calendar/feed': { meetingId: world.meetingId },
    'DELETE /api/v1/my/calendar/feed': { meetingId: world.meetingId },
    'POST /my/site/calendar/feed': { meetingId: world.meetingId, siteId: siteA.id },
    'PATCH /api/v1/meetings/:meetingId': { title: 'Hội nghị tổng kết (sửa)' },
    'POST /api/v1/meetings/:meetingId/status': { action: 'cancel' },
    'POST /api/v1/meetings/:meetingId/duplicate': { start: '2027-12-29T07:30', copyAttendees: true },
    'POST /admin/accounts': { email: 'new@example.vn', name: 'Người mới', role: 'organizer', unitId: world.otherUnitId, password: 'a brand new password' },
    'POST /admin/accounts/:userId': { name: 'Tên mới', role: 'organizer', unitId: world.otherUnitId },
    'POST /api/v1/accounts': { email: 'new@example.vn', name: 'Người mới', role: 'organizer', unitId: world.otherUnitId, password: 'a brand new password' },
    'PATCH /api/v1/accounts/:userId': { name: 'Tên mới' },
    'POST /admin/units': { name: 'Sở Y tế' },
    'POST /admin/units/:unitId': { name: 'Sở Giáo dục (đổi tên)' },
    'POST /api/v1/units': { name: 'Sở Y tế' },
    'POST /meetings/:meetingId/sites': { name: 'UBND huyện Lai Vung' },
    'POST /meetings/:meetingId/sites/add-districts': { provinceCode: '87' },
    'POST /meetings/:meetingId/sites/:siteId/edit': { name: 'UBND huyện Tháp Mười (sửa)' },
    'POST /meetings/:meetingId/sites/:siteId/move': { direction: 'up' },
    'POST /my/site': { coordinatorName: 'Trần Văn Điều Phối', coordinatorPhone: '0901234567' },
    'POST /api/v1/meetings/:meetingId/sites': { name: 'UBND huyện Lai Vung' },
    'POST /api/v1/meetings/:meetingId/sites/add-districts': { provinceCode: '87' },
    'PUT /api/v1/meetings/:meetingId/sites/order': { siteIds: [...world.siteIds].reverse() },
    'PATCH /api/v1/meetings/:meetingId/sites/:siteId': { name: 'UBND huyện Tháp Mười (sửa)' },
    'PATCH /api/v1/my/site': { coordinatorName: 'Trần Văn Điều Phối' },
    'POST /meetings/:meetingId/attendees': { fullName: 'Đại biểu mới', siteId: siteB.id },
    'POST /meetings/:meetingId/sites/:siteId/attendees': { fullName: 'Đại biểu mới' },
    'POST /meetings/:meetingId/attendees/import/:draftId/rows/:row': { fullName: 'Nguyễn Văn Sửa' },
    'POST /meetings/:meetingId/attendees/:attendeeId': { fullName: 'Đại biểu (sửa)', siteId: siteB.id },
    'POST /my/phone': { phone: '0912345678' },
    'PATCH /api/v1/meetings/:meetingId/attendees/import/:draftId/rows/:row': { fullName: 'Nguyễn Văn Sửa' },
    'POST /api/v1/meetings/:meetingId/attendees': { fullName: 'Đại biểu mới', siteId: siteB.id },
    'PATCH /api/v1/meetings/:meetingId/attendees/:attendeeId': { fullName: 'Đại biểu (sửa)' },
    'POST /api/v1/meetings/:meetingId/attendees/:attendeeId/move': { siteId: siteA.id },
    'POST /meetings/:meetingId/agenda/items': { title: 'Phát biểu chỉ đạo', plannedMinutes: 10 },
    'POST /meetings/:meetingId/agenda/items/:itemId': { title: 'Báo cáo tổng kết (sửa)', plannedMinutes: 25 },
    'POST /meetings/:meetingId/agenda/items/:itemId/move': { direction: 'up' },
    'POST /api/v1/meetings/:meetingId/agenda/items': { title: 'Phát biểu chỉ đạo', plannedMinutes: 10 },
    'POST /api/v1/meetings/:meetingId/agenda': { title: 'Phát biểu chỉ đạo', plannedMinutes: 10 },
    'PATCH /api/v1/meetings/:meetingId/agenda/items/:itemId': { title: 'Báo cáo tổng kết (sửa)' },
    'PUT /api/v1/meetings/:meetingId/agenda/order': { orderedIds: [...day.agendaIds].reverse() },
    'POST /my/rsvp': { response: 'accepted' },
    'POST /api/v1/my/rsvp': { response: 'accepted' },
    'POST /meetings/:meetingId/calendar/feeds': { scope: 'site', siteId: siteB.id },
    'POST /api/v1/meetings/:meetingId/calendar/feeds': { scope: 'site', siteId: siteB.id },
    'DELETE /api/v1/meetings/:meetingId/calendar/feeds': { scope: 'unit' },
    'POST /meetings/:meetingId/calendar/invitations': { scope: 'all' },
    'POST /api/v1/meetings/:meetingId/invitations': { scope: 'all' },
    'POST /api/v1/meetings/:meetingId/live/commands/:name': { quorumPercent: 60 },
    'POST /meetings/:meetingId/directives': { text: 'Chỉ đạo mới của chủ tọa.' },
    'PUT /api/v1/meetings/:meetingId/minutes/:itemId': { text: 'Ghi chép của thư ký.', baseVersion: 0, saveId: 'matrix-minutes-save-1' },
    'POST /meetings/:meetingId/summary': { text: 'Bản tin hội nghị.', baseVersion: '0' },
    'POST /meetings/:meetingId/summary/regenerate': { baseVersion: '0' },
    'POST /meetings/:meetingId/summary/publish': { version: '1' },
    'PUT /api/v1/meetings/:meetingId/summary/:locale': { text: 'Bản tin hội nghị.', baseVersion: 0 },
    'POST /api/v1/meetings/:meetingId/summary/:locale/regenerate': { baseVersion: 0 },
    'POST /api/v1/meetings/:meetingId/summary/:locale/publish': { version: 1 },
    'POST /meetings/:meetingId/directives/:directiveId/edit': { text: 'Chỉ đạo đã sửa.' },
    'POST /meetings/:meetingId/directives/:directiveId/move': { direction: 'down' },
    'POST /meetings/:meetingId/directives/:directiveId/assign': { assignees: [`site:${siteB.id}`], dueDate: '2027-06-30' },
    'POST /meetings/:meetingId/tasks/:taskId/status': { status: 'done' },
    'POST /my/tasks/:meetingId/:taskId/progress': { text: 'Đã hoàn thành một phần.', status: 'inProgress' },
    'POST /api/v1/meetings/:meetingId/directives': { text: 'Chỉ đạo mới của chủ tọa.' },
    'PUT /api/v1/meetings/:meetingId/directives/order': { directiveIds: [...world.directiveIds].reverse() },
    'PATCH /api/v1/meetings/:meetingId/directives/:directiveId': { text: 'Chỉ đạo đã sửa.' },
    'POST /api/v1/meetings/:meetingId/directives/:directiveId/assign': { assignees: [`site:${siteB.id}`], dueDate: '2027-06-30' },
    'PATCH /api/v1/meetings/:meetingId/tasks/:taskId': { status: 'done' },
    'POST /api/v1/meetings/:meetingId/tasks/:taskId/progress': { text: 'Đã hoàn thành một phần.', status: 'inProgress' },
  };
  return bodies[route];
}

/** Routes that take a file (multipart/form-data). */
const uploads = new Set(['POST /meetings/:meetingId/attendees/import', 'POST /api/v1/meetings/:meetingId/attendees/import']);

export const importCsv = 'Họ và tên,Chức vụ\nLê Thị Nhập,Chuyên viên\n';

/** Sends `route` (already filled in as `path`) the way its page or API client would. */
export async function send(client: HttpClient, route: string, path: string, body: Fields | Json | undefined): Promise<TestResponse> {
  const method = route.slice(0, route.indexOf(' '));
  const isApi = path.startsWith('/api/');
  if (uploads.has(route)) {
    return client.upload(path, 'file', { name: 'danh-sach.csv', type: 'text/csv', content: importCsv }, {}, isApi ? {} : { accept: 'text/html' });
  }
  if (isApi) return client.json(method, path, method === 'GET' ? undefined : (body ?? {}));
  if (method === 'GET') return client.get(path);
  return client.postForm(path, (body as Fields | undefined) ?? {});
}

export type Outcome = 'allow' | 'deny' | 'refused';

const linkOrHome = /^GET (\/|\/(a|s|invite)\/:token)$/;

/**
 * allow: the asker got what they asked for (2xx, or a redirect that is not to the sign-in page);
 * deny: 401, 403, 404 or sent to sign in; refused: another 4xx (409, 422: the request reached the
 * action, which refused it for the state of things, e.g. deleting a scheduled meeting).
 */
export function outcomeOf(route: string, response: { status: number; location?: string }): Outcome {
  const { status, location } = response;
  if (status === 401 || status === 403 || status === 404) return 'deny';
  if (status >= 300 && status < 400) {
    if (route === 'POST /logout') return 'allow';
    // A page that sends the asker elsewhere (to sign in, or home: /my for an attendee) is not
    // theirs; the links and the front door redirect by design.
    if (route.startsWith('GET ') && !linkOrHome.test(route)) return 'deny';
    return location && /^\/login(\?|$)/.test(location) ? 'deny' : 'allow';
  }
  if (status >= 200 && status < 300) return 'allow';
  return 'refused';
}

/** One character per cell in the tables: A allowed, - denied, R refused by the action's rules. */
export const outcomeSymbol: Record<Outcome, string> = { allow: 'A', deny: '-', refused: 'R' };
