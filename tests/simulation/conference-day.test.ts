// The conference day, shortened for CI: bench/conference-day.ts --quick plays 4 sites, 160
// attendees and 80 watching phones through a check-in burst with network drops, the app killed
// with SIGKILL and restarted, and the store killed too; once on one instance, once on two over
// Redis. Its verdict is checked here against its own log of what the server acknowledged.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface RunFigures {
  acknowledged: number;
  checkInsScheduled: number;
  lost: number;
  duplicated: number;
  unacknowledged: number;
  countDrift: number;
  refused: number;
  watchersCompared: number;
  watchersDrifted: number;
  watchersNotSettled: number;
  serverErrors: number;
  appKills: number;
  storeKills: number;
  networkDrops: number;
}

function simulate(): Promise<{ code: number | null; output: string; figures: { ok: boolean; runs: Record<string, RunFigures> } }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/conference-day.ts', '--quick', '--mode', 'both'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = output.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ code, output, figures: JSON.parse(last) });
      } catch {
        reject(new Error(`the simulation ended without its JSON line (exit ${code}):\n${output.slice(-4000)}`));
      }
    });
  });
}

describe('a shortened conference day under faults', () => {
  it('loses and duplicates no acknowledged check-in, on one instance and on two over Redis, and every phone ends as the server is', async () => {
    const { code, output, figures } = await simulate();
    const runs = Object.entries(figures.runs);
    // The run's own account of what went wrong (its lines starting with '!'), shown with any failure below.
    const problems = output.split('\n').filter((line) => line.startsWith('!')).join('\n');
    expect(runs.map(([name]) => name)).toEqual(['one instance + faults', 'two instances over Redis + faults']);
    for (const [name, run] of runs) {
      // The faults did happen: otherwise the figures below prove nothing.
      expect({ name, appKills: run.appKills, storeKills: run.storeKills, drops: run.networkDrops > 0 }).toEqual({ name, appKills: 1, storeKills: 1, drops: true });
      expect({ name, acknowledged: run.acknowledged, lost: run.lost, duplicated: run.duplicated, unacknowledged: run.unacknowledged, countDrift: run.countDrift, refused: run.refused }, problems).toEqual({ name, acknowledged: run.checkInsScheduled, lost: 0, duplicated: 0, unacknowledged: 0, countDrift: 0, refused: 0 });
      expect({ name, drifted: run.watchersDrifted, notSettled: run.watchersNotSettled, serverErrors: run.serverErrors }, problems).toEqual({ name, drifted: 0, notSettled: 0, serverErrors: 0 });
      expect(run.watchersCompared).toBeGreaterThan(0);
    }
    expect({ ok: figures.ok, code, problems: figures.ok ? '' : problems }).toEqual({ ok: true, code: 0, problems: '' });
  });
});
