import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const agendaKinds = ['opening', 'report', 'discussion', 'directives', 'break', 'closing'] as const;
export type AgendaKind = (typeof agendaKinds)[number];

/** A speaker is either an attendee of the meeting or a free-text name with position. */
const speakerSchema = new Schema(
  {
    attendeeId: { type: Schema.Types.ObjectId, ref: 'Attendee' },
    name: { type: String, required: true, trim: true },
    position: { type: String, default: '' },
  },
  { _id: false },
);

const agendaItemSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    /** 0-based position; start times are computed from the meeting start and the durations before. */
    order: { type: Number, required: true },
    title: { type: String, required: true, trim: true },
    kind: { type: String, enum: agendaKinds, required: true, default: 'report' },
    plannedMinutes: { type: Number, required: true, min: 0, max: 24 * 60, default: 15 },
    speakers: { type: [speakerSchema], default: [] },
    notes: { type: String, default: '' },
    /** The meeting revision of this document's last change (stale writes check `revision: { $lt: R }`). */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);

agendaItemSchema.index({ meetingId: 1, order: 1 });

export type AgendaItem = InferSchemaType<typeof agendaItemSchema>;
export type AgendaItemDocument = HydratedDocument<AgendaItem>;
export const AgendaItemModel = model('AgendaItem', agendaItemSchema);

/** Start time of each item: the meeting start plus the planned durations of the items before it. */
export function scheduleTimes<T extends { plannedMinutes: number }>(items: T[], meetingStartsAt: Date): Array<T & { startsAt: Date; endsAt: Date }> {
  let cursor = meetingStartsAt.getTime();
  return items.map((item) => {
    const startsAt = new Date(cursor);
    cursor += item.plannedMinutes * 60_000;
    return { ...item, startsAt, endsAt: new Date(cursor) };
  });
}
