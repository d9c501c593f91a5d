// Organizing units (đơn vị tổ chức): the department a meeting and an organizer belong to. An
// installation serves a whole province, so each department sees and changes only its meetings.
import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

const unitSchema = new Schema(
  {
    name: { type: String, required: true, trim: true },
    /** `searchKey(name)`: "sở khcn" and "Sở KHCN" are one unit. */
    nameKey: { type: String, required: true },
  },
  { timestamps: true },
);

unitSchema.index({ nameKey: 1 }, { unique: true });

export type Unit = InferSchemaType<typeof unitSchema>;
export type UnitRecord = Unit & { _id: Types.ObjectId };
export const UnitModel = model('Unit', unitSchema);
