// Read-modify-write of a part of the meeting's live state (agenda control, speaker queue) that
// stays one write: the change is computed from the state read, and committed only if that part's
// version is still the one read (otherwise read again and decide again). Check-ins, which touch
// only counters, never make an agenda or queue change retry.
import type { UpdateQuery } from 'mongoose';
import type { Meeting } from '../meetings/model.js';
import { requireOpenMeeting, type ClosedMessages } from '../meetings/guard.js';
import type { Actor } from '../lib/actor.js';
import { commitMeetingChange, type MeetingChangeEvent, type MeetingRecord } from '../meetings/revision.js';
import { Conflict } from '../lib/errors.js';

class StaleRead extends Error {}

export interface GuardedPlan<T> {
  update: UpdateQuery<Meeting>;
  write?: (revision: number, meeting: MeetingRecord) => Promise<T>;
  events: (result: T, revision: number, meeting: MeetingRecord) => MeetingChangeEvent[];
}

export async function commitGuarded<T>(options: {
  actor: Actor;
  meetingId: string;
  part: 'agenda' | 'speakers';
  /** The statuses that refuse the change, each with its message. */
  closed: ClosedMessages;
  /** The change for the meeting as read; undefined when there is nothing to change. */
  plan: (meeting: MeetingRecord) => Promise<GuardedPlan<T> | undefined> | GuardedPlan<T> | undefined;
}): Promise<{ revision: number; meeting: MeetingRecord; result: T; changed: boolean }> {
  const versionPath = `live.${options.part}.version`;
  for (let attempt = 0; attempt < 8; attempt++) {
    const { meeting, stillOpen } = await requireOpenMeeting(options.actor, options.meetingId, options.closed);
    const plan = await options.plan(meeting);
    if (!plan) return { revision: meeting.revision, meeting, result: undefined as T, changed: false };
    const version = (meeting.live?.[options.part] as { version?: number } | undefined)?.version ?? 0;
    const inc = { ...((plan.update.$inc as Record<string, number> | undefined) ?? {}), [versionPath]: 1 };
    try {
      const committed = await commitMeetingChange<T>({
        meetingId: options.meetingId,
        // A missing version (a meeting from before live state) counts as 0.
        when: { ...stillOpen.when, ...(version === 0 ? { $or: [{ [versionPath]: 0 }, { [versionPath]: { $exists: false } }] } : { [versionPath]: version }) },
        rejected: (current) => (options.closed[current.status as keyof ClosedMessages] ? stillOpen.rejected(current) : new StaleRead()),
        update: { ...plan.update, $inc: inc },
        write: plan.write,
        events: plan.events,
        audit: { actor: options.actor },
      });
      return { ...committed, changed: true };
    } catch (error) {
      if (!(error instanceof StaleRead)) throw error;
    }
  }
  throw new Conflict('live.busy');
}
