// Every change to a meeting's sites (bridge points): add, edit, remove, choose the main site,
// reorder, add a province's districts in one click, rotate a coordinator's link.
import './messages.js';
import { z } from 'zod';
import { Types } from 'mongoose';
import { SiteModel, type Site } from './model.js';
import { findProvince } from './provinces.js';
import { AttendeeModel } from '../attendees/model.js';
import { AttendanceModel } from '../attendance/model.js';
import { MeetingModel } from '../meetings/model.js';
import { countsEvents, liveSitesOf, rosterAfterListChange } from '../live/counts.js';
import { requireOpenMeeting } from '../meetings/guard.js';
import { commitMeetingChange } from '../meetings/revision.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound, Unauthorized, isDuplicateKeyError } from '../lib/errors.js';
import { newToken, searchKey } from '../lib/text.js';
import { cleanName, decimalIntegerInput } from '../lib/input.js';
import { objectId, parseInput } from '../lib/validation.js';

export type SiteRecord = Site & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

// ---------------------------------------------------------------------------------------------
// Input schemas

const trimmed = (value: unknown) => (typeof value === 'string' ? value.trim() : value);
const optionalString = (max: number, key?: string) =>
  z.preprocess((value) => (value === null ? '' : trimmed(value)), z.string().max(max, key).optional());

const videoLinkSchema = z.object({
  platform: optionalString(100),
  url: z.preprocess(
    (value) => (value === null ? '' : trimmed(value)),
    z
      .string()
      .max(1000)
      .refine((url) => url === '' || /^https?:\/\/\S+$/i.test(url), 'site.videoLink.url.invalid')
      .optional(),
  ),
  roomId: optionalString(200),
  passcode: optionalString(200),
  notes: optionalString(2000),
});

const siteFields = {
  name: z.preprocess(cleanName, z.string({ error: 'site.name.required' }).min(1, 'site.name.required').max(200, 'site.name.tooLong')),
  address: optionalString(500),
  coordinatorName: optionalString(200),
  coordinatorPhone: z.preprocess(
    (value) => (value === null ? '' : trimmed(value)),
    z
      .string()
      .refine((phone) => phone === '' || /^\+?[\d\s().-]{6,20}$/.test(phone), 'site.coordinatorPhone.invalid')
      .optional(),
  ),
  expectedHeadcount: z.preprocess(
    decimalIntegerInput,
    z
      .number({ error: 'site.expectedHeadcount.invalid' })
      .int('site.expectedHeadcount.invalid')
      .min(0, 'site.expectedHeadcount.invalid')
      .max(100_000, 'site.expectedHeadcount.invalid')
      .optional(),
  ),
  videoLink: videoLinkSchema.optional(),
};

const booleanInput = z.preprocess((value) => value === true || value === 'true' || value === 'on' || value === '1', z.boolean());

const addSchema = z.object({ meetingId: objectId, ...siteFields, isMain: booleanInput.optional() });
const updateSchema = z.object({ meetingId: objectId.optional(), siteId: objectId, ...siteFields, name: siteFields.name.optional() });
const siteRefSchema = z.object({ meetingId: objectId.optional(), siteId: objectId });
const removeSchema = siteRefSchema.extend({
  reassignTo: z.preprocess((value) => (value === '' || value === null ? undefined : value), objectId.optional()),
});
const reorderSchema = z.object({ meetingId: objectId, siteIds: z.array(objectId, { error: 'site.reorder.mismatch' }).max(1000) });
const moveSchema = siteRefSchema.extend({ direction: z.enum(['up', 'down'], { error: 'site.direction.invalid' }) });
const districtsSchema = z.object({ meetingId: objectId, provinceCode: z.preprocess(trimmed, z.string({ error: 'site.province.unknown' }).min(1, 'site.province.unknown').max(20)) });

/** What a coordinator may change about their own site. */
const coordinatorEditable = new Set(['coordinatorName', 'coordinatorPhone', 'videoLink']);

// ---------------------------------------------------------------------------------------------
// Helpers

async function loadSite(siteId: string, meetingId?: string): Promise<SiteRecord> {
  const site = await SiteModel.findById(siteId).lean<SiteRecord>();
  if (!site || (meetingId !== undefined && String(site.meetingId) !== meetingId)) throw new NotFound('site.notFound');
  return site;
}

/** A cancelled meeting's sites are read-only until it is reinstated. */
const closedKey = 'site.meeting.closed';

/** Site data anyone in the meeting may see (no contacts, no video link, no token). */
export function publicSite(site: SiteRecord) {
  return { id: String(site._id), meetingId: String(site.meetingId), name: site.name, address: site.address ?? '', isMain: site.isMain, order: site.order };
}

/**
 * How long a site being removed refuses new attendees. The mark is a lease, not a flag, so a
 * removal that dies half-way (process killed) does not close the site for ever.
 */
const removalLeaseMs = 30_000;

/**
 * For writes that put attendees on a site, AFTER the write: is the site still there and not being
 * removed? With removeSite marking before it counts, one of the two always sees the other
 * (the attendee write then undoes itself), so no attendee is left on a removed site.
 */
export async function siteAcceptsAttendees(meetingId: string | Types.ObjectId, siteId: string | Types.ObjectId): Promise<boolean> {
  const site = await SiteModel.findOne({ _id: siteId, meetingId }, { removingUntil: 1 }).lean();
  return site !== null && !(site.removingUntil && site.removingUntil.getTime() > Date.now());
}

/** A site update stamped with the meeting revision `revision`, refused if a newer change got there first. */
async function updateStamped(site: SiteRecord, revision: number, update: Record<string, unknown>): Promise<SiteRecord> {
  const updated = await SiteModel.findOneAndUpdate({ _id: site._id, revision: { $lt: revision } }, { ...update, $set: { ...((update.$set as object | undefined) ?? {}), revision } }, { returnDocument: 'after', runValidators: true }).lean<SiteRecord>();
  if (updated) return updated;
  if (await SiteModel.exists({ _id: site._id })) throw new Conflict('error.changedMeanwhile');
  throw new NotFound('site.notFound');
}

/**
 * Names are compared as people read them: "huyện lấp vò" is "Huyện Lấp Vò" (an import matching
 * sites by name could not tell the two apart). A meeting has a few dozen sites at most.
 */
async function nameTaken(meetingId: Types.ObjectId | string, name: string, exceptSiteId?: Types.ObjectId): Promise<boolean> {
  const filter: Record<string, unknown> = { meetingId };
  if (exceptSiteId) filter._id = { $ne: exceptSiteId };
  const key = searchKey(name);
  const sites = await SiteModel.find(filter, { name: 1 }).lean();
  return sites.some((site) => searchKey(site.name) === key);
}

function nameTakenError(name: string): Invalid {
  return new Invalid({ name: { key: 'site.name.taken', params: { name } } });
}

async function nextOrder(meetingId: Types.ObjectId | string): Promise<number> {
  const last = await SiteModel.findOne({ meetingId }, { order: 1 }).sort({ order: -1 }).lean();
  return last ? last.order + 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Actions

export async function addSite(actor: Actor, input: unknown): Promise<SiteRecord> {
  const data = parseInput(addSchema, input);
  requireOrganizer(actor);
  const { stillOpen } = await requireOpenMeeting(actor, data.meetingId, closedKey);
  if (await nameTaken(data.meetingId, data.name)) throw nameTakenError(data.name);
  const order = await nextOrder(data.meetingId);
  const { result: created } = await commitMeetingChange({
    audit: { actor },
    meetingId: data.meetingId,
    ...stillOpen,
    write: async (revision) => {
      try {
        const doc = await SiteModel.create({
          meetingId: data.meetingId,
          name: data.name,
          address: data.address ?? '',
          coordinatorName: data.coordinatorName ?? '',
          coordinatorPhone: data.coordinatorPhone ?? '',
          expectedHeadcount: data.expectedHeadcount ?? 0,
          videoLink: data.videoLink ?? {},
          order,
          isMain: false,
          revision,
        });
        return doc.toObject() as SiteRecord;
      } catch (error) {
        if (isDuplicateKeyError(error)) throw nameTakenError(data.name);
        throw error;
      }
    },
    events: (site) => [{ type: 'site.created', payload: publicSite(site) }],
  });
  if (data.isMain) return setMainSite(actor, { meetingId: data.meetingId, siteId: String(created._id) });
  return created;
}

/**
 * Organizers change everything; a coordinator only the contact and video-link details of their
 * own site (anything else is refused, not silently dropped).
 */
export async function updateSite(actor: Actor, input: unknown): Promise<SiteRecord> {
  const data = parseInput(updateSchema, input);
  if (actor.kind === 'anonymous') throw new Unauthorized();
  const site = await loadSite(data.siteId, data.meetingId);
  const given = Object.entries(data).filter(([key, value]) => value !== undefined && key !== 'siteId' && key !== 'meetingId').map(([key]) => key);
  if (actor.kind === 'coordinator') {
    if (actor.siteId !== String(site._id) || actor.meetingId !== String(site.meetingId)) throw new Forbidden();
    if (given.some((key) => !coordinatorEditable.has(key))) throw new Forbidden('site.coordinator.fieldsForbidden');
  } else {
    requireOrganizer(actor);
  }
  const { stillOpen } = await requireOpenMeeting(actor, site.meetingId, closedKey);
  if (data.name !== undefined && searchKey(data.name) !== searchKey(site.name) && (await nameTaken(site.meetingId, data.name, site._id))) throw nameTakenError(data.name);

  const set: Record<string, unknown> = {};
  for (const key of ['name', 'address', 'coordinatorName', 'coordinatorPhone', 'expectedHeadcount'] as const) {
    if (data[key] !== undefined) set[key] = data[key];
  }
  // Video-link fields are merged one by one, so an API call can change just the passcode.
  for (const [key, value] of Object.entries(data.videoLink ?? {})) {
    if (value !== undefined) set[`videoLink.${key}`] = value;
  }
  if (Object.keys(set).length === 0) return site;
  // A site's name or address is an invite's location: calendars must see the change.
  const locationChanged = (data.name !== undefined && data.name !== site.name) || (data.address !== undefined && data.address !== (site.address ?? ''));
  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId: site.meetingId,
    ...stillOpen,
    calendar: locationChanged,
    write: async (revision) => {
      try {
        return await updateStamped(site, revision, { $set: set });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw nameTakenError(String(data.name));
        throw error;
      }
    },
    events: (updated) => [{ type: 'site.updated', payload: publicSite(updated) }],
  });
  return result;
}

/**
 * Refused while attendees are assigned, unless `reassignTo` names another site of the meeting
 * to move them to. The main site cannot go while other sites remain (one must stay main).
 *
 * Race-free against attendees arriving meanwhile: the site is first marked as being removed (a
 * short lease), then its attendees are counted or moved; every write that puts an attendee on a
 * site checks the mark after writing (siteAcceptsAttendees) and undoes itself. So either this
 * count sees the newcomer (refused, or moved along) or the newcomer sees the mark.
 */
export async function removeSite(actor: Actor, input: unknown): Promise<{ removed: SiteRecord; reassigned: number }> {
  const data = parseInput(removeSchema, input);
  requireOrganizer(actor);
  const site = await loadSite(data.siteId, data.meetingId);
  const { stillOpen } = await requireOpenMeeting(actor, site.meetingId, closedKey);
  if (site.isMain && (await SiteModel.countDocuments({ meetingId: site.meetingId })) > 1) throw new Conflict('site.remove.main');
  let target: { _id: Types.ObjectId } | null = null;
  if (data.reassignTo !== undefined) {
    if (data.reassignTo === String(site._id)) throw new Invalid({ reassignTo: { key: 'site.reassignTo.invalid' } });
    target = await SiteModel.findOne({ _id: data.reassignTo, meetingId: site.meetingId }, { _id: 1 }).lean();
    if (!target) throw new Invalid({ reassignTo: { key: 'site.reassignTo.invalid' } });
  }
  const marked = await SiteModel.updateOne(
    { _id: site._id, $or: [{ removingUntil: { $exists: false } }, { removingUntil: { $lte: new Date() } }] },
    { $set: { removingUntil: new Date(Date.now() + removalLeaseMs) } },
    // The lease is not a change of the site: a refused removal must leave it as it was.
    { timestamps: false },
  );
  if (marked.matchedCount === 0) {
    if (await SiteModel.exists({ _id: site._id })) throw new Conflict('error.changedMeanwhile');
    throw new NotFound('site.notFound');
  }
  const unmark = () => SiteModel.updateOne({ _id: site._id }, { $unset: { removingUntil: 1 } }, { timestamps: false }).catch(() => undefined);
  if (!target) {
    const count = await AttendeeModel.countDocuments({ meetingId: site.meetingId, siteId: site._id });
    if (count > 0) {
      await unmark();
      throw new Conflict('site.remove.hasAttendees', { name: site.name, count });
    }
  }
  try {
    // The day's counts of the site go with its people: its attendance records move to the target
    // site, and its counters are added to the target's and dropped in the same write as the
    // revision. (A check-in at the site counted in the instant between reading and writing them
    // would be lost to the target's row, though not to the totals.)
    const counters = target ? await siteCountersOf(site.meetingId, site._id) : {};
    const siteKey = `live.sites.${String(site._id)}`;
    const transfer = target && Object.keys(counters).length > 0 ? { $inc: Object.fromEntries(Object.entries(counters).map(([key, value]) => [`live.sites.${String(target._id)}.${key}`, value])) } : {};
    const { result } = await commitMeetingChange({
      audit: { actor },
      meetingId: site.meetingId,
      ...stillOpen,
      update: { ...transfer, $unset: { [siteKey]: 1 } },
      // Attendees moving to another site change the invite's location for them.
      calendar: target !== null,
      write: async (revision, meeting) => {
        let reassigned = 0;
        if (target) {
          const moved = await AttendeeModel.updateMany({ meetingId: site.meetingId, siteId: site._id }, { $set: { siteId: target._id, revision } });
          reassigned = moved.modifiedCount;
          await AttendanceModel.updateMany({ meetingId: site.meetingId, siteId: site._id }, { $set: { siteId: target._id } });
        }
        await SiteModel.deleteOne({ _id: site._id });
        // Its people (and what they counted) now at the target: screens following the day hear the
        // target's headcount, and the removed site's as nothing, so the totals do not count it twice.
        return { reassigned, roster: target ? await rosterAfterListChange(meeting) : undefined };
      },
      events: ({ reassigned, roster }, revision, meeting) => [
        ...countsEvents(meeting, roster, revision, target ? [String(site._id), String(target._id)] : []),
        { type: 'site.removed', payload: { id: String(site._id), reassignedTo: data.reassignTo ?? null, reassigned } },
      ],
    });
    return { removed: site, reassigned: result.reassigned };
  } catch (error) {
    await unmark();
    throw error;
  }
}

/**
 * Makes one site the main site. The unique partial index refuses a second main, so the switch
 * is: clear the other mains, then set this one; if a concurrent switch won in between (duplicate
 * key), clear and try again. Every caller ends by setting its own site, so the last one wins and
 * the meeting ends with exactly one main site.
 */
export async function setMainSite(actor: Actor, input: unknown): Promise<SiteRecord> {
  const data = parseInput(siteRefSchema, input);
  requireOrganizer(actor);
  const site = await loadSite(data.siteId, data.meetingId);
  const { stillOpen } = await requireOpenMeeting(actor, site.meetingId, closedKey);
  if (site.isMain) return site;
  // The main site is the meeting's location in invites.
  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId: site.meetingId,
    ...stillOpen,
    calendar: true,
    write: (revision) => switchMainSite(site, revision),
    events: (updated) => [{ type: 'site.mainChanged', payload: { mainSiteId: String(site._id), site: publicSite(updated) } }],
  });
  return result;
}

async function switchMainSite(site: SiteRecord, revision: number): Promise<SiteRecord> {
  const previousMain = await SiteModel.findOne({ meetingId: site.meetingId, isMain: true }, { _id: 1 }).lean();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    await SiteModel.updateMany({ meetingId: site.meetingId, isMain: true, _id: { $ne: site._id } }, { $set: { isMain: false, revision } });
    try {
      const updated = await SiteModel.findOneAndUpdate({ _id: site._id, meetingId: site.meetingId }, { $set: { isMain: true, revision } }, { returnDocument: 'after' }).lean<SiteRecord>();
      if (updated) return updated;
      // The site was removed meanwhile: give the meeting its main site back.
      if (previousMain) await SiteModel.updateOne({ _id: previousMain._id }, { $set: { isMain: true } }).catch(() => undefined);
      throw new NotFound('site.notFound');
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Another switch set its site between our two steps; back off a little and retry.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
    }
  }
  throw new Conflict('error.tooManyRequests');
}

/** Sets the display order; `siteIds` must list every site of the meeting exactly once. */
export async function reorderSites(actor: Actor, input: unknown): Promise<SiteRecord[]> {
  const data = parseInput(reorderSchema, input);
  requireOrganizer(actor);
  const { stillOpen } = await requireOpenMeeting(actor, data.meetingId, closedKey);
  const existing = await SiteModel.find({ meetingId: data.meetingId }, { _id: 1 }).lean();
  const known = new Set(existing.map((site) => String(site._id)));
  const asked = new Set(data.siteIds);
  if (asked.size !== data.siteIds.length || asked.size !== known.size || data.siteIds.some((id) => !known.has(id))) {
    throw new Invalid({ siteIds: { key: 'site.reorder.mismatch' } });
  }
  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId: data.meetingId,
    ...stillOpen,
    write: async (revision) => {
      await writeOrder(data.siteIds, revision);
      return SiteModel.find({ meetingId: data.meetingId }).sort({ order: 1, _id: 1 }).lean<SiteRecord[]>();
    },
    events: (sites) => [{ type: 'sites.reordered', payload: { siteIds: sites.map((site) => String(site._id)) } }],
  });
  return result;
}

async function writeOrder(siteIds: string[], revision: number): Promise<void> {
  if (siteIds.length === 0) return;
  // A later reorder (higher revision) that got there first is not overwritten by this one.
  await SiteModel.bulkWrite(siteIds.map((id, order) => ({ updateOne: { filter: { _id: new Types.ObjectId(id), revision: { $lt: revision } }, update: { $set: { order, revision } } } })));
}

/** One step up or down in the list (the page's arrow buttons). */
export async function moveSite(actor: Actor, input: unknown): Promise<SiteRecord[]> {
  const data = parseInput(moveSchema, input);
  requireOrganizer(actor);
  const site = await loadSite(data.siteId, data.meetingId);
  const ids = (await SiteModel.find({ meetingId: site.meetingId }, { _id: 1 }).sort({ order: 1, _id: 1 }).lean()).map((row) => String(row._id));
  const index = ids.indexOf(String(site._id));
  const swapWith = data.direction === 'up' ? index - 1 : index + 1;
  if (index < 0 || swapWith < 0 || swapWith >= ids.length) return SiteModel.find({ meetingId: site.meetingId }).sort({ order: 1 }).lean<SiteRecord[]>();
  [ids[index], ids[swapWith]] = [ids[swapWith], ids[index]];
  return reorderSites(actor, { meetingId: String(site.meetingId), siteIds: ids });
}

export interface AddDistrictsResult {
  created: SiteRecord[];
  /** Units already present (matched by name, ignoring case and diacritics). */
  skipped: number;
  mainSite?: SiteRecord;
}

/**
 * One click: adds the province's district-level units that the meeting does not have yet, and
 * the main site (the provincial People's Committee office) if the meeting has no main site.
 * Idempotent, also when clicked twice at once (the unique name index refuses the second copy).
 */
export async function addProvinceDistricts(actor: Actor, input: unknown): Promise<AddDistrictsResult> {
  const data = parseInput(districtsSchema, input);
  requireOrganizer(actor);
  const province = findProvince(data.provinceCode);
  if (!province) throw new Invalid({ provinceCode: { key: 'site.province.unknown' } });
  const { stillOpen } = await requireOpenMeeting(actor, data.meetingId, closedKey);
  const meetingId = new Types.ObjectId(data.meetingId);

  const existing = await SiteModel.find({ meetingId }, { name: 1, isMain: 1, order: 1 }).lean<SiteRecord[]>();
  const byKey = new Map(existing.map((site) => [searchKey(site.name), site]));
  const needsMain = !existing.some((site) => site.isMain);
  const missing = province.districts.filter((district) => !byKey.has(searchKey(district.name)));
  // Nothing to add: no revision, no event (a second click changes nothing).
  if (!needsMain && missing.length === 0) return { created: [], skipped: province.districts.length };

  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId,
    ...stillOpen,
    // A new main site is the meeting's location in invites.
    calendar: needsMain,
    write: async (revision) => {
      const created: SiteRecord[] = [];
      let mainSite: SiteRecord | undefined;
      if (needsMain) {
        const sameName = byKey.get(searchKey(province.mainSite.name));
        if (sameName) {
          mainSite = await switchMainSite(sameName, revision);
        } else {
          const firstOrder = existing.length > 0 ? Math.min(0, ...existing.map((site) => site.order)) - 1 : 0;
          const main = await insertUnlessPresent({ meetingId, name: province.mainSite.name, address: province.mainSite.address, isMain: true, order: firstOrder, revision });
          if (main) created.push((mainSite = main));
        }
      }
      let order = await nextOrder(meetingId);
      let skipped = province.districts.length - missing.length;
      for (const district of missing) {
        const site = await insertUnlessPresent({ meetingId, name: district.name, address: district.address, isMain: false, order, revision });
        if (site) {
          created.push(site);
          order += 1;
        } else {
          skipped += 1;
        }
      }
      return { created, skipped, mainSite };
    },
    events: ({ created, mainSite }) => [{ type: 'sites.added', payload: { sites: created.map(publicSite), mainSiteId: mainSite ? String(mainSite._id) : undefined } }],
  });
  return result;
}

/** Inserts, or returns undefined when a concurrent click already inserted it (duplicate key). */
async function insertUnlessPresent(fields: { meetingId: Types.ObjectId; name: string; address: string; isMain: boolean; order: number; revision: number }): Promise<SiteRecord | undefined> {
  try {
    return (await SiteModel.create(fields)).toObject() as SiteRecord;
  } catch (error) {
    if (isDuplicateKeyError(error)) return undefined;
    throw error;
  }
}

/** A new secret for the coordinator's link; the old link stops working at once. */
export async function rotateCoordinatorLink(actor: Actor, input: unknown): Promise<SiteRecord> {
  const data = parseInput(siteRefSchema, input);
  requireOrganizer(actor);
  const site = await loadSite(data.siteId, data.meetingId);
  // Revoking a link is allowed on a cancelled meeting too: a leaked link must be stoppable.
  await requireOpenMeeting(actor, site.meetingId, {});
  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId: site.meetingId,
    write: (revision) => updateStamped(site, revision, { $set: { coordinatorToken: newToken() } }),
    // siteId-scoped: realtime can drop the old link's sockets; nobody else needs to know.
    events: (updated) => [{ type: 'site.linkRotated', siteId: String(updated._id), payload: { id: String(updated._id) } }],
  });
  return result;
}

/** A site's attendance counters on the day (present, absent, ...), as numbers. */
async function siteCountersOf(meetingId: Types.ObjectId, siteId: Types.ObjectId): Promise<Record<string, number>> {
  const meeting = await MeetingModel.findById(meetingId, { live: 1 }).lean();
  const counters = liveSitesOf(meeting?.live)[String(siteId)] ?? {};
  const kinds = ['present', 'absent', 'leftEarly', 'late', 'walkIns', 'resolved'] as const;
  return Object.fromEntries(kinds.map((kind) => [kind, counters[kind] ?? 0]).filter(([, value]) => value !== 0));
}
