// Exactly-once operations: a client-made operation id is recorded under a unique index before the
// change runs, so a resend (lost ack, offline queue drained twice, two instances at once) is
// answered with the first answer and changes nothing. The database decides, not memory.
import { createHash } from 'node:crypto';
import { Schema, model, type Types } from 'mongoose';
import { Conflict, isDuplicateKeyError, TooManyRequests } from '../lib/errors.js';

const liveOperationSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, required: true },
    opId: { type: String, required: true },
    command: { type: String, required: true },
    /** What the operation is about (attendee, site, ...): the same id for something else is refused. */
    target: { type: String, default: '' },
    /** A digest of the input the id came with: the same id with another input is refused. */
    fingerprint: { type: String, default: '' },
    state: { type: String, enum: ['pending', 'done'], required: true, default: 'pending' },
    /** The acknowledgement the first run gave, replayed to resends. */
    ack: { type: Schema.Types.Mixed },
    claimedAt: { type: Date, required: true },
  },
  { timestamps: true },
);
liveOperationSchema.index({ meetingId: 1, opId: 1 }, { unique: true });

export const LiveOperationModel = model('LiveOperation', liveOperationSchema);

/** A run that claimed an operation but neither finished nor failed this long ago is taken over. */
const abandonedAfterMs = 15_000;
/** How long a resend waits for the first run of the same id to finish. */
const waitForFirstMs = 5_000;
const journaled = { writeConcern: { j: true } };

export type OperationAck = { revision: number } & Record<string, unknown>;

/**
 * Runs `run` once per (meeting, opId). A concurrent or later resend gets the stored answer with
 * `replayed: true`; a failed run leaves no trace (a resend runs again: e.g. the meeting had not
 * started yet). The same id reused for another command or target is a `conflict`.
 */
export async function onceOnly<T extends OperationAck>(key: OperationKey, run: () => Promise<T>): Promise<T & { replayed?: true }> {
  const deadline = Date.now() + waitForFirstMs;
  for (;;) {
    const claimed = await claim(key);
    if (claimed) {
      try {
        const ack = await run();
        await LiveOperationModel.updateOne({ _id: claimed }, { $set: { state: 'done', ack } }, journaled);
        return ack;
      } catch (error) {
        await LiveOperationModel.deleteOne({ _id: claimed, state: 'pending' });
        throw error;
      }
    }
    const existing = await LiveOperationModel.findOne({ meetingId: key.meetingId, opId: key.opId }).lean();
    // Gone: the first run failed and left no trace, so this resend runs as the first.
    if (!existing) continue;
    if (existing.command !== key.command || existing.target !== key.target || (existing.fingerprint ?? '') !== fingerprintOf(key.input)) throw new Conflict('live.opId.reused');
    if (existing.state === 'done') return { ...(existing.ack as T), replayed: true };
    if (Date.now() - existing.claimedAt.getTime() > abandonedAfterMs) {
      // Its process died mid-run: free the id; the next pass claims it.
      await LiveOperationModel.deleteOne({ _id: existing._id, state: 'pending', claimedAt: existing.claimedAt });
      continue;
    }
    if (Date.now() > deadline) {
      // Not a refusal: the first send may yet fail and leave the id free, so the sender keeps it
      // queued and sends it again (an offline queue drops what is refused).
      const busy = new TooManyRequests('live.opId.pending');
      busy.retryAfterMs = 1000;
      throw busy;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface OperationKey {
  meetingId: string | Types.ObjectId;
  opId: string;
  command: string;
  target: string;
  /** What decides the change (the parsed input, without opId): a resend must carry the same. */
  input?: Record<string, unknown>;
}

/** The same digest for the same input, whatever the order of its keys. */
export function fingerprintOf(input: Record<string, unknown> | undefined): string {
  if (!input) return '';
  const canonical = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).filter((key) => key !== 'opId' && (value as Record<string, unknown>)[key] !== undefined).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
      : Array.isArray(value)
        ? value.map(canonical)
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('base64url');
}

async function claim(key: OperationKey): Promise<Types.ObjectId | undefined> {
  try {
    const { input, ...rest } = key;
    const created = await new LiveOperationModel({ ...rest, fingerprint: fingerprintOf(input), state: 'pending', claimedAt: new Date() }).save({ j: true });
    return created._id;
  } catch (error) {
    if (isDuplicateKeyError(error)) return undefined;
    throw error;
  }
}
