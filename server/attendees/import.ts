// Importing an attendee list from a spreadsheet, the organizer's actions: upload (parsed off
// the event loop, kept as a draft), look at every row with its problems, fix or drop rows, then
// commit all rows or none. Reading files: import-file.ts; the draft and row checks: import-draft.ts.
import './messages.js';
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { Invalid, NotFound, isDuplicateKeyError } from '../lib/errors.js';
import { cleanName, isObjectIdString } from '../lib/input.js';
import { objectId, parseInput } from '../lib/validation.js';
import { loadMeetingFor, requireOpenMeeting } from '../meetings/guard.js';
import { commitMeetingChange } from '../meetings/revision.js';
import { AttendeeModel } from './model.js';
import { cleanCell, importColumns, type UploadedFile } from './import-file.js';
import { parseImportOffThread } from './import-parse.js';
import { ImportDraftModel, draftLifetimeMs, loadDraft, previewOf, type ImportPreview } from './import-draft.js';
import { countsEvents, rosterAfterListChange } from '../live/counts.js';

export { importColumns, maxImportBytes, maxImportMb, maxImportRows, maxUnpackedBytes, type ImportColumn, type RowValues, type UploadedFile, type ParsedImport } from './import-file.js';
export { ImportDraftModel, checkRows, roleAliases, roleFromText, type CheckedRow, type ImportPreview, type RowProblem } from './import-draft.js';

/** An organizer who may see this meeting (its unit's, or an administrator): drafts of other units' meetings do not exist for them. */
async function requireImporter(actor: Actor, meetingId: string): Promise<Extract<Actor, { kind: 'organizer' }>> {
  requireOrganizer(actor);
  await loadMeetingFor(actor, meetingId, 'attendees.meetingNotFound');
  return actor;
}

// ---------------------------------------------------------------------------------------------
// Actions.

/** Read the uploaded file and keep its rows as a draft; nothing is added to the list yet. */
export async function previewImport(actor: Actor, meetingId: string, file: UploadedFile | undefined): Promise<ImportPreview> {
  const organizer = await requireImporter(actor, meetingId);
  if (!file) throw new Invalid({ file: { key: 'attendees.import.fileRequired' } }, 'attendees.import.fileRequired');
  const parsed = await parseImportOffThread(file);
  const draft = await ImportDraftModel.create({
    meetingId,
    createdBy: organizer.userId,
    // Shown in the preview's heading and sent to the meeting's screens: no bidi override may reorder them.
    filename: String(cleanName(file.originalname)).slice(0, 200),
    columns: parsed.columns,
    ignoredColumns: parsed.ignoredColumns,
    rows: parsed.rows.map(({ row, values }) => ({ row, ...values })),
    expiresAt: new Date(Date.now() + draftLifetimeMs),
  });
  return previewOf(draft);
}

export async function getImportPreview(actor: Actor, meetingId: string, draftId: string): Promise<ImportPreview> {
  await requireImporter(actor, meetingId);
  return previewOf(await loadDraft(meetingId, draftId));
}

const cellInput = z.preprocess((v) => (typeof v === 'string' ? v.normalize('NFC') : (v ?? '')), z.string().max(400)).optional();
const rowFixSchema = z.object({
  fullName: cellInput,
  position: cellInput,
  organization: cellInput,
  email: cellInput,
  phone: cellInput,
  site: cellInput,
  role: cellInput,
});

/** Correct one row of the preview in place (instead of fixing the file and uploading again). */
export async function fixImportRow(actor: Actor, meetingId: string, draftId: string, rowNumber: number, input: unknown): Promise<ImportPreview> {
  await requireImporter(actor, meetingId);
  const values = parseInput(rowFixSchema, input);
  const draft = await loadDraft(meetingId, draftId);
  const row = draft.rows.find((candidate) => candidate.row === Number(rowNumber));
  if (!row) throw new NotFound('attendees.import.draftNotFound');
  for (const column of importColumns) {
    const value = values[column];
    if (value !== undefined) row.set(column, cleanCell(value));
  }
  await draft.save();
  return previewOf(draft);
}

/** Leave one row out of the import. */
export async function dropImportRow(actor: Actor, meetingId: string, draftId: string, rowNumber: number): Promise<ImportPreview> {
  await requireImporter(actor, meetingId);
  const draft = await loadDraft(meetingId, draftId);
  const index = draft.rows.findIndex((candidate) => candidate.row === Number(rowNumber));
  if (index < 0) throw new NotFound('attendees.import.draftNotFound');
  draft.rows.splice(index, 1);
  await draft.save();
  return previewOf(draft);
}

export async function discardImport(actor: Actor, meetingId: string, draftId: string): Promise<void> {
  await requireImporter(actor, meetingId);
  if (!isObjectIdString(draftId)) return;
  await ImportDraftModel.deleteOne({ _id: draftId, meetingId });
}

export class ImportNotReady extends Invalid {
  constructor(
    readonly preview: ImportPreview,
    messageKey = 'attendees.import.notCommitted',
  ) {
    super({}, messageKey, { bad: preview.bad });
  }
}

const commitSchema = z.object({ meetingId: objectId, draftId: objectId });

/**
 * Add every row of the draft to the list, or none: all rows are checked first, then inserted in
 * one ordered insertMany with ids chosen here; if anything fails midway (a concurrent edit took
 * an email), the rows this import inserted are deleted again.
 */
export async function commitImport(actor: Actor, input: unknown): Promise<{ inserted: number; revision: number }> {
  const { meetingId, draftId } = parseInput(commitSchema, input);
  await requireImporter(actor, meetingId);
  const { stillOpen } = await requireOpenMeeting(actor, meetingId, 'attendees.meeting.closed');
  const draft = await loadDraft(meetingId, draftId);
  const preview = await previewOf(draft);
  if (preview.bad > 0 || preview.total === 0) throw new ImportNotReady(preview);

  const docs = preview.rows.map((row) => {
    const email = row.values.email.trim().toLowerCase();
    return {
      _id: new Types.ObjectId(),
      meetingId: new Types.ObjectId(meetingId),
      fullName: String(cleanName(row.values.fullName)),
      position: row.values.position.trim(),
      organization: row.values.organization.trim(),
      ...(email ? { email } : {}),
      phone: row.values.phone.trim(),
      siteId: new Types.ObjectId(row.resolved.siteId),
      role: row.resolved.role ?? 'delegate',
    };
  });
  const ids = docs.map((doc) => doc._id);
  // Claim the draft before inserting, so a double-clicked commit cannot add everyone twice.
  const claimed = await ImportDraftModel.findOneAndDelete({ _id: draft._id, meetingId }).lean();
  if (!claimed) throw new NotFound('attendees.import.draftNotFound');
  try {
    // The revision is claimed (with the open-meeting check) first; the rows carry it.
    const { revision } = await commitMeetingChange({
      meetingId,
      ...stillOpen,
      audit: { actor, detail: preview.filename },
      write: async (revision, meeting) => {
        try {
          await AttendeeModel.insertMany(
            docs.map((doc) => ({ ...doc, revision })),
            { ordered: true },
          );
        } catch (error) {
          await AttendeeModel.deleteMany({ _id: { $in: ids }, meetingId });
          throw error;
        }
        // The sites the list added people to expect more: screens following the day hear their counts.
        return rosterAfterListChange(meeting);
      },
      events: (roster, revision, meeting) => [
        ...countsEvents(meeting, roster, revision, [...new Set(docs.map((doc) => String(doc.siteId)))]),
        { type: 'attendee.imported', payload: { count: docs.length, filename: preview.filename } },
      ],
    });
    return { inserted: docs.length, revision };
  } catch (error) {
    // Nothing was added: the organizer keeps the draft to fix and try again.
    await ImportDraftModel.collection.insertOne(claimed);
    if (isDuplicateKeyError(error)) throw new ImportNotReady(await previewOf(draft), 'attendees.import.changed');
    throw error;
  }
}
