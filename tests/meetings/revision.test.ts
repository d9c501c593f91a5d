// The revision helper every action commits through: the meeting-document change and its revision
// are one store write, and events carry the revision that was stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { connectTestDatabase } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import { commitMeetingChange } from '../../server/meetings/revision.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { Conflict, NotFound } from '../../server/lib/errors.js';
import { subscribe, type DomainEvent } from '../../server/lib/events.js';
import { setFailPoint } from '../helpers/fail-point.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

async function newMeeting(status: 'draft' | 'scheduled' | 'cancelled' = 'draft') {
  const meeting = await MeetingModel.create({ title: 'Hội nghị giao ban', startsAt: new Date('2026-03-02T02:00:00Z'), endsAt: new Date('2026-03-02T04:00:00Z'), status });
  return String(meeting._id);
}

async function stored(meetingId: string) {
  return MeetingModel.findById(meetingId).lean().orFail();
}

/** Collects the events published while `run` runs. */
async function eventsDuring(run: () => Promise<unknown>): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  const stop = subscribe((event) => events.push(event));
  try {
    await run();
  } finally {
    stop();
  }
  return events;
}

describe('committing a meeting change', () => {
  it('writes the meeting change and the next revision together, and announces that revision', async () => {
    const meetingId = await newMeeting();
    let committed: Awaited<ReturnType<typeof commitMeetingChange>> | undefined;
    const events = await eventsDuring(async () => {
      committed = await commitMeetingChange({
        meetingId,
        update: { $set: { title: 'Hội nghị giao ban quý I' } },
        events: (_result, revision, meeting) => [{ type: 'meeting.updated', payload: { title: meeting.title, revision } }],
      });
    });
    expect(committed!.revision).toBe(1);
    expect(committed!.meeting.title).toBe('Hội nghị giao ban quý I');
    const after = await stored(meetingId);
    expect(after.revision).toBe(1);
    expect(after.title).toBe('Hội nghị giao ban quý I');
    expect(after.calendarSequence).toBe(0);
    expect(events).toEqual([{ type: 'meeting.updated', meetingId, revision: 1, payload: { title: 'Hội nghị giao ban quý I', revision: 1 } }]);
  });

  it('moves the calendar SEQUENCE too when the change shows in invites', async () => {
    const meetingId = await newMeeting();
    await commitMeetingChange({ meetingId, calendar: true, events: () => [] });
    await commitMeetingChange({ meetingId, events: () => [] });
    const after = await stored(meetingId);
    expect(after.revision).toBe(2);
    expect(after.calendarSequence).toBe(1);
  });

  it('changes nothing when the meeting no longer matches `when`: no revision, no update, no write, no event', async () => {
    const meetingId = await newMeeting('cancelled');
    let wrote = false;
    const events = await eventsDuring(async () => {
      const error = await commitMeetingChange({
        meetingId,
        when: { status: { $ne: 'cancelled' } },
        rejected: () => new Conflict('site.meeting.closed'),
        update: { $set: { title: 'Không được đổi' } },
        write: async () => {
          wrote = true;
        },
        events: () => [{ type: 'site.created', payload: {} }],
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Conflict);
      expect((error as Conflict).messageKey).toBe('site.meeting.closed');
    });
    expect(wrote).toBe(false);
    expect(events).toEqual([]);
    const after = await stored(meetingId);
    expect(after.revision).toBe(0);
    expect(after.title).toBe('Hội nghị giao ban');
  });

  it('answers NotFound for a meeting that does not exist, even with a `when`', async () => {
    const missing = String(new mongoose.Types.ObjectId());
    await expect(commitMeetingChange({ meetingId: missing, events: () => [] })).rejects.toBeInstanceOf(NotFound);
    await expect(commitMeetingChange({ meetingId: missing, when: { status: 'draft' }, rejected: () => new Conflict('x'), events: () => [] })).rejects.toBeInstanceOf(NotFound);
  });

  it('is one write: a meeting change the store refuses leaves the revision where it was', async () => {
    const meetingId = await newMeeting();
    // The validator refuses the status, so the single findOneAndUpdate (change + $inc) never runs.
    await expect(commitMeetingChange({ meetingId, update: { $set: { status: 'postponed' } }, events: () => [] })).rejects.toThrow();
    let after = await stored(meetingId);
    expect(after.revision).toBe(0);
    expect(after.status).toBe('draft');

    // The store itself fails the write: neither the title nor the revision moved.
    await setFailPoint({ times: 1 }, { failCommands: ['findAndModify'], errorCode: 91 });
    await expect(commitMeetingChange({ meetingId, update: { $set: { title: 'Mất điện giữa chừng' } }, events: () => [] })).rejects.toThrow();
    after = await stored(meetingId);
    expect(after.revision).toBe(0);
    expect(after.title).toBe('Hội nghị giao ban');
  });

  it('hands the claimed revision to the rest of the change, which is stamped with it', async () => {
    const meetingId = await newMeeting();
    await commitMeetingChange({ meetingId, events: () => [] });
    const { revision, result } = await commitMeetingChange({
      meetingId,
      write: async (claimed) => (await SiteModel.create({ meetingId, name: 'Huyện Lấp Vò', order: 0, revision: claimed })).toObject(),
      events: (site, claimed) => [{ type: 'site.created', siteId: String(site._id), payload: { id: String(site._id), revision: claimed } }],
    });
    expect(revision).toBe(2);
    expect(result.revision).toBe(2);
  });

  it('publishes nothing when the rest of the change fails (the revision stays claimed: a gap, filled by a snapshot)', async () => {
    const meetingId = await newMeeting();
    const events = await eventsDuring(async () => {
      await expect(
        commitMeetingChange({
          meetingId,
          write: async () => {
            throw new Error('disk full');
          },
          events: () => [{ type: 'site.created', payload: {} }],
        }),
      ).rejects.toThrow('disk full');
    });
    expect(events).toEqual([]);
    expect((await stored(meetingId)).revision).toBe(1);
  });

  it('gives concurrent changes distinct consecutive revisions, each announced with its own', async () => {
    const meetingId = await newMeeting();
    const events = await eventsDuring(async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => commitMeetingChange({ meetingId, write: async (revision) => revision, events: (revision) => [{ type: 'agenda.updated', payload: { index, revision } }] })),
      );
      expect(results.map((change) => change.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
      for (const change of results) expect(change.result).toBe(change.revision);
    });
    expect(events.map((event) => event.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    for (const event of events) expect((event.payload as { revision: number }).revision).toBe(event.revision);
    expect((await stored(meetingId)).revision).toBe(20);
  });
  it('announces a meeting\'s concurrent changes in revision order, even when a later revision finishes its write first', async () => {
    const meetingId = await newMeeting();
    const events = await eventsDuring(async () => {
      // Each change's write waits for the one claimed after it to finish: the later revision is
      // always written first, the order that sent events out of order before.
      const written = new Map<number, () => void>();
      const finished = new Map<number, Promise<void>>();
      const count = 12;
      for (let revision = 1; revision <= count; revision++) finished.set(revision, new Promise<void>((done) => written.set(revision, done)));
      const results = await Promise.all(
        Array.from({ length: count }, () =>
          commitMeetingChange({
            meetingId,
            write: async (revision) => {
              if (revision < count) await finished.get(revision + 1);
              written.get(revision)!();
              return revision;
            },
            events: (revision) => [{ type: 'attendance.counts', payload: { revision } }],
          }),
        ),
      );
      expect(results.map((change) => change.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
    });
    expect(events.map((event) => event.revision)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
  });

  it('does not hold later events back for a change that failed after its claim', async () => {
    const meetingId = await newMeeting();
    let failFirst: () => void = () => undefined;
    const events = await eventsDuring(async () => {
      const first = commitMeetingChange({
        meetingId,
        write: () => new Promise((_resolve, reject) => (failFirst = () => reject(new Error('disk full')))),
        events: () => [{ type: 'agenda.updated', payload: { first: true } }],
      });
      const second = await commitMeetingChange({ meetingId, events: () => [{ type: 'agenda.updated', payload: { first: false } }] });
      expect(second.revision).toBe(2);
      failFirst();
      await expect(first).rejects.toThrow('disk full');
    });
    expect(events.map((event) => [event.revision, event.payload])).toEqual([[2, { first: false }]]);
  });
});
