// What the audit trail costs a meeting change: a minutes save's commit (note, version) with its
// audit entry against the same commit without it (the baseline), on the embedded store, in
// interleaved rounds of the same run; saveMinute as a whole (with its reads and checks) for context.
// The audit entry is one upsert keyed by (meeting, revision) after the write.
import { randomBytes } from 'node:crypto';

import { connectDatabase } from '../server/database.js';
import { UnitModel } from '../server/units/model.js';
import { createMeeting } from '../server/meetings/actions.js';
import { addAgendaItem } from '../server/agenda/actions.js';
import { saveMinute } from '../server/minutes/actions.js';
import { MinuteNoteModel, MinuteVersionModel } from '../server/minutes/model.js';
import { commitMeetingChange } from '../server/meetings/revision.js';
import { searchKey } from '../server/lib/text.js';
import type { Actor } from '../server/lib/actor.js';

const saves = Number(process.env.SAVES ?? 300);
const rounds = 3;
const unitId = '00000000000000000000a0a1';
const organizer: Actor = { kind: 'organizer', userId: 'bench', name: 'Bench', isAdmin: false, unitId };

const database = await connectDatabase({ embedded: { inMemory: true } }, `bench_${randomBytes(4).toString('hex')}`);
await UnitModel.create({ _id: unitId, name: 'Sở KH&CN', nameKey: searchKey('Sở KH&CN') });
const meeting = await createMeeting(organizer, { title: 'Hội nghị năm 2025', start: '2025-12-20T08:00', end: '2025-12-20T11:00', status: 'scheduled' });
const meetingId = String(meeting._id);

async function item(): Promise<string> {
  const { item: created } = await addAgendaItem(organizer, { meetingId, title: `Nội dung ${randomBytes(3).toString('hex')}`, kind: 'report', plannedMinutes: 10 });
  return created!.id;
}

/** The save as saveMinute writes it, with or without the audit entry. */
async function commitSave(agendaItemId: string, version: number, text: string, audited: boolean): Promise<void> {
  const by = { id: 'bench', name: 'Bench' };
  await commitMeetingChange({
    meetingId,
    ...(audited ? { audit: { actor: organizer, detail: 'Nội dung' } } : {}),
    write: async (revision) => {
      const fields = { text, version: version + 1, updatedAt: new Date(), updatedBy: by, saveId: `b-${version}-xxxxxx`, revision };
      if (version === 0) await MinuteNoteModel.create({ meetingId, agendaItemId, ...fields });
      else await MinuteNoteModel.updateOne({ meetingId, agendaItemId, version }, { $set: fields });
      await MinuteVersionModel.create({ meetingId, agendaItemId, version: version + 1, text, at: new Date(), by, revision });
    },
    events: () => [{ type: 'minutes.changed', audience: 'organizers', payload: null }],
  });
}

async function timed(run: (index: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < saves; index++) {
    const started = performance.now();
    await run(index);
    times.push(performance.now() - started);
  }
  return times;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
const best = { audited: Infinity, baseline: Infinity, auditedP99: Infinity, baselineP99: Infinity, action: Infinity, actionP99: Infinity };
for (let round = 0; round < rounds; round++) {
  const [a, b, c] = [await item(), await item(), await item()];
  const baseline = await timed((index) => commitSave(b, index, `Ghi chép ${index}`, false));
  const audited = await timed((index) => commitSave(a, index, `Ghi chép ${index}`, true));
  const action = await timed((index) => saveMinute(organizer, { meetingId, agendaItemId: c, text: `Ghi chép ${index}`, baseVersion: index, saveId: `bench-editor:${index}` }));
  best.audited = Math.min(best.audited, percentile(audited, 50));
  best.baseline = Math.min(best.baseline, percentile(baseline, 50));
  best.action = Math.min(best.action, percentile(action, 50));
  best.auditedP99 = Math.min(best.auditedP99, percentile(audited, 99));
  best.baselineP99 = Math.min(best.baselineP99, percentile(baseline, 99));
  best.actionP99 = Math.min(best.actionP99, percentile(action, 99));
}
await database.close();

const ratio = best.audited / best.baseline;
console.log(`minutes saves per round: ${saves}, rounds: ${rounds} (best round shown)`);
console.log('| write                               | p50 ms | p99 ms |');
console.log('|-------------------------------------|--------|--------|');
console.log(`| commit with audit entry             | ${best.audited.toFixed(2).padStart(6)} | ${best.auditedP99.toFixed(2).padStart(6)} |`);
console.log(`| same commit without audit (baseline)| ${best.baseline.toFixed(2).padStart(6)} | ${best.baselineP99.toFixed(2).padStart(6)} |`);
console.log(`| saveMinute (reads, checks, audited) | ${best.action.toFixed(2).padStart(6)} | ${best.actionP99.toFixed(2).padStart(6)} |`);
console.log(`ratio p50: ${ratio.toFixed(2)}`);
console.log(JSON.stringify({ bench: 'audit', saves, auditedP50Ms: best.audited, auditedP99Ms: best.auditedP99, saveMinuteP50Ms: best.action, saveMinuteP99Ms: best.actionP99, baselineP50Ms: best.baseline, baselineP99Ms: best.baselineP99, ratio, baseline: { p50Ms: best.baseline, p99Ms: best.baselineP99 } }));
