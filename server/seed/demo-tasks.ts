// The demo conference's follow-up: the Vice Chairman's concluding directives (the seed's closing
// paragraph) as tasks of 2022, assigned to the Department and to every district, with due dates
// in 2022 and the statuses and progress notes a year of work leaves (fictional, like the seed's
// coordinators). Idempotent: the first directive's key is the claim; whoever adds it seeds the rest.
import { DirectiveModel } from '../followup/model.js';
import { addDirective, assignDirective, reportProgress } from '../followup/actions.js';
import { MeetingModel } from '../meetings/model.js';
import { SiteModel } from '../sites/model.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { systemActor, type Actor } from '../lib/actor.js';
import { AppError } from '../lib/errors.js';
import { demoDirectives } from './demo.js';

type Progress = { status: 'open' | 'inProgress' | 'done'; note?: string; at?: string };

/** The Department's six directives: due date and how the year went (notes dated in 2022). */
const departmentPlan: Array<{ dueDate: string } & Progress> = [
  { dueDate: '2022-03-31', status: 'done', at: '2022-03-24T09:00:00+07:00', note: 'Đã rà soát các hạn chế nêu tại Hội nghị và trình UBND Tỉnh kế hoạch khắc phục năm 2022.' },
  { dueDate: '2022-06-30', status: 'done', at: '2022-06-22T15:30:00+07:00', note: 'Đã đánh giá lại các thỏa thuận hợp tác với viện, trường; đề xuất tiếp tục, điều chỉnh hoặc kết thúc từng thỏa thuận.' },
  { dueDate: '2022-12-31', status: 'inProgress', at: '2022-10-14T10:00:00+07:00', note: 'Đang hướng dẫn các doanh nghiệp hoàn thiện hồ sơ đề nghị cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ.' },
  { dueDate: '2022-09-30', status: 'done', at: '2022-09-27T08:30:00+07:00', note: 'Đã tổ chức tập huấn sở hữu trí tuệ cho doanh nghiệp, hợp tác xã và hỗ trợ hồ sơ đăng ký nhãn hiệu.' },
  { dueDate: '2022-12-31', status: 'done', at: '2022-12-16T14:00:00+07:00', note: 'Đã tổ chức các buổi kết nối cung – cầu công nghệ và ký kết chuyển giao với các đơn vị.' },
  { dueDate: '2022-12-31', status: 'inProgress', at: '2022-11-08T09:15:00+07:00', note: 'Đã phối hợp với Trường Đại học Đồng Tháp và Trường CĐCĐ Đồng Tháp đặt hàng nhiệm vụ; một số nhiệm vụ đang triển khai.' },
];

/** The districts' commitment (one task each, due at the end of 2022), by the district's place in the list. */
function districtProgress(index: number, district: string): Progress {
  if (index === 4 || index === 9) return { status: 'open' };
  if (index === 2 || index === 7) return { status: 'inProgress', at: '2022-10-20T16:00:00+07:00', note: `${district} đã đăng ký nhiệm vụ khoa học và công nghệ cấp cơ sở; đang chờ phê duyệt thuyết minh.` };
  return { status: 'done', at: `2022-${String(8 + (index % 4)).padStart(2, '0')}-${String(10 + index).padStart(2, '0')}T10:00:00+07:00`, note: `${district} đã triển khai một mô hình chuyển giao công nghệ phục vụ sản xuất nông nghiệp của địa phương.` };
}

const claimKey = (index: number) => `demo-2021-directive-${index + 1}`;

export async function seedDemoTasks(meetingId: string): Promise<void> {
  const meeting = await MeetingModel.findById(meetingId).lean<MeetingRecord>();
  if (!meeting?.unitId || (await DirectiveModel.exists({ meetingId, key: claimKey(0) }))) return;
  const by = 'Huỳnh Minh Tuấn';
  const directiveIds: string[] = [];
  for (const [index, text] of demoDirectives.entries()) {
    try {
      directiveIds.push((await addDirective(systemActor, { meetingId, text, by, key: claimKey(index) })).id);
    } catch (error) {
      // Another instance claimed the first directive: it seeds the rest.
      if (index === 0 && error instanceof AppError && error.status === 409) return;
      throw error;
    }
  }

  // The Department carries the first six; its notes are written in its name.
  const department: Actor = { kind: 'organizer', userId: 'system', name: meeting.organizingUnit || 'Sở Khoa học và Công nghệ', isAdmin: true };
  const unitKey = `unit:${String(meeting.unitId)}`;
  for (const [index, plan] of departmentPlan.entries()) {
    const [task] = await assignDirective(systemActor, { meetingId, directiveId: directiveIds[index], assignees: [unitKey], dueDate: plan.dueDate });
    await report(department, meetingId, task.id, plan);
  }

  // Every district commits to at least one technology transfer or research task in 2022.
  const districts = await SiteModel.find({ meetingId, isMain: false }, { name: 1, coordinatorName: 1 }).sort({ order: 1 }).lean();
  const last = directiveIds[directiveIds.length - 1];
  const tasks = await assignDirective(systemActor, { meetingId, directiveId: last, assignees: districts.map((site) => `site:${String(site._id)}`), dueDate: '2022-12-31' });
  for (const [index, site] of districts.entries()) {
    const task = tasks.find((entry) => entry.assignee.id === String(site._id));
    if (!task) continue;
    const coordinator: Actor = { kind: 'coordinator', meetingId, siteId: String(site._id), name: site.coordinatorName || site.name };
    await report(coordinator, meetingId, task.id, districtProgress(index, site.name));
  }
}

async function report(actor: Actor, meetingId: string, taskId: string, progress: Progress): Promise<void> {
  if (progress.status === 'open' && !progress.note) return;
  await reportProgress(actor, { meetingId, taskId, status: progress.status, text: progress.note }, progress.at ? new Date(progress.at) : new Date());
}
