// Summarizes a V8 CPU profile (node --cpu-prof): the functions with the most self time, and the
// same grouped by file, so "where do a request's milliseconds go" reads without a profiler UI.
//
//   npx tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: ProfileLine[];
  files: ProfileLine[];
}

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** node_modules/<package> or a path inside the project, so a line says whose code it is. */
function shortUrl(url: string): string {
  if (!url) return '(native)';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) return file.slice(modules + 1);
  return file.startsWith(rootDir) ? path.relative(rootDir, file) : file;
}

export function summarizeProfile(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  // Each sample is charged the time until the next one (timeDeltas[i + 1]).
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index + 1] ?? 0;
    selfMicros.set(profile.samples[index], (selfMicros.get(profile.samples[index]) ?? 0) + delta);
  }
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalMicros = 0;
  let idleMicros = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (!node) continue;
    totalMicros += micros;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idleMicros += micros;
    const file = shortUrl(url);
    const name = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    files.set(file === '(native)' ? functionName : file, (files.get(file === '(native)' ? functionName : file) ?? 0) + micros);
  }
  const busyMicros = Math.max(totalMicros - idleMicros, 1);
  const lines = (map: Map<string, number>) =>
    [...map]
      .filter(([name]) => !name.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, selfMs: micros / 1000, percent: (100 * micros) / busyMicros }));
  return { totalMs: totalMicros / 1000, idleMs: idleMicros / 1000, functions: lines(functions), files: lines(files) };
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const out = [`\n${title}: ${(summary.totalMs - summary.idleMs).toFixed(0)} ms busy of ${summary.totalMs.toFixed(0)} ms`, '  self ms     %  function'];
  for (const line of summary.functions) out.push(`${line.selfMs.toFixed(0).padStart(8)} ${line.percent.toFixed(1).padStart(5)}  ${line.name}`);
  out.push('  self ms     %  file');
  for (const line of summary.files) out.push(`${line.selfMs.toFixed(0).padStart(8)} ${line.percent.toFixed(1).padStart(5)}  ${line.name}`);
  return out.join('\n');
}

export async function readProfile(file: string): Promise<Profile> {
  return JSON.parse(await readFile(file, 'utf8')) as Profile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  for (const file of positionals) console.log(formatSummary(path.basename(file), summarizeProfile(await readProfile(file), Number(values.top))));
}
