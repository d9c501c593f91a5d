// The import draft: the parsed rows kept server-side between preview, fixes and commit, and the
// check of every row against the meeting (sites by name, roles, emails unique in the file and in
// the list) that the preview shows and the commit insists on.
import './messages.js';
import { Schema, model } from 'mongoose';
import type { MessageParams } from '../lib/i18n.js';
import { cleanName, isObjectIdString } from '../lib/input.js';
import { NotFound } from '../lib/errors.js';
import { SiteModel } from '../sites/model.js';
import { fieldSchemas, phonePattern } from './actions.js';
import { AttendeeModel, attendeeRoles, type AttendeeRole } from './model.js';
import { headerKey, importColumns, type ImportColumn, type RowValues } from './import-file.js';

export const draftLifetimeMs = 6 * 3600 * 1000;

// ---------------------------------------------------------------------------------------------
// Role names people actually write, in Vietnamese and English (matched like the column names).

/** The labels export writes (= the form's labels) are always among the aliases above. */
export const roleAliases: Record<AttendeeRole, string[]> = {
  chair: ['chair', 'chu tri', 'chu toa', 'chairman', 'chairperson'],
  speaker: ['speaker', 'bao cao vien', 'nguoi bao cao', 'nguoi phat bieu', 'phat bieu', 'presenter'],
  delegate: ['delegate', 'dai bieu', 'attendee', 'participant', 'thanh phan'],
  guest: ['guest', 'khach moi', 'khach'],
  press: ['press', 'bao chi', 'phong vien', 'journalist', 'media'],
};

const roleByAlias = new Map<string, AttendeeRole>(attendeeRoles.flatMap((role) => roleAliases[role].map((alias) => [alias, role] as const)));

export function roleFromText(text: string): AttendeeRole | undefined {
  return roleByAlias.get(headerKey(text));
}

// ---------------------------------------------------------------------------------------------
// The draft model.

const draftRowSchema = new Schema(
  {
    row: { type: Number, required: true },
    fullName: { type: String, default: '' },
    position: { type: String, default: '' },
    organization: { type: String, default: '' },
    email: { type: String, default: '' },
    phone: { type: String, default: '' },
    site: { type: String, default: '' },
    role: { type: String, default: '' },
  },
  { _id: false },
);

const importDraftSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    createdBy: { type: String, default: '' },
    filename: { type: String, default: '' },
    columns: { type: [String], default: [] },
    ignoredColumns: { type: [String], default: [] },
    rows: { type: [draftRowSchema], default: [] },
    /** Drafts are scratch data: MongoDB's TTL monitor removes them; loads also refuse expired ones. */
    expiresAt: { type: Date, required: true },
  },
  { timestamps: true },
);
importDraftSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
importDraftSchema.index({ meetingId: 1, createdAt: -1 });

export const ImportDraftModel = model('AttendeeImportDraft', importDraftSchema);

export function rowValuesOf(row: { [K in ImportColumn]?: string | null }): RowValues {
  return Object.fromEntries(importColumns.map((column) => [column, row[column] ?? ''])) as RowValues;
}

// ---------------------------------------------------------------------------------------------
// Checking rows against the meeting.

export interface RowProblem {
  field: ImportColumn;
  key: string;
  params?: MessageParams;
}

export interface CheckedRow {
  row: number;
  values: RowValues;
  ok: boolean;
  problems: RowProblem[];
  /** What the row becomes when committed. */
  resolved: { siteId?: string; siteName?: string; role?: AttendeeRole };
}

export interface ImportPreview {
  draftId: string;
  meetingId: string;
  filename: string;
  columns: ImportColumn[];
  ignoredColumns: string[];
  total: number;
  ok: number;
  bad: number;
  rows: CheckedRow[];
}

/**
 * Site names as people write them: "TP. Sa Đéc" for "Thành phố Sa Đéc", "Điểm cầu huyện Tân Hồng"
 * or just "Tân Hồng" for "Huyện Tân Hồng". Returns the canonical key, then the key without the
 * kind of unit (used only when it is unambiguous).
 */
function siteNameKeys(name: string): string[] {
  const canonical = headerKey(name)
    .replace(/^diem cau\s+/, '')
    .replace(/^tp\s+/, 'thanh pho ')
    .replace(/^tx\s+/, 'thi xa ')
    .replace(/^tt\s+/, 'thi tran ');
  const bare = canonical.replace(/^(huyen|thanh pho|thi xa|quan|thi tran)\s+/, '').trim();
  return bare && bare !== canonical ? [canonical, bare] : [canonical];
}

async function siteMatcher(meetingId: string) {
  const sites = await SiteModel.find({ meetingId }, { name: 1, isMain: 1 }).lean();
  const exact = new Map<string, Array<{ id: string; name: string }>>();
  const loose = new Map<string, Array<{ id: string; name: string }>>();
  for (const site of sites) {
    const entry = { id: String(site._id), name: site.name };
    const [exactKey, ...others] = siteNameKeys(site.name);
    exact.set(exactKey, [...(exact.get(exactKey) ?? []), entry]);
    for (const key of [exactKey, ...others]) loose.set(key, [...(loose.get(key) ?? []), entry]);
  }
  const main = sites.find((site) => site.isMain);
  return (name: string): { site?: { id: string; name: string }; problem?: string } => {
    if (!name) return main ? { site: { id: String(main._id), name: main.name } } : { problem: 'attendees.import.noMainSite' };
    const keys = siteNameKeys(name);
    const exactHits = exact.get(keys[0]);
    if (exactHits?.length === 1) return { site: exactHits[0] };
    // Only a unique loose match counts: Đồng Tháp has both "TP Hồng Ngự" and "huyện Hồng Ngự".
    const candidates = new Map<string, { id: string; name: string }>();
    for (const key of keys) for (const hit of loose.get(key) ?? []) candidates.set(hit.id, hit);
    if (candidates.size === 1) return { site: [...candidates.values()][0] };
    return { problem: candidates.size > 1 ? 'attendees.import.ambiguousSite' : 'attendees.import.unknownSite' };
  };
}

const lengthLimits: Partial<Record<ImportColumn, number>> = { fullName: 200, position: 300, organization: 300, site: 200, role: 100, phone: 40, email: 254 };

export async function checkRows(meetingId: string, rows: Array<{ row: number; values: RowValues }>): Promise<CheckedRow[]> {
  const matchSite = await siteMatcher(meetingId);
  const emails = [...new Set(rows.map((row) => row.values.email.trim().toLowerCase()).filter(Boolean))];
  const existing = new Map<string, string>();
  // In slices, so a 5,000-row file does not become one huge $in.
  for (let start = 0; start < emails.length; start += 500) {
    const found = await AttendeeModel.find({ meetingId, email: { $in: emails.slice(start, start + 500) } }, { email: 1, fullName: 1 }).lean();
    for (const attendee of found) if (attendee.email) existing.set(attendee.email, attendee.fullName);
  }
  const firstRowOfEmail = new Map<string, number>();

  return rows.map(({ row, values }) => {
    const problems: RowProblem[] = [];
    const resolved: CheckedRow['resolved'] = {};
    for (const [column, limit] of Object.entries(lengthLimits) as Array<[ImportColumn, number]>) {
      if (values[column].length > limit) problems.push({ field: column, key: 'attendees.import.tooLong', params: { column } });
    }
    // The same rule as a name typed in the form: a cell of zero-width spaces or fillers is no name.
    if (!cleanName(values.fullName)) problems.push({ field: 'fullName', key: 'attendees.import.missingName' });

    const email = values.email.trim().toLowerCase();
    if (email) {
      if (!fieldSchemas.email.safeParse(email).success) problems.push({ field: 'email', key: 'attendees.import.badEmail', params: { email: values.email } });
      else if (firstRowOfEmail.has(email)) problems.push({ field: 'email', key: 'attendees.import.duplicateInFile', params: { email, row: firstRowOfEmail.get(email)! } });
      else if (existing.has(email)) problems.push({ field: 'email', key: 'attendees.import.duplicateExisting', params: { email, name: existing.get(email)! } });
      if (!firstRowOfEmail.has(email)) firstRowOfEmail.set(email, row);
    }
    if (values.phone && !phonePattern.test(values.phone)) problems.push({ field: 'phone', key: 'attendees.import.badPhone', params: { phone: values.phone } });

    const site = matchSite(values.site.trim());
    if (site.site) {
      resolved.siteId = site.site.id;
      resolved.siteName = site.site.name;
    } else problems.push({ field: 'site', key: site.problem!, params: { site: values.site } });

    if (!values.role.trim()) resolved.role = 'delegate';
    else {
      const role = roleFromText(values.role);
      if (role) resolved.role = role;
      else problems.push({ field: 'role', key: 'attendees.import.unknownRole', params: { role: values.role } });
    }
    return { row, values, ok: problems.length === 0, problems, resolved };
  });
}

export type DraftDocument = InstanceType<typeof ImportDraftModel>;

export async function previewOf(draft: DraftDocument): Promise<ImportPreview> {
  const meetingId = String(draft.meetingId);
  const rows = await checkRows(
    meetingId,
    draft.rows.map((row) => ({ row: row.row, values: rowValuesOf(row) })),
  );
  const bad = rows.filter((row) => !row.ok).length;
  return {
    draftId: String(draft._id),
    meetingId,
    filename: draft.filename ?? '',
    columns: draft.columns as ImportColumn[],
    ignoredColumns: draft.ignoredColumns,
    total: rows.length,
    ok: rows.length - bad,
    bad,
    rows,
  };
}

export async function loadDraft(meetingId: string, draftId: string): Promise<DraftDocument> {
  if (!isObjectIdString(draftId)) throw new NotFound('attendees.import.draftNotFound');
  const draft = await ImportDraftModel.findOne({ _id: draftId, meetingId });
  if (!draft || draft.expiresAt.getTime() < Date.now()) throw new NotFound('attendees.import.draftNotFound');
  return draft;
}
