// The mongoose features the app leans on, end to end on the embedded store: populate, cursors
// over several batches, timestamps, optimistic concurrency (__v), bulkWrite, aggregate with
// $lookup, and counting.
import mongoose, { Schema, Types, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let conn: Connection;

beforeAll(async () => {
  store = await startStore();
  conn = await mongoose.createConnection(store.uri, { dbName: 'mongoose_usage', serverSelectionTimeoutMS: 5000 }).asPromise();
});

afterAll(async () => {
  await conn?.close();
  await store?.stop();
});

const siteSchema = new Schema({ name: String, province: String }, { timestamps: true });
const meetingSchema = new Schema(
  { title: String, sites: [{ type: Schema.Types.ObjectId, ref: 'Site' }], host: { type: Schema.Types.ObjectId, ref: 'Site' }, seats: Number },
  { timestamps: true, optimisticConcurrency: true },
);

describe('mongoose on the embedded store', () => {
  it('populate resolves references, single and array', async () => {
    const Site = conn.model('Site', siteSchema);
    const Meeting = conn.model('Meeting', meetingSchema);
    const [a, b] = await Site.create([{ name: 'Hall A', province: 'P1' }, { name: 'Hall B', province: 'P2' }]);
    const m = await Meeting.create({ title: 'Kickoff', sites: [a!._id, b!._id], host: b!._id, seats: 10 });
    const found = await Meeting.findById(m._id).populate('sites').populate('host').lean();
    expect((found!.sites as unknown as Array<{ name: string }>).map((s) => s.name)).toEqual(['Hall A', 'Hall B']);
    expect((found!.host as unknown as { name: string }).name).toBe('Hall B');
  });

  it('timestamps are set on create and moved on update', async () => {
    const Site = conn.model('Site');
    const s = await Site.create({ name: 'Hall C' });
    expect(s.get('createdAt')).toBeInstanceOf(Date);
    await new Promise((r) => setTimeout(r, 5));
    await Site.updateOne({ _id: s._id }, { $set: { province: 'P3' } });
    const back = (await Site.findById(s._id).lean()) as unknown as { createdAt: Date; updatedAt: Date };
    expect(back.updatedAt.getTime()).toBeGreaterThan(back.createdAt.getTime());
  });

  it('optimistic concurrency: the second of two stale saves fails with a VersionError', async () => {
    const Meeting = conn.model('Meeting');
    const created = await Meeting.create({ title: 'Budget', seats: 5 });
    const first = await Meeting.findById(created._id);
    const second = await Meeting.findById(created._id);
    first!.set('seats', 6);
    await first!.save();
    second!.set('seats', 7);
    await expect(second!.save()).rejects.toBeInstanceOf(mongoose.Error.VersionError);
    expect(((await Meeting.findById(created._id).lean()) as unknown as { seats: number }).seats).toBe(6);
  });

  it('a query cursor walks a large result over several batches', async () => {
    const Row = conn.model('Row', new Schema({ i: Number }));
    await Row.insertMany(Array.from({ length: 1234 }, (_, i) => ({ i })));
    const seen: number[] = [];
    await Row.find().sort({ i: 1 }).batchSize(100).cursor().eachAsync((d) => {
      seen.push(d.get('i') as number);
    });
    expect(seen).toEqual(Array.from({ length: 1234 }, (_, i) => i));
    expect(await Row.countDocuments({ i: { $gte: 1000 } })).toBe(234);
    expect(await Row.estimatedDocumentCount()).toBe(1234);
  });

  it('bulkWrite mixes inserts, updates, upserts and deletes and reports each count', async () => {
    const Row = conn.model('Row');
    const r = await Row.bulkWrite([
      { insertOne: { document: { i: -1 } } },
      { updateMany: { filter: { i: { $lt: 10 } }, update: { $inc: { i: 10_000 } } } },
      { updateOne: { filter: { i: -5 }, update: { $set: { i: -5 } }, upsert: true } },
      { deleteOne: { filter: { i: 10_000 } } },
    ]);
    expect(r.insertedCount).toBe(1);
    expect(r.matchedCount).toBe(11);
    expect(r.modifiedCount).toBe(11);
    expect(r.upsertedCount).toBe(1);
    expect(r.deletedCount).toBe(1);
  });

  it('aggregate with $lookup and $group answers a report-style question', async () => {
    const Site = conn.model('Site');
    const Meeting = conn.model('Meeting');
    const rows = await Meeting.aggregate([
      { $match: { host: { $exists: true } } },
      { $lookup: { from: Site.collection.name, localField: 'host', foreignField: '_id', as: 'hostSite' } },
      { $unwind: '$hostSite' },
      { $group: { _id: '$hostSite.province', meetings: { $sum: 1 }, seats: { $sum: '$seats' } } },
    ]);
    expect(rows).toEqual([{ _id: 'P2', meetings: 1, seats: 10 }]);
  });

  it('distinct and $in over ObjectIds', async () => {
    const Site = conn.model('Site');
    const ids = (await Site.find().select('_id').lean()).map((d) => d._id as Types.ObjectId);
    expect(await Site.countDocuments({ _id: { $in: ids.slice(0, 2) } })).toBe(2);
    expect((await Site.distinct('province')).sort()).toEqual(['P1', 'P2', 'P3']);
  });
});
