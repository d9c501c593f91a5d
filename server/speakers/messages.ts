// Words of requests to speak, Vietnamese first.
import { registerMessages } from '../lib/i18n.js';

registerMessages({
  vi: {
    'speakers.topic.required': 'Vui lòng nhập nội dung phát biểu.',
    'speakers.name.required': 'Vui lòng nhập tên người phát biểu.',
    'speakers.notFound': 'Không tìm thấy đăng ký phát biểu này.',
    'speakers.closed.draft': 'Hội nghị còn là bản nháp.',
    'speakers.closed.ended': 'Hội nghị đã kết thúc.',
    'speakers.closed.cancelled': 'Hội nghị đã bị hủy.',
    'speakers.floor.notLive': 'Hội nghị chưa bắt đầu: chưa thể mời phát biểu.',
    'speakers.forbidden.onlySelf': 'Đại biểu chỉ đăng ký phát biểu cho chính mình.',
    'speakers.forbidden.notYours': 'Bạn chỉ rút được đăng ký của mình hoặc của điểm cầu mình.',
    'speakers.grant.notWaiting': 'Đăng ký này không còn trong danh sách chờ.',
    'speakers.reorder.stale': 'Danh sách chờ vừa thay đổi. Vui lòng tải lại và sắp xếp lại.',
    'speakers.request.alreadyWaiting': 'Bạn đã đăng ký phát biểu và đang chờ đến lượt.',
  },
  en: {
    'speakers.topic.required': 'Please enter what the speech is about.',
    'speakers.request.alreadyWaiting': 'You have already asked to speak and are waiting for your turn.',
    'speakers.name.required': 'Please enter the speaker’s name.',
    'speakers.notFound': 'This request to speak was not found.',
    'speakers.closed.draft': 'The meeting is still a draft.',
    'speakers.closed.ended': 'The meeting has ended.',
    'speakers.closed.cancelled': 'The meeting was cancelled.',
    'speakers.floor.notLive': 'The meeting has not started: nobody can be given the floor yet.',
    'speakers.forbidden.onlySelf': 'Attendees can only ask to speak for themselves.',
    'speakers.forbidden.notYours': 'You can only withdraw your own requests or your bridge point’s.',
    'speakers.grant.notWaiting': 'This request is no longer waiting.',
    'speakers.reorder.stale': 'The queue just changed. Please reload it and reorder again.',
  },
});
