// Duplicating a 5,000-attendee meeting: the longest event-loop stall and the total time of
// duplicateMeeting (cursor, batches of 500, yielding between them) against a baseline measured in
// the same run: the one-shot copy (read every attendee, one insertMany) written inline here.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { connectDatabase } from '../server/database.js';
import { UnitModel } from '../server/units/model.js';
import { createMeeting, duplicateMeeting } from '../server/meetings/actions.js';
import { addProvinceDistricts } from '../server/sites/actions.js';
import { SiteModel } from '../server/sites/model.js';
import { AttendeeModel, attendeeRoles, searchFields } from '../server/attendees/model.js';
import { newToken, searchKey } from '../server/lib/text.js';
import type { Actor } from '../server/lib/actor.js';

const attendeeCount = 5000;
const rounds = 2;
const unitId = '00000000000000000000a0a1';
const organizer: Actor = { kind: 'organizer', userId: 'bench', name: 'Bench', isAdmin: false, unitId };

const database = await connectDatabase({ embedded: { inMemory: true } }, `bench_${randomBytes(4).toString('hex')}`);
await UnitModel.create({ _id: unitId, name: 'Sở KH&CN', nameKey: searchKey('Sở KH&CN') });
const meeting = await createMeeting(organizer, { title: 'Hội nghị năm 2025', start: '2025-12-20T08:00', end: '2025-12-20T11:00', status: 'scheduled' });
await addProvinceDistricts(organizer, { meetingId: String(meeting._id), provinceCode: '87' });
const sites = await SiteModel.find({ meetingId: meeting._id }).lean();
const people = Array.from({ length: attendeeCount }, (_, index) => {
  const person = { fullName: `Nguyễn Văn ${index}`, position: 'Chuyên viên', organization: `Phòng ${index % 17}`, email: `nguoi${index}@example.vn` };
  return { meetingId: meeting._id, ...person, phone: `09${index}`, siteId: sites[index % sites.length]._id, role: attendeeRoles[index % attendeeRoles.length], accessToken: newToken(), ...searchFields(person) };
});
for (let from = 0; from < people.length; from += 1000) await AttendeeModel.insertMany(people.slice(from, from + 1000), { lean: true });

/** The copy as it was: every attendee read at once and written with one insertMany. */
async function oneShotCopy(): Promise<void> {
  const meetingId = new Types.ObjectId();
  const siteIds = new Map(sites.map((site) => [String(site._id), new Types.ObjectId()]));
  await SiteModel.insertMany(sites.map((site) => ({ _id: siteIds.get(String(site._id)), meetingId, name: site.name, isMain: site.isMain, order: site.order, coordinatorToken: newToken() })));
  const attendees = await AttendeeModel.find({ meetingId: meeting._id }).lean();
  await AttendeeModel.insertMany(
    attendees.map((attendee) => ({ meetingId, fullName: attendee.fullName, position: attendee.position, organization: attendee.organization, email: attendee.email, phone: attendee.phone, siteId: siteIds.get(String(attendee.siteId)), role: attendee.role, accessToken: newToken(), searchText: attendee.searchText })),
  );
}

async function measure(run: () => Promise<unknown>): Promise<{ stallMs: number; totalMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let last = performance.now();
  let probeMax = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    probeMax = Math.max(probeMax, now - last - 5);
    last = now;
  }, 5);
  histogram.enable();
  const started = performance.now();
  await run();
  const totalMs = performance.now() - started;
  histogram.disable();
  clearInterval(probe);
  return { stallMs: Math.max(histogram.max / 1e6, probeMax), totalMs };
}

const results = { baseline: [] as { stallMs: number; totalMs: number }[], batched: [] as { stallMs: number; totalMs: number }[] };
for (let round = 0; round < rounds; round += 1) {
  results.baseline.push(await measure(oneShotCopy));
  results.batched.push(await measure(() => duplicateMeeting(organizer, { meetingId: String(meeting._id), copyAttendees: 'on' })));
}
const best = (list: { stallMs: number; totalMs: number }[]) => ({ stallMs: Math.min(...list.map((r) => r.stallMs)), totalMs: Math.min(...list.map((r) => r.totalMs)) });
const baseline = best(results.baseline);
const batched = best(results.batched);
const round1 = (value: number) => Math.round(value * 10) / 10;
console.log(`duplicate ${attendeeCount} attendees over ${sites.length} sites, best of ${rounds} interleaved rounds`);
console.log('                     longest stall (ms)   total (ms)');
console.log(`one-shot (baseline)  ${round1(baseline.stallMs).toString().padStart(18)}   ${round1(baseline.totalMs).toString().padStart(10)}`);
console.log(`batched of 500       ${round1(batched.stallMs).toString().padStart(18)}   ${round1(batched.totalMs).toString().padStart(10)}`);
console.log(
  JSON.stringify({
    bench: 'duplicate',
    attendees: attendeeCount,
    figures: { stallMs: round1(batched.stallMs), totalMs: round1(batched.totalMs) },
    baseline: { stallMs: round1(baseline.stallMs), totalMs: round1(baseline.totalMs) },
    ratio: { stall: Math.round((batched.stallMs / baseline.stallMs) * 1000) / 1000, total: Math.round((batched.totalMs / baseline.totalMs) * 1000) / 1000 },
  }),
);
await database.close();
