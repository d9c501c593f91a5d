// The quorum line from a meeting's totals and its share: one rule for the server (live/counts.ts)
// and the screens (client/_live.ts recounts it when a snapshot is merged into newer totals).
import type { AttendanceCounts, QuorumView } from './contract.js';

export function quorumOf(totals: Pick<AttendanceCounts, 'expected' | 'present'>, percent: number): QuorumView {
  const needed = Math.ceil((totals.expected * percent) / 100);
  return { percent, needed, present: totals.present, reached: totals.expected > 0 && totals.present >= needed };
}
