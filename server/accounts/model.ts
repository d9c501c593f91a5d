import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const accountRoles = ['admin', 'organizer'] as const;

const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    /** argon2id hash (PHC string). */
    passwordHash: { type: String, required: true },
    role: { type: String, enum: accountRoles, required: true, default: 'organizer' },
    disabled: { type: Boolean, default: false },
    lastLoginAt: { type: Date },
  },
  { timestamps: true },
);

userSchema.index({ email: 1 }, { unique: true });

export type User = InferSchemaType<typeof userSchema>;
export type UserDocument = HydratedDocument<User>;
export const UserModel = model('User', userSchema);
