// Words of the conference day shared by its parts (operation ids, rate limit, permissions,
// starting and ending the meeting, agenda control), Vietnamese first.
import { registerMessages } from '../lib/i18n.js';

const statuses = ['draft', 'scheduled', 'live', 'ended', 'cancelled'] as const;
const startRefused = { draft: 'Hội nghị còn là bản nháp: hãy lên lịch trước khi bắt đầu.', scheduled: '', live: 'Hội nghị đã bắt đầu rồi.', ended: 'Hội nghị đã kết thúc, không thể bắt đầu lại.', cancelled: 'Hội nghị đã bị hủy.' };
const startRefusedEn = { draft: 'The meeting is still a draft: schedule it before starting.', scheduled: '', live: 'The meeting has already started.', ended: 'The meeting has ended and cannot start again.', cancelled: 'The meeting was cancelled.' };
const endRefused = { draft: 'Hội nghị chưa bắt đầu.', scheduled: 'Hội nghị chưa bắt đầu.', live: '', ended: 'Hội nghị đã kết thúc rồi.', cancelled: 'Hội nghị đã bị hủy.' };
const endRefusedEn = { draft: 'The meeting has not started.', scheduled: 'The meeting has not started.', live: '', ended: 'The meeting has already ended.', cancelled: 'The meeting was cancelled.' };
const keyed = (prefix: string, texts: Record<(typeof statuses)[number], string>) => Object.fromEntries(statuses.filter((status) => texts[status]).map((status) => [`${prefix}.${status}`, texts[status]]));

registerMessages({
  vi: {
    'live.opId.invalid': 'Mã thao tác không hợp lệ (8–64 chữ, số, "-" hoặc "_").',
    'live.opId.reused': 'Mã thao tác này đã được dùng cho một thao tác khác.',
    'live.opId.pending': 'Thao tác này đang được xử lý; vui lòng gửi lại sau giây lát.',
    'live.at.invalid': 'Thời điểm không hợp lệ.',
    'live.screen.invalid': 'Loại màn hình không hợp lệ.',
    'live.batched.invalid': '“batched” phải là true hoặc false.',
    'live.quorum.invalid': 'Tỷ lệ túc số phải là số nguyên từ 1 đến 100.',
    'live.link.invalid': 'Trạng thái đường truyền không hợp lệ.',
    'live.forbidden.runMeeting': 'Chỉ ban tổ chức hoặc chủ trì mới điều hành được hội nghị.',
    'live.forbidden.otherSite': 'Bạn chỉ thao tác được cho điểm cầu của mình.',
    'live.rateLimited': 'Bạn gửi quá nhiều thao tác. Vui lòng thử lại sau giây lát.',
    'live.busy': 'Nhiều người đang thao tác cùng lúc. Vui lòng thử lại.',
    'meeting.start.refused': 'Không thể bắt đầu hội nghị lúc này.',
    'meeting.end.refused': 'Không thể kết thúc hội nghị lúc này.',
    ...keyed('meeting.start.refused', startRefused),
    ...keyed('meeting.end.refused', endRefused),
    'agenda.live.notLive': 'Hội nghị chưa bắt đầu: hãy bắt đầu hội nghị trước khi điều hành chương trình.',
    'agenda.live.ended': 'Hội nghị đã kết thúc.',
    'agenda.live.cancelled': 'Hội nghị đã bị hủy.',
    'agenda.live.nothingRunning': 'Chưa có mục chương trình nào đang diễn ra.',
    'agenda.extend.invalid': 'Số phút gia hạn phải là số nguyên từ 1 đến 240.',
  },
  en: {
    'live.opId.invalid': 'The operation id is not valid (8-64 letters, digits, "-" or "_").',
    'live.opId.reused': 'This operation id was already used for another operation.',
    'live.opId.pending': 'This operation is still being processed; please send it again in a moment.',
    'live.at.invalid': 'The time is not valid.',
    'live.screen.invalid': 'The screen kind is not valid.',
    'live.batched.invalid': '“batched” must be true or false.',
    'live.quorum.invalid': 'The quorum share must be a whole number from 1 to 100.',
    'live.link.invalid': 'The link status is not valid.',
    'live.forbidden.runMeeting': 'Only organizers or the chair can run the meeting.',
    'live.forbidden.otherSite': 'You can only act for your own bridge point.',
    'live.rateLimited': 'Too many operations. Please try again in a moment.',
    'live.busy': 'Many people are changing this at once. Please try again.',
    'meeting.start.refused': 'The meeting cannot start now.',
    'meeting.end.refused': 'The meeting cannot end now.',
    ...keyed('meeting.start.refused', startRefusedEn),
    ...keyed('meeting.end.refused', endRefusedEn),
    'agenda.live.notLive': 'The meeting has not started: start it before running the agenda.',
    'agenda.live.ended': 'The meeting has ended.',
    'agenda.live.cancelled': 'The meeting was cancelled.',
    'agenda.live.nothingRunning': 'No agenda item is running.',
    'agenda.extend.invalid': 'The extension must be a whole number of minutes from 1 to 240.',
  },
});
