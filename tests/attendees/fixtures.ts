// Shared setup of the attendees tests: a review conference with Đồng Tháp's 13 sites.
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AppError } from '../../server/lib/errors.js';
import type { Actor } from '../../server/lib/actor.js';
import { testUnit } from '../helpers/database.js';

export const organizer: Actor = { kind: 'organizer', userId: 'u1', name: 'Nguyễn Thị Tổ Chức', isAdmin: false, unitId: testUnit.id };

export interface Conference {
  meetingId: string;
  mainSiteId: string;
  /** Site ids by name, e.g. siteIds['Thành phố Sa Đéc']. */
  siteIds: Record<string, string>;
}

/** The 2021 review conference with its main site and the 12 districts, as the organizer sets it up. */
export async function newConference(actor: Actor = organizer): Promise<Conference> {
  const meeting = await createMeeting(actor, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00' });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(actor, { meetingId, provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId }).lean();
  return {
    meetingId,
    mainSiteId: String(sites.find((site) => site.isMain)!._id),
    siteIds: Object.fromEntries(sites.map((site) => [site.name, String(site._id)])),
  };
}

/** The typed error an action refused with (fails the test if it did not refuse). */
export async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the action to be refused');
}
