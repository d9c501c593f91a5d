// The demo's two organizing units, so the separation between departments can be seen: the
// Department of Science and Technology (the demo conference) and the Department of Education
// and Training (a small meeting of its own), each with an organizer account outside production.
import { MeetingModel } from '../meetings/model.js';
import { createMeeting, setMeetingStatus } from '../meetings/actions.js';
import { addSite } from '../sites/actions.js';
import { inviteAccount } from '../accounts/actions.js';
import { UserModel } from '../accounts/model.js';
import { ensureUnit, moveMeetingToUnit } from '../units/actions.js';
import { systemActor } from '../lib/actor.js';
import { Invalid, isDuplicateKeyError } from '../lib/errors.js';
import { demoMeeting } from './demo.js';

export const demoUnits = {
  science: demoMeeting.organizingUnit,
  education: 'Sở Giáo dục và Đào tạo tỉnh Đồng Tháp',
} as const;

/** Development accounts, one per unit (the administrator organizer@example.vn sees both). */
export const demoUnitAccounts = [
  { email: 'khcn@example.vn', name: 'Cán bộ Sở KH&CN (demo)', unit: 'science' },
  { email: 'giaoduc@example.vn', name: 'Cán bộ Sở GD&ĐT (demo)', unit: 'education' },
] as const;
export const demoPassword = 'bridgepoint-demo';

const educationPublicId = 'demo-giao-duc-2022';

export async function seedDemoUnits(options: { accounts: boolean }): Promise<void> {
  const science = await ensureUnit(demoUnits.science);
  const education = await ensureUnit(demoUnits.education);

  // Demo meetings seeded before units existed belong to the science unit.
  const unassigned = await MeetingModel.find({ unitId: { $exists: false }, organizingUnit: demoUnits.science }, { _id: 1 }).lean();
  for (const meeting of unassigned) await moveMeetingToUnit(systemActor, { meetingId: String(meeting._id), unitId: String(science._id) });

  if (!(await MeetingModel.exists({ publicId: educationPublicId }))) {
    const created = await createMeeting(systemActor, {
      title: 'Hội nghị Tổng kết năm học 2021-2022 ngành Giáo dục',
      organizingUnit: demoUnits.education,
      unitId: String(education._id),
      description: 'Hội nghị của Sở Giáo dục và Đào tạo: chỉ cán bộ của Sở (và quản trị viên) thấy và thay đổi hội nghị này.',
      timeZone: 'Asia/Ho_Chi_Minh',
      start: '2022-08-12T08:00',
      end: '2022-08-12T11:30',
      status: 'draft',
    });
    try {
      await MeetingModel.updateOne({ _id: created._id }, { $set: { publicId: educationPublicId } });
      const meetingId = String(created._id);
      await addSite(systemActor, { meetingId, name: 'Sở Giáo dục và Đào tạo', address: 'Số 5, đường Võ Trường Toản, Phường 1, TP Cao Lãnh', isMain: true });
      await addSite(systemActor, { meetingId, name: 'Phòng GD&ĐT TP Cao Lãnh' });
      await addSite(systemActor, { meetingId, name: 'Phòng GD&ĐT TP Sa Đéc' });
      await setMeetingStatus(systemActor, { meetingId, action: 'schedule' });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Another instance seeded it at the same moment: leave its copy, drop ours.
      await MeetingModel.deleteOne({ _id: created._id, publicId: { $ne: educationPublicId } });
    }
  }

  if (!options.accounts) return;
  const unitIds = { science: String(science._id), education: String(education._id) };
  for (const account of demoUnitAccounts) {
    if (await UserModel.exists({ email: account.email })) continue;
    await inviteAccount(systemActor, { email: account.email, name: account.name, role: 'organizer', unitId: unitIds[account.unit], password: demoPassword }).catch((error: unknown) => {
      // Created by another instance starting at the same moment.
      if (!(error instanceof Invalid)) throw error;
    });
  }
}
