// bench/report.ts: the attendance report (getAttendanceReport: the meeting, its sites and agenda,
// two aggregation pipelines) for an ended meeting with 13 sites and 5,000 attendees against the
// same report for 50 attendees, in the same run, on the embedded store over TCP. Measured twice:
// "computed" bypasses the revision-keyed cache (the aggregation every time: the figure the target
// is about), "served" is what a second viewer at the same revision gets. Rounds are interleaved
// (small, large, small, large...) so load on the machine hits both alike; the table gives median
// and best per size, the last line is JSON with the ratios large/small (target <= 2).
// Usage: npx tsx bench/report.ts [--large 5000] [--small 50] [--rounds 15]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../server/database.js';
import { UnitModel } from '../server/units/model.js';
import { searchKey } from '../server/lib/text.js';
import type { Actor } from '../server/lib/actor.js';
import { getAttendanceReport } from '../server/reports/queries.js';
import { endedMeetingWith } from '../tests/reports/fixtures.js';

const { values } = parseArgs({ options: { large: { type: 'string', default: '5000' }, small: { type: 'string', default: '50' }, rounds: { type: 'string', default: '15' } } });
const largeCount = Number(values.large);
const smallCount = Number(values.small);
const rounds = Number(values.rounds);

const unitId = '00000000000000000000a0a1';
const organizer: Actor = { kind: 'organizer', userId: 'bench', name: 'Bench', isAdmin: false, unitId };
const database = await connectDatabase({ embedded: { inMemory: true } }, `bench_${randomBytes(4).toString('hex')}`);
await UnitModel.create({ _id: unitId, name: 'Sở KH&CN', nameKey: searchKey('Sở KH&CN') });

const large = await endedMeetingWith(organizer, largeCount, { unitId, title: `Hội nghị ${largeCount} đại biểu` });
const small = await endedMeetingWith(organizer, smallCount, { unitId, title: `Hội nghị ${smallCount} đại biểu` });

async function timeReport(meetingId: string, fresh: boolean): Promise<{ ms: number; counted: number }> {
  const started = performance.now();
  const report = await getAttendanceReport(organizer, meetingId, { fresh });
  return { ms: performance.now() - started, counted: report.totals.attended + report.totals.absent + report.totals.pending };
}

type Series = { small: number[]; large: number[] };
const times: Record<'computed' | 'served', Series> = { computed: { small: [], large: [] }, served: { small: [], large: [] } };
// Warm-up: connections, JIT, the store's first reads of each collection.
for (let i = 0; i < 2; i += 1) {
  await timeReport(small.meetingId, true);
  await timeReport(large.meetingId, true);
}
for (let round = 0; round < rounds; round += 1) {
  times.computed.small.push((await timeReport(small.meetingId, true)).ms);
  times.computed.large.push((await timeReport(large.meetingId, true)).ms);
  times.served.small.push((await timeReport(small.meetingId, false)).ms);
  times.served.large.push((await timeReport(large.meetingId, false)).ms);
}
const check = { small: await timeReport(small.meetingId, false), large: await timeReport(large.meetingId, false) };
const load = loadavg().map((value) => Math.round(value * 100) / 100);
await database.close();

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;
const summary = (series: Series) => ({
  figures: { medianMs: round1(median(series.large)), bestMs: round1(Math.min(...series.large)) },
  baseline: { medianMs: round1(median(series.small)), bestMs: round1(Math.min(...series.small)) },
  ratio: { median: round2(median(series.large) / median(series.small)), best: round2(Math.min(...series.large) / Math.min(...series.small)) },
});
const computed = summary(times.computed);
const served = summary(times.served);

console.log(`attendance report, 13 sites, ${rounds} interleaved rounds; load average ${load.join(' ')}`);
console.log('                      attendees   counted   median (ms)   best (ms)   ratio (median / best)');
for (const [name, result] of [['computed', computed], ['served (cache)', served]] as const) {
  console.log(`${name.padEnd(22)}${String(smallCount).padStart(9)}${String(check.small.counted).padStart(10)}${String(result.baseline.medianMs).padStart(14)}${String(result.baseline.bestMs).padStart(12)}`);
  console.log(`${''.padEnd(22)}${String(largeCount).padStart(9)}${String(check.large.counted).padStart(10)}${String(result.figures.medianMs).padStart(14)}${String(result.figures.bestMs).padStart(12)}   ${result.ratio.median} / ${result.ratio.best}`);
}
console.log(`target: computed ratio <= 2 -> ${computed.ratio.median <= 2 ? 'met' : 'NOT met'}`);
console.log(JSON.stringify({ bench: 'report', sites: 13, attendees: largeCount, baselineAttendees: smallCount, rounds, loadAverage: load, figures: computed.figures, baseline: computed.baseline, ratio: computed.ratio.median, computed, served, target: 2 }));
process.exit(0);
