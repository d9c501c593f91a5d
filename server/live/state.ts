// The meeting document's `live` part: everything a screen follows on the day that must move with
// the meeting's revision in ONE store write (ARCHITECTURE rule 4). It lives on the meeting
// document rather than in a separate one-per-meeting document because commitMeetingChange's
// `update` is applied in the same findOneAndUpdate as `$inc: { revision: 1 }`: counts, agenda
// position, timer and speaker queue can never disagree with the revision they are announced with.
// Per-attendee records and speaker requests are separate collections (they grow with the meeting).
// The entities kept here carry no revision of their own: read with the meeting, they are exactly
// the state of the meeting's revision (that is the `revision` a snapshot gives them).
import { Schema } from 'mongoose';

/** One bridge point's counters, link status and presence; keyed by site id in `live.sites`. */
const siteLiveSchema = new Schema(
  {
    present: { type: Number, default: 0 },
    absent: { type: Number, default: 0 },
    leftEarly: { type: Number, default: 0 },
    late: { type: Number, default: 0 },
    walkIns: { type: Number, default: 0 },
    /** Invited people (walk-ins aside) no longer "expected": pending = invited - resolved. */
    resolved: { type: Number, default: 0 },
    linkStatus: { type: String, default: null },
    linkNote: { type: String, default: '' },
    linkAt: { type: Date, default: null },
    connected: { type: Boolean, default: false },
    lastSeenAt: { type: Date, default: null },
  },
  { _id: false },
);

/** What happened to one agenda item on the day. */
const agendaRunSchema = new Schema(
  {
    itemId: { type: Schema.Types.ObjectId, required: true },
    startedAt: { type: Date, required: true },
    endedAt: { type: Date, default: null },
    /** Time spent on the item in finished runs (a re-opened item continues from here). */
    spentMs: { type: Number, default: 0 },
    extendedMinutes: { type: Number, default: 0 },
  },
  { _id: false },
);

const timerSchema = new Schema(
  {
    itemId: { type: Schema.Types.ObjectId, required: true },
    plannedMs: { type: Number, required: true },
    elapsedMs: { type: Number, default: 0 },
    runningSince: { type: Date, default: null },
    paused: { type: Boolean, default: false },
  },
  { _id: false },
);

export const liveStateSchema = new Schema(
  {
    startedAt: { type: Date, default: null },
    endedAt: { type: Date, default: null },
    /** Share of the expected people that must be present, percent. */
    quorumPercent: { type: Number, default: 50, min: 1, max: 100 },
    sites: { type: Map, of: siteLiveSchema, default: () => new Map() },
    agenda: {
      currentItemId: { type: Schema.Types.ObjectId, default: null },
      runs: { type: [agendaRunSchema], default: [] },
      timer: { type: timerSchema, default: null },
      /** Bumped by every agenda control change: the optimistic-concurrency guard of read-modify-write. */
      version: { type: Number, default: 0 },
    },
    speakers: {
      /** Waiting requests, in the order the floor will be given. */
      queue: { type: [Schema.Types.ObjectId], default: [] },
      floorId: { type: Schema.Types.ObjectId, default: null },
      version: { type: Number, default: 0 },
    },
  },
  { _id: false },
);
