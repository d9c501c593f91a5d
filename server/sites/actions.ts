// Every change to a meeting's sites (bridge points): add, edit, remove, choose the main site,
// reorder, add a province's districts in one click, rotate a coordinator's link.
import './messages.js';
import { z } from 'zod';
import { Types } from 'mongoose';
import { SiteModel, type Site } from './model.js';
import { findProvince } from './provinces.js';
import { AttendeeModel } from '../attendees/model.js';
import { requireOpenMeeting as requireOpenMeetingOf } from '../meetings/queries.js';
import { bumpRevision } from '../meetings/actions.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound, Unauthorized, isDuplicateKeyError } from '../lib/errors.js';
import { publish } from '../lib/events.js';
import { newToken, searchKey } from '../lib/text.js';
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
  name: z.preprocess(trimmed, z.string({ error: 'site.name.required' }).min(1, 'site.name.required').max(200, 'site.name.tooLong')),
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
    (value) => (value === '' || value === null ? undefined : typeof value === 'string' ? Number(value) : value),
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

const requireOpenMeeting = (meetingId: string | Types.ObjectId) => requireOpenMeetingOf(meetingId, 'site.meeting.closed');

/** Site data anyone in the meeting may see (no contacts, no video link, no token). */
export function publicSite(site: SiteRecord) {
  return { id: String(site._id), meetingId: String(site.meetingId), name: site.name, address: site.address ?? '', isMain: site.isMain, order: site.order };
}

/**
 * Bumps the revision and publishes. `calendar`: the change shows in calendar invites (a site's
 * name or address is an invite's location; the main site is the meeting's), so SEQUENCE moves too.
 */
async function announce(type: string, meetingId: Types.ObjectId | string, payload: unknown, options: { siteId?: string; calendar?: boolean } = {}): Promise<number> {
  const revision = await bumpRevision(meetingId, { calendar: options.calendar });
  const siteId = options.siteId;
  publish({ type, meetingId: String(meetingId), revision, payload, ...(siteId ? { siteId } : {}) });
  return revision;
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
  await requireOpenMeeting(data.meetingId);
  if (await nameTaken(data.meetingId, data.name)) throw nameTakenError(data.name);
  let created: SiteRecord;
  try {
    const doc = await SiteModel.create({
      meetingId: data.meetingId,
      name: data.name,
      address: data.address ?? '',
      coordinatorName: data.coordinatorName ?? '',
      coordinatorPhone: data.coordinatorPhone ?? '',
      expectedHeadcount: data.expectedHeadcount ?? 0,
      videoLink: data.videoLink ?? {},
      order: await nextOrder(data.meetingId),
      isMain: false,
    });
    created = doc.toObject() as SiteRecord;
  } catch (error) {
    if (isDuplicateKeyError(error)) throw nameTakenError(data.name);
    throw error;
  }
  await announce('site.created', created.meetingId, publicSite(created));
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
  await requireOpenMeeting(site.meetingId);
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
  let updated: SiteRecord | null;
  try {
    updated = await SiteModel.findByIdAndUpdate(site._id, { $set: set }, { returnDocument: 'after', runValidators: true }).lean<SiteRecord>();
  } catch (error) {
    if (isDuplicateKeyError(error)) throw nameTakenError(String(data.name));
    throw error;
  }
  if (!updated) throw new NotFound('site.notFound');
  const locationChanged = updated.name !== site.name || (updated.address ?? '') !== (site.address ?? '');
  await announce('site.updated', updated.meetingId, publicSite(updated), { calendar: locationChanged });
  return updated;
}

/**
 * Refused while attendees are assigned, unless `reassignTo` names another site of the meeting
 * to move them to. The main site cannot go while other sites remain (one must stay main).
 */
export async function removeSite(actor: Actor, input: unknown): Promise<{ removed: SiteRecord; reassigned: number }> {
  const data = parseInput(removeSchema, input);
  requireOrganizer(actor);
  const site = await loadSite(data.siteId, data.meetingId);
  await requireOpenMeeting(site.meetingId);
  if (site.isMain && (await SiteModel.countDocuments({ meetingId: site.meetingId })) > 1) throw new Conflict('site.remove.main');
  let reassigned = 0;
  if (data.reassignTo !== undefined) {
    if (data.reassignTo === String(site._id)) throw new Invalid({ reassignTo: { key: 'site.reassignTo.invalid' } });
    const target = await SiteModel.findOne({ _id: data.reassignTo, meetingId: site.meetingId }, { _id: 1 }).lean();
    if (!target) throw new Invalid({ reassignTo: { key: 'site.reassignTo.invalid' } });
    const moved = await AttendeeModel.updateMany({ meetingId: site.meetingId, siteId: site._id }, { $set: { siteId: target._id } });
    reassigned = moved.modifiedCount;
  } else {
    const count = await AttendeeModel.countDocuments({ meetingId: site.meetingId, siteId: site._id });
    if (count > 0) throw new Conflict('site.remove.hasAttendees', { name: site.name, count });
  }
  await SiteModel.deleteOne({ _id: site._id });
  await announce('site.removed', site.meetingId, { id: String(site._id), reassignedTo: data.reassignTo ?? null, reassigned }, { calendar: reassigned > 0 });
  return { removed: site, reassigned };
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
  await requireOpenMeeting(site.meetingId);
  if (site.isMain) return site;
  const updated = await switchMainSite(site);
  await announce('site.mainChanged', site.meetingId, { mainSiteId: String(site._id), site: publicSite(updated) }, { calendar: true });
  return updated;
}

async function switchMainSite(site: SiteRecord): Promise<SiteRecord> {
  const previousMain = await SiteModel.findOne({ meetingId: site.meetingId, isMain: true }, { _id: 1 }).lean();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    await SiteModel.updateMany({ meetingId: site.meetingId, isMain: true, _id: { $ne: site._id } }, { $set: { isMain: false } });
    try {
      const updated = await SiteModel.findOneAndUpdate({ _id: site._id, meetingId: site.meetingId }, { $set: { isMain: true } }, { returnDocument: 'after' }).lean<SiteRecord>();
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
  await requireOpenMeeting(data.meetingId);
  const existing = await SiteModel.find({ meetingId: data.meetingId }, { _id: 1 }).lean();
  const known = new Set(existing.map((site) => String(site._id)));
  const asked = new Set(data.siteIds);
  if (asked.size !== data.siteIds.length || asked.size !== known.size || data.siteIds.some((id) => !known.has(id))) {
    throw new Invalid({ siteIds: { key: 'site.reorder.mismatch' } });
  }
  await writeOrder(data.siteIds);
  const sites = await SiteModel.find({ meetingId: data.meetingId }).sort({ order: 1 }).lean<SiteRecord[]>();
  await announce('sites.reordered', data.meetingId, { siteIds: sites.map((site) => String(site._id)) });
  return sites;
}

async function writeOrder(siteIds: string[]): Promise<void> {
  if (siteIds.length === 0) return;
  await SiteModel.bulkWrite(siteIds.map((id, order) => ({ updateOne: { filter: { _id: new Types.ObjectId(id) }, update: { $set: { order } } } })));
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
  await requireOpenMeeting(data.meetingId);
  const meetingId = new Types.ObjectId(data.meetingId);

  const existing = await SiteModel.find({ meetingId }, { name: 1, isMain: 1, order: 1 }).lean<SiteRecord[]>();
  const byKey = new Map(existing.map((site) => [searchKey(site.name), site]));
  const created: SiteRecord[] = [];
  let mainSite: SiteRecord | undefined;

  if (!existing.some((site) => site.isMain)) {
    const sameName = byKey.get(searchKey(province.mainSite.name));
    if (sameName) {
      mainSite = await switchMainSite(sameName);
    } else {
      const firstOrder = existing.length > 0 ? Math.min(0, ...existing.map((site) => site.order)) - 1 : 0;
      const main = await insertUnlessPresent({ meetingId, name: province.mainSite.name, address: province.mainSite.address, isMain: true, order: firstOrder });
      if (main) created.push((mainSite = main));
    }
  }
  let order = await nextOrder(meetingId);
  let skipped = 0;
  for (const district of province.districts) {
    if (byKey.has(searchKey(district.name))) {
      skipped += 1;
      continue;
    }
    const site = await insertUnlessPresent({ meetingId, name: district.name, address: district.address, isMain: false, order });
    if (site) {
      created.push(site);
      order += 1;
    } else {
      skipped += 1;
    }
  }
  if (created.length > 0 || mainSite) {
    await announce('sites.added', meetingId, { sites: created.map(publicSite), mainSiteId: mainSite ? String(mainSite._id) : undefined }, { calendar: mainSite !== undefined });
  }
  return { created, skipped, mainSite };
}

/** Inserts, or returns undefined when a concurrent click already inserted it (duplicate key). */
async function insertUnlessPresent(fields: { meetingId: Types.ObjectId; name: string; address: string; isMain: boolean; order: number }): Promise<SiteRecord | undefined> {
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
  const updated = await SiteModel.findByIdAndUpdate(site._id, { $set: { coordinatorToken: newToken() } }, { returnDocument: 'after' }).lean<SiteRecord>();
  if (!updated) throw new NotFound('site.notFound');
  // siteId-scoped: realtime can drop the old link's sockets; nobody else needs to know.
  await announce('site.linkRotated', updated.meetingId, { id: String(updated._id) }, { siteId: String(updated._id) });
  return updated;
}
