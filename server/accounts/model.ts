import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const accountRoles = ['admin', 'organizer'] as const;

const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    /** argon2id hash (PHC string). Absent while an invitation is not yet accepted. */
    passwordHash: { type: String },
    role: { type: String, enum: accountRoles, required: true, default: 'organizer' },
    /** The organizing unit whose meetings this organizer sees and changes (administrators see all). */
    unitId: { type: Schema.Types.ObjectId, ref: 'Unit' },
    disabled: { type: Boolean, default: false },
    /** A one-time link to choose a password (new account, or access reset): only its SHA-256 is kept. */
    invitation: {
      type: new Schema({ tokenHash: { type: String, required: true }, expiresAt: { type: Date, required: true } }, { _id: false }),
      default: undefined,
    },
    /** Bumped when access is reset or the account disabled: sessions signed in before end at once. */
    accessVersion: { type: Number, required: true, default: 0 },
    lastLoginAt: { type: Date },
  },
  { timestamps: true },
);

userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ 'invitation.tokenHash': 1 }, { unique: true, sparse: true });

export type User = InferSchemaType<typeof userSchema>;
export type UserDocument = HydratedDocument<User>;
export const UserModel = model('User', userSchema);
