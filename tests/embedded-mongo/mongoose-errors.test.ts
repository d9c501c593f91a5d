// Error shapes as mongoose consumes them: the duplicate-key error (code, message, keyPattern,
// keyValue) from save/create, insertMany and findOneAndUpdate, and model initialisation that
// meets an existing collection (mongoose ignores NamespaceExists, 48).
import mongoose, { Schema, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let conn: Connection;

beforeAll(async () => {
  store = await startStore();
  conn = await mongoose.createConnection(store.uri, { dbName: 'mongoose_errors', serverSelectionTimeoutMS: 5000 }).asPromise();
});

afterAll(async () => {
  await conn?.close();
  await store?.stop();
});

const userSchema = new Schema({
  email: { type: String, required: true, unique: true },
  org: String,
  handle: String,
});
userSchema.index({ org: 1, handle: 1 }, { unique: true, sparse: true });

describe('a unique index seen through mongoose', () => {
  it('creating a second user with the same email fails with MongoDB\'s E11000 error, keyPattern and keyValue', async () => {
    const User = conn.model('User', userSchema);
    await User.init();
    await User.create({ email: 'ann@example.org' });

    const err = await User.create({ email: 'ann@example.org' }).then(
      () => { throw new Error('the duplicate was accepted'); },
      (e: unknown) => e as mongoose.mongo.MongoServerError,
    );
    expect(err).toBeInstanceOf(mongoose.mongo.MongoServerError);
    expect(err.name).toBe('MongoServerError');
    expect(err.code).toBe(11000);
    expect(err.message).toBe(
      'E11000 duplicate key error collection: mongoose_errors.users index: email_1 dup key: { email: "ann@example.org" }',
    );
    expect(err.keyPattern).toEqual({ email: 1 });
    expect(err.keyValue).toEqual({ email: 'ann@example.org' });
    expect(await User.countDocuments()).toBe(1);
  });

  it('a compound unique index names every field in keyPattern and keyValue', async () => {
    const User = conn.model('User');
    await User.create({ email: 'b@example.org', org: 'acme', handle: 'bee' });
    const err = (await User.create({ email: 'c@example.org', org: 'acme', handle: 'bee' }).catch((e) => e)) as mongoose.mongo.MongoServerError;
    expect(err.code).toBe(11000);
    expect(err.message).toContain('index: org_1_handle_1 dup key: { org: "acme", handle: "bee" }');
    expect(err.keyPattern).toEqual({ org: 1, handle: 1 });
    expect(err.keyValue).toEqual({ org: 'acme', handle: 'bee' });
  });

  it('insertMany reports the duplicate as a write error with its index and keeps the others (unordered)', async () => {
    const User = conn.model('User');
    const err = (await User.insertMany(
      [{ email: 'd@example.org' }, { email: 'ann@example.org' }, { email: 'e@example.org' }],
      { ordered: false },
    ).catch((e) => e)) as mongoose.mongo.MongoBulkWriteError;
    expect(err).toBeInstanceOf(mongoose.mongo.MongoBulkWriteError);
    expect(err.code).toBe(11000);
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    expect(writeErrors).toHaveLength(1);
    expect(writeErrors[0]!.index).toBe(1);
    expect(writeErrors[0]!.code).toBe(11000);
    expect(writeErrors[0]!.errmsg).toMatch(/^E11000 duplicate key error collection: mongoose_errors\.users index: email_1 dup key: \{ email: "ann@example\.org" \}$/);
    expect(await User.countDocuments({ email: { $in: ['d@example.org', 'e@example.org'] } })).toBe(2);
  });

  it('findOneAndUpdate that would duplicate a key fails with a top-level E11000 error', async () => {
    const User = conn.model('User');
    await User.create({ email: 'f@example.org' });
    const err = (await User.findOneAndUpdate({ email: 'f@example.org' }, { $set: { email: 'ann@example.org' } }).catch((e) => e)) as mongoose.mongo.MongoServerError;
    expect(err).toBeInstanceOf(mongoose.mongo.MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.codeName).toBe('DuplicateKey');
    expect(err.keyPattern).toEqual({ email: 1 });
    expect(err.keyValue).toEqual({ email: 'ann@example.org' });
  });

  it('an upsert racing on the unique key fails the same way', async () => {
    const User = conn.model('User');
    const err = (await User.updateOne({ email: 'nobody@example.org', org: 'x' }, { $set: { email: 'ann@example.org' } }, { upsert: true }).catch((e) => e)) as mongoose.mongo.MongoServerError;
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ email: 'ann@example.org' });
  });
});

describe('model initialisation', () => {
  it('init() on a collection that already exists succeeds (NamespaceExists 48 is ignored) and builds the indexes', async () => {
    await conn.db!.createCollection('sessions');
    const err = await conn.db!.createCollection('sessions').catch((e: mongoose.mongo.MongoServerError) => e);
    expect((err as mongoose.mongo.MongoServerError).code).toBe(48);

    // A connection that watches its commands, to see mongoose meet the 48 and carry on.
    const watched = await mongoose.createConnection(store.uri, { dbName: 'mongoose_errors', monitorCommands: true }).asPromise();
    const failed: Array<{ name: string; code: unknown }> = [];
    watched.getClient().on('commandFailed', (e) => failed.push({ name: e.commandName, code: (e.failure as { code?: unknown }).code }));
    const Session = watched.model('Session', new Schema({ sid: { type: String, unique: true }, expires: { type: Date, expires: 60 } }));
    await Session.init();
    await watched.close();
    expect(failed).toEqual([{ name: 'create', code: 48 }]);
    const indexes = await conn.db!.collection('sessions').listIndexes().toArray();
    const byName = Object.fromEntries(indexes.map((i) => [i.name, i]));
    expect(byName.sid_1).toMatchObject({ key: { sid: 1 }, unique: true });
    expect(byName.expires_1).toMatchObject({ key: { expires: 1 }, expireAfterSeconds: 60 });
  });

  it('syncIndexes drops indexes the schema no longer declares', async () => {
    const coll = conn.db!.collection('widgets');
    await coll.createIndex({ stale: 1 });
    const Widget = conn.model('Widget', new Schema({ code: { type: String, index: true } }));
    await Widget.syncIndexes();
    expect((await Widget.listIndexes()).map((i) => i.name).sort()).toEqual(['_id_', 'code_1']);
  });
});

describe('validation and casting round trips through mongoose', () => {
  it('a document saved and read back keeps its types, and lean() returns plain objects', async () => {
    const Thing = conn.model('Thing', new Schema({ n: Number, when: Date, tags: [String], meta: { a: Number } }));
    const saved = await Thing.create({ n: 1.5, when: new Date('2025-06-01T10:00:00Z'), tags: ['x', 'y'], meta: { a: 2 } });
    const found = await Thing.findById(saved._id).lean();
    expect(found).toMatchObject({ n: 1.5, tags: ['x', 'y'], meta: { a: 2 } });
    expect(found!.when).toEqual(new Date('2025-06-01T10:00:00Z'));
    const updated = await Thing.findOneAndUpdate({ _id: saved._id }, { $inc: { n: 1 } }, { returnDocument: 'after' }).lean();
    expect(updated!.n).toBe(2.5);
  });
});

describe("the app's partial unique indexes", () => {
  // The shapes server/sites/model.ts and server/attendees/model.ts declare.
  const siteSchema = new Schema({ meetingId: Schema.Types.ObjectId, name: String, isMain: Boolean });
  siteSchema.index({ meetingId: 1, isMain: 1 }, { unique: true, partialFilterExpression: { isMain: true } });
  const attendeeSchema = new Schema({ meetingId: Schema.Types.ObjectId, fullName: String, email: String });
  attendeeSchema.index({ meetingId: 1, email: 1 }, { unique: true, partialFilterExpression: { email: { $type: 'string' } } });

  it('one main site per meeting: any number of other sites, a second main is E11000, demoting frees the slot', async () => {
    const Site = conn.model('PSite', siteSchema);
    await Site.init();
    const meeting = new mongoose.Types.ObjectId();
    const other = new mongoose.Types.ObjectId();
    await Site.create([{ meetingId: meeting, name: 'A', isMain: true }, { meetingId: meeting, name: 'B', isMain: false }, { meetingId: meeting, name: 'C' }]);
    await Site.create({ meetingId: other, name: 'A2', isMain: true }); // another meeting has its own main

    const err = (await Site.create({ meetingId: meeting, name: 'D', isMain: true }).catch((e) => e)) as mongoose.mongo.MongoServerError;
    expect(err.code).toBe(11000);
    expect(err.keyPattern).toEqual({ meetingId: 1, isMain: 1 });
    expect(err.keyValue).toEqual({ meetingId: meeting, isMain: true });

    // Promoting B while A is main fails the same way, and leaves both as they were.
    const promote = (await Site.updateOne({ meetingId: meeting, name: 'B' }, { $set: { isMain: true } }).catch((e) => e)) as mongoose.mongo.MongoServerError;
    expect(promote.code).toBe(11000);
    expect((await Site.findOne({ name: 'B' }).lean())!.isMain).toBe(false);

    // Demote A, then B may become main.
    await Site.updateOne({ meetingId: meeting, name: 'A' }, { $set: { isMain: false } });
    await Site.updateOne({ meetingId: meeting, name: 'B' }, { $set: { isMain: true } });
    expect((await Site.find({ meetingId: meeting, isMain: true }).lean()).map((s) => s.name)).toEqual(['B']);
  });

  it('attendee emails are unique per meeting only when present', async () => {
    const Attendee = conn.model('PAttendee', attendeeSchema);
    await Attendee.init();
    const meeting = new mongoose.Types.ObjectId();
    const other = new mongoose.Types.ObjectId();
    await Attendee.create([
      { meetingId: meeting, fullName: 'No Email 1' },
      { meetingId: meeting, fullName: 'No Email 2' },
      { meetingId: meeting, fullName: 'Null Email', email: null },
      { meetingId: meeting, fullName: 'Ann', email: 'ann@example.org' },
      { meetingId: other, fullName: 'Ann elsewhere', email: 'ann@example.org' },
    ]);
    const err = (await Attendee.create({ meetingId: meeting, fullName: 'Ann again', email: 'ann@example.org' }).catch((e) => e)) as mongoose.mongo.MongoServerError;
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ meetingId: meeting, email: 'ann@example.org' });
    expect(await Attendee.countDocuments({ meetingId: meeting })).toBe(4);
  });
});

