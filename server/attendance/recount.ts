// Counts that survive a crash. A change writes the attendance record (marked `pendingSince`) and
// then moves its site's counters with the meeting's revision: two writes, and the store has no
// transactions. A process killed between them leaves the record changed and the counters not
// (or, killed just after the count, the counters moved and the mark still there). Either way the
// records are the truth: the site is counted again from them, in one write with a new revision,
// and every screen gets the new counts.
//
// A mark older than `orphanAfterMs` belongs to a process that died: a living one takes back a
// change it could not count within `commitWithinMs` (actions.ts), so it never counts after the
// recount did. A younger mark is a change in flight: the recount waits until the site has none,
// then writes only if the meeting's revision is still the one it read (no change counted
// meanwhile). Recounts run when a change or a resend meets an old mark, from a sweep every few
// seconds, and once per open meeting when the app starts.
import { Types } from 'mongoose';
import type { Logger } from 'pino';
import { AttendanceModel } from './model.js';
import { AttendeeModel } from '../attendees/model.js';
import { countedBy, counterKinds } from './counting.js';
import { MeetingModel } from '../meetings/model.js';
import { commitMeetingChange } from '../meetings/revision.js';
import { SiteModel } from '../sites/model.js';
import { countsOf, invitedBySite, liveSitesOf } from '../live/counts.js';
import { recountActor } from '../lib/actor.js';
import { Conflict, NotFound, TooManyRequests } from '../lib/errors.js';

/** A change not counted this long after its record was written is taken back (actions.ts). */
export const commitWithinMs = 5_000;
/** A mark this old is a dead process's: the recount takes the record as it stands. */
export const orphanAfterMs = 15_000;
/** How long a change waits for the person's previous change to be counted. */
const waitForPreviousMs = 8_000;
const sweepEveryMs = 5_000;

export function countWithin(pendingSince: Date | null | undefined): boolean {
  return !pendingSince || Date.now() - pendingSince.getTime() < commitWithinMs;
}

/**
 * A count whose answer came this long after its mark may have been applied after a recount took
 * the mark for a dead process's (the write waited in the driver for a restarted store, or in a
 * loaded store's queue, past `orphanAfterMs`): the record then counted twice, and its site is
 * counted again (the margin covers clocks of instances that differ by a few seconds).
 */
export function countedLate(pendingSince: Date | null | undefined): boolean {
  return Boolean(pendingSince) && Date.now() - pendingSince!.getTime() >= orphanAfterMs - commitWithinMs;
}

type Marked = { _id: Types.ObjectId; meetingId: Types.ObjectId; siteId: Types.ObjectId; pendingSince?: Date | null };

/**
 * The record once no change of it is waiting to be counted: a change in flight is waited for, a
 * dead process's is settled by a recount of its site. Refused as busy after a while.
 */
export async function settledRecord<T extends Marked>(record: T): Promise<T> {
  const deadline = Date.now() + waitForPreviousMs;
  let current = record;
  // Looked at again with a growing pause: many waiting changes must not load a slow store further.
  for (let pass = 0; current.pendingSince; pass++) {
    const pause = Math.min(250, 20 * 2 ** Math.min(pass, 4));
    // Refused after a while however the wait goes: a dead process's change whose site is never
    // quiet enough to recount (check-ins arriving without a pause) must not hold the asker.
    if (Date.now() > deadline) throw personBusy();
    if (Date.now() - current.pendingSince.getTime() >= orphanAfterMs) {
      if ((await recountSite(String(current.meetingId), String(current.siteId), deadline)) === false) await sleep(pause);
    } else await sleep(pause);
    const now = await AttendanceModel.findById(current._id).lean<T>();
    if (!now) throw new NotFound('attendance.attendee.notFound');
    current = now;
  }
  return current;
}

/**
 * The person's earlier change is still waiting to be counted (or to be recounted): not a refusal,
 * the asker tries again shortly (a coordinator's offline queue keeps a command answered so, and
 * drops one refused with a conflict).
 */
export function personBusy(): TooManyRequests {
  const busy = new TooManyRequests('attendance.busy');
  busy.retryAfterMs = 1_000;
  return busy;
}

export interface Recount {
  meetingId: string;
  siteId: string;
  revision: number;
  before: Record<string, number>;
  after: Record<string, number>;
}

/**
 * Counts one site again from its records. Returns what it changed (undefined when the counters
 * were right), or false when the site never had a quiet moment (changes kept arriving) or the
 * meeting or site is gone: the next sweep tries again. Gives up at `deadline` (a waiting asker's).
 *
 * A dead process's mark may also be a move or a removal of the attendee (actions.ts
 * detachAttendance), stopped before or after its count: the record first follows the attendee
 * list (to the attendee's site, or gone with them), and every site the record was or is at is
 * counted again before the mark goes. `nested`: such a second site, whose own marks of that kind
 * wait for its own recount.
 */
export function recountSite(meetingId: string, siteId: string, deadline = Infinity, nested = false): Promise<Recount | undefined | false> {
  if (nested) return countAgain(meetingId, siteId, deadline, true);
  // One recount per site at a time in this process: everyone who finds the site needing one waits
  // for it (until their own deadline; the recount goes on).
  const key = `${meetingId}:${siteId}`;
  let running = recounts.get(key);
  if (!running) {
    running = countAgain(meetingId, siteId, Infinity, false).finally(() => recounts.delete(key));
    recounts.set(key, running);
  }
  if (deadline === Infinity) return running;
  return Promise.race([running, sleep(Math.max(0, deadline - Date.now())).then(() => false as const)]);
}

const recounts = new Map<string, Promise<Recount | undefined | false>>();

async function countAgain(meetingId: string, siteId: string, deadline: number, nested: boolean): Promise<Recount | undefined | false> {
  // The other sites the dead processes' records were or are at: counted again before their marks go.
  const touched = new Set<string>();
  // Changes in flight finish (counted, or taken back) within commitWithinMs, and a dead process's
  // mark is old after orphanAfterMs: the site has quiet moments, unless check-ins never pause.
  const giveUpAt = Math.min(deadline, Date.now() + orphanAfterMs + 2_000);
  for (let attempt = 0; Date.now() <= giveUpAt; attempt++) {
    // The meeting first, then the records: a change counted after this read moves the revision,
    // and the write below, guarded by it, is refused and done again.
    const meeting = await MeetingModel.findById(meetingId, { revision: 1, live: 1 }).lean();
    if (!meeting) return false;
    // The site's records, and those moving away from it (its counters still hold them until counted).
    const seen = await AttendanceModel.find({ meetingId, $or: [{ siteId }, { movingFrom: siteId }] }, { attendeeId: 1, siteId: 1, movingFrom: 1, status: 1, late: 1, walkIn: 1, version: 1, pendingSince: 1 }).lean();
    const now = Date.now();
    if (seen.some((record) => record.pendingSince && now - record.pendingSince.getTime() < orphanAfterMs)) {
      await sleep(Math.min(200, 20 + attempt * 10));
      continue;
    }
    const orphans = seen.filter((record) => record.pendingSince);
    for (const record of orphans) for (const id of [record.siteId, record.movingFrom]) if (id && String(id) !== siteId) touched.add(String(id));
    if (await followAttendees(meetingId, orphans, touched)) continue;
    const records = seen.filter((record) => String(record.siteId) === siteId);
    const after = Object.fromEntries(counterKinds.map((kind) => [kind, 0]));
    for (const record of records) for (const [kind, value] of Object.entries(countedBy(record))) after[kind] += value;
    const stored = liveSitesOf(meeting.live)[siteId] ?? {};
    const before = Object.fromEntries(counterKinds.map((kind) => [kind, stored[kind] ?? 0]));
    if (counterKinds.every((kind) => before[kind] === after[kind])) {
      if (!(await settleOthers(meetingId, touched, deadline, nested))) return false;
      if (!nested) await clearMarks(orphans);
      return undefined;
    }
    if (!(await SiteModel.exists({ _id: siteId, meetingId }))) return false;
    try {
      const invited = await invitedBySite(meetingId);
      const { revision } = await commitMeetingChange({
        meetingId,
        when: { revision: meeting.revision },
        rejected: () => new Conflict('error.changedMeanwhile'),
        update: { $set: Object.fromEntries(counterKinds.map((kind) => [`live.sites.${siteId}.${kind}`, after[kind]])) },
        audit: { actor: recountActor, detail: counterKinds.filter((kind) => before[kind] !== after[kind]).map((kind) => `${kind}: ${before[kind]} → ${after[kind]}`).join(', ') },
        events: (_result, revision, updated) => {
          const { counts, totals, quorum } = countsOf(updated, invited, siteId);
          return [{ type: 'attendance.counts', payload: { siteId, counts: { ...counts, revision }, totals: { ...totals, revision }, quorum } }];
        },
      });
      if (!(await settleOthers(meetingId, touched, deadline, nested))) return false;
      if (!nested) await clearMarks(orphans);
      return { meetingId, siteId, revision, before, after };
    } catch (error) {
      if (error instanceof Conflict) continue;
      throw error;
    }
  }
  return false;
}

/**
 * Dead processes' records made to agree with the attendee list: a record whose attendee is gone
 * goes; one at another site than its attendee's moves there (marked as moving from where it was).
 * True when a record changed (the caller reads again).
 */
async function followAttendees(meetingId: string, orphans: Array<{ _id: Types.ObjectId; attendeeId: Types.ObjectId; siteId: Types.ObjectId; pendingSince?: Date | null }>, touched: Set<string>): Promise<boolean> {
  if (orphans.length === 0) return false;
  const people = await AttendeeModel.find({ _id: { $in: orphans.map((record) => record.attendeeId) }, meetingId }, { siteId: 1 }).lean();
  const siteOf = new Map(people.map((person) => [String(person._id), person.siteId]));
  let changed = false;
  for (const record of orphans) {
    const personSite = siteOf.get(String(record.attendeeId));
    const marked = { _id: record._id, pendingSince: record.pendingSince };
    if (!personSite) {
      changed = (await AttendanceModel.deleteOne(marked)).deletedCount === 1 || changed;
    } else if (String(personSite) !== String(record.siteId)) {
      touched.add(String(personSite));
      changed = (await AttendanceModel.updateOne(marked, { $set: { siteId: personSite, movingFrom: record.siteId } })).modifiedCount === 1 || changed;
    }
  }
  return changed;
}

/** The other sites counted again (each on its own); false if one could not be. */
async function settleOthers(meetingId: string, touched: Set<string>, deadline: number, nested: boolean): Promise<boolean> {
  if (nested) return true;
  for (const other of touched) {
    if ((await recountSite(meetingId, other, deadline, true)) === false && (await SiteModel.exists({ _id: other, meetingId }))) return false;
  }
  return true;
}

/** Every site of a meeting counted again (at start-up: counts left by an earlier run). */
export async function recountMeeting(meetingId: string): Promise<Recount[]> {
  await dropGoneSites(meetingId);
  const siteIds = await AttendanceModel.distinct('siteId', { meetingId: new Types.ObjectId(meetingId) });
  const done: Recount[] = [];
  for (const siteId of siteIds) {
    const result = await recountSite(meetingId, String(siteId));
    if (result) done.push(result);
  }
  return done;
}

/**
 * Counters kept under a site that is gone: a change counted at a site in the moment it was removed
 * (sites/actions.ts removeSite moves the records and the counters to another site, then the change
 * adds its own to the removed site's). The records count at their new site, so these go; else the
 * totals, which add every site's counters, count those people twice once that site is recounted.
 */
async function dropGoneSites(meetingId: string): Promise<void> {
  const meeting = await MeetingModel.findById(meetingId, { live: 1 }).lean();
  if (!meeting) return;
  const sites = liveSitesOf(meeting.live);
  const existing = new Set((await SiteModel.find({ meetingId }, { _id: 1 }).lean()).map((site) => String(site._id)));
  for (const [siteId, stored] of Object.entries(sites)) {
    if (existing.has(siteId) || counterKinds.every((kind) => !stored[kind])) continue;
    const invited = await invitedBySite(meetingId);
    await commitMeetingChange({
      meetingId,
      when: Object.fromEntries(counterKinds.map((kind) => [`live.sites.${siteId}.${kind}`, stored[kind] ?? null])),
      rejected: () => new Conflict('error.changedMeanwhile'),
      update: { $unset: { [`live.sites.${siteId}`]: 1 } },
      audit: { actor: recountActor, detail: counterKinds.filter((kind) => stored[kind]).map((kind) => `${kind}: ${String(stored[kind])} → 0`).join(', ') },
      events: (_result, revision, updated) => {
        const { counts, totals, quorum } = countsOf(updated, invited, siteId);
        return [{ type: 'attendance.counts', payload: { siteId, counts: { ...counts, revision }, totals: { ...totals, revision }, quorum } }];
      },
    }).catch((error: unknown) => {
      // Changed meanwhile: the next start-up looks again.
      if (!(error instanceof Conflict)) throw error;
    });
  }
}

/** The sites holding a change whose process died, counted again. */
export async function recountAbandoned(): Promise<Recount[]> {
  const stale = await AttendanceModel.find({ pendingSince: { $lt: new Date(Date.now() - orphanAfterMs) } }, { meetingId: 1, siteId: 1 }).limit(1_000).lean();
  const sites = new Map(stale.map((record) => [`${String(record.meetingId)}:${String(record.siteId)}`, record]));
  const done: Recount[] = [];
  for (const record of sites.values()) {
    const result = await recountSite(String(record.meetingId), String(record.siteId));
    if (result) done.push(result);
    // A site that is gone: its records have nowhere to count; the mark goes.
    else if (result === false && !(await SiteModel.exists({ _id: record.siteId }))) await AttendanceModel.updateMany({ siteId: record.siteId, pendingSince: { $ne: null } }, { $set: { pendingSince: null } });
  }
  return done;
}

/**
 * Recounts the open meetings once, then sweeps for abandoned changes every few seconds, until the
 * returned function is called. Every recount that changed a figure is logged as a warning.
 */
export function startRecounts(logger: Logger): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const report = (done: Recount[]) => {
    for (const recount of done) logger.warn({ recount }, 'attendance counts recounted from the records (a change was not counted: a process stopped mid-way)');
  };
  // Recounts queued or running: a sweep that finds one still going is skipped (a loaded store or a
  // long start-up recount would otherwise pile up a sweep every few seconds behind it).
  let queued = 0;
  const run = (work: () => Promise<Recount[]>) => {
    queued++;
    running = running.then(async () => {
      try {
        if (!stopped) report(await work());
      } catch (error) {
        logger.error({ err: error }, 'attendance recount failed; the next sweep tries again');
      } finally {
        queued--;
      }
    });
  };
  run(async () => {
    const open = await MeetingModel.find({ status: { $in: ['scheduled', 'live'] } }, { _id: 1 }).lean();
    const done: Recount[] = [];
    for (const meeting of open) done.push(...(await recountMeeting(String(meeting._id))));
    return done;
  });
  const timer = setInterval(() => {
    if (queued === 0) run(recountAbandoned);
  }, sweepEveryMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

async function clearMarks(records: Array<{ _id: Types.ObjectId; pendingSince?: Date | null }>): Promise<void> {
  for (const record of records) await AttendanceModel.updateOne({ _id: record._id, pendingSince: record.pendingSince }, { $set: { pendingSince: null, movingFrom: null } });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
