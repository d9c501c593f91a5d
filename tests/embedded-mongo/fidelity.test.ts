// MongoDB behaviour mongoose users rely on, checked through mongoose and the bare driver against
// the replies mongod 7.0 gives: nested projections and their path collisions, pipeline-style
// updates, $elemMatch over scalars, collation in $sort/$group, explain for aggregate, the 16 MiB
// document limit, $where refused as with scripting disabled, get/setParameter.
import { ObjectId, Timestamp, type Db, type MongoClient } from 'mongodb';
import mongoose, { Schema, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, failure, startStore, type RunningStore } from './helpers.js';
import { kind0, kind1, opMsg, opMsgReplyBody, roundTrip } from './wire-frames.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let client: MongoClient;
let db: Db;
let conn: Connection;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  db = client.db('fidelity');
  conn = await mongoose.createConnection(store.uri, { dbName: 'fidelity', serverSelectionTimeoutMS: 5000 }).asPromise();
});

afterAll(async () => {
  await conn?.close();
  await client?.close();
  await store?.stop();
});


/** One OP_MSG with a body and a document sequence, sent byte by byte; the reply's body. */
async function sendOpMsg(body: AnyDoc, [identifier, docs]: [string, AnyDoc[]]): Promise<AnyDoc> {
  const reply = await roundTrip(store.port, opMsg([kind0(body), kind1(identifier, docs)]), 20_000);
  if (!reply) throw new Error('no reply');
  return opMsgReplyBody(reply);
}

const attendeeSchema = new Schema({
  name: String,
  tags: [String],
  scores: [Number],
  contact: { email: String, phone: String, city: String },
  seat: Number,
});

describe('nested projections', () => {
  beforeAll(async () => {
    await db.collection<AnyDoc>('people').insertMany([
      { _id: 1, name: 'An', contact: { email: 'an@x.vn', phone: '090', city: 'Huế' }, seat: 4 },
      { _id: 2, name: 'Bình', contact: { email: 'binh@x.vn', phone: '091' } },
    ]);
  });

  it('{ contact: { email: 1 } } is the same projection as { "contact.email": 1 }', async () => {
    const people = db.collection<AnyDoc>('people');
    const nested = await people.find({}, { projection: { contact: { email: 1 } } }).toArray();
    const dotted = await people.find({}, { projection: { 'contact.email': 1 } }).toArray();
    expect(nested).toEqual([
      { _id: 1, contact: { email: 'an@x.vn' } },
      { _id: 2, contact: { email: 'binh@x.vn' } },
    ]);
    expect(nested).toEqual(dotted);
  });

  it('mixes nested and dotted forms, inclusion and exclusion, and computed fields', async () => {
    const people = db.collection<AnyDoc>('people');
    expect(await people.findOne({ _id: 1 }, { projection: { _id: 0, name: 1, contact: { email: 1 }, 'contact.city': 1 } })).toEqual({
      name: 'An',
      contact: { email: 'an@x.vn', city: 'Huế' },
    });
    expect(await people.findOne({ _id: 1 }, { projection: { contact: { phone: 0, city: 0 }, seat: 0 } })).toEqual({
      _id: 1,
      name: 'An',
      contact: { email: 'an@x.vn' },
    });
    expect(await people.findOne({ _id: 1 }, { projection: { contact: { email: 1, label: { $concat: ['$name', ' <', '$contact.email', '>'] } } } })).toEqual({
      _id: 1,
      contact: { email: 'an@x.vn', label: 'An <an@x.vn>' },
    });
  });

  it('path collisions fail as in mongod (31250 same path, 31249 a path below a leaf)', async () => {
    const people = db.collection<AnyDoc>('people');
    const same = await failure(people.find({}, { projection: { contact: { email: 1 }, 'contact.email': 1 } }).toArray());
    expect(same).toMatchObject({ code: 31250, codeName: 'Location31250', message: 'Path collision at contact.email' });
    const below = await failure(people.find({}, { projection: { contact: 1, 'contact.email': 1 } }).toArray());
    expect(below).toMatchObject({ code: 31249, message: 'Path collision at contact.email remaining portion email' });
    const empty = await failure(people.find({}, { projection: { contact: {} } }).toArray());
    expect(empty.code).toBe(51270);
    const mixed = await failure(people.find({}, { projection: { contact: { email: 1, phone: 0 } } }).toArray());
    expect(mixed).toMatchObject({ code: 31254, message: 'Cannot do exclusion on field contact.phone in inclusion projection' });
  });

  it("projected paths follow mongod's FieldPath rules: empty names, empty parts, trailing dots and '$' names are refused", async () => {
    const people = db.collection<AnyDoc>('people');
    const refused: Array<[AnyDoc, number]> = [
      [{ '': 0 }, 40352],
      [{ contact: 0, $x: 0 }, 16410],
      [{ $x: 1 }, 16410],
      [{ contact: { $x: 1, email: 1 } }, 16410],
      [{ 'contact.': 1 }, 40353],
      [{ '.contact': 1 }, 15998],
      [{ 'contact..email': 1 }, 15998],
    ];
    for (const [projection, code] of refused) {
      expect({ projection, code: (await failure(people.find({}, { projection }).toArray())).code }).toEqual({ projection, code });
    }
    // The positional '$' is a path's last part, not a field name.
    expect(await people.findOne({ 'contact.email': 'an@x.vn' }, { projection: { 'contact.$': 1, _id: 0 } })).toEqual({ contact: expect.any(Object) });
  });

  it('an exclusion of top-level fields sends every other field as stored, in its order, whatever its type', async () => {
    const { Binary, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey } = await import('mongodb');
    const kinds = db.collection<AnyDoc>('kinds');
    const full = {
      _id: new ObjectId(),
      searchText: 'an nguyen',
      double: new Double(1.5),
      int: new Int32(7),
      long: Long.fromString('9007199254740993'),
      decimal: Decimal128.fromString('1.10'),
      text: 'Huỳnh Minh Tuấn',
      searchTokens: ['an', 'nguyen'],
      nested: { a: [new Int32(1), { b: null }], searchText: 'kept: not top-level' },
      binary: new Binary(Buffer.from([1, 2, 3]), 4),
      regex: /^a/i,
      code: new Code('x'),
      stamp: new Timestamp({ t: 5, i: 1 }),
      when: new Date('2021-12-29T07:00:00Z'),
      none: null,
      min: new MinKey(),
      max: new MaxKey(),
      __v: new Int32(0),
    };
    await kinds.insertOne(full);
    const { searchText: _text, searchTokens: _tokens, __v: _version, ...rest } = full;
    const options = { promoteValues: false, promoteLongs: false };
    const excluded = await kinds.findOne({ _id: full._id }, { projection: { searchText: 0, searchTokens: false, __v: new Double(0) }, ...options });
    expect(excluded).toEqual(rest);
    expect(Object.keys(excluded!)).toEqual(Object.keys(rest));
    // _id too, the first and the last field, and a name no document has.
    const { _id: _omitted, ...withoutId } = rest;
    const { max: _last, ...withoutIdAndLast } = withoutId;
    expect(await kinds.find({ _id: full._id }, { projection: { _id: 0, searchText: 0, searchTokens: 0, __v: 0, max: 0, absent: 0 }, ...options }).toArray()).toEqual([withoutIdAndLast]);
    // A dotted path is not a top-level field: the nested one goes, the top-level one stays.
    const dotted = await kinds.findOne({ _id: full._id }, { projection: { 'nested.searchText': 0 }, ...options });
    expect(dotted).toEqual({ ...full, nested: { a: [new Int32(1), { b: null }] } });
  });

  it('through mongoose: select() and lean() with a nested projection', async () => {
    const Person = conn.model('Person', new Schema({ _id: Number, name: String, contact: { email: String, phone: String, city: String } }), 'people');
    const found = await Person.findById(1).select({ contact: { city: 1 }, name: 1 }).lean();
    expect(found).toEqual({ _id: 1, name: 'An', contact: { city: 'Huế' } });
    await expect(Person.find().select({ contact: 1, 'contact.city': 1 }).lean()).rejects.toMatchObject({ code: 31249 });
  });
});

describe('pipeline-style updates', () => {
  const seed = async () => {
    const c = db.collection<AnyDoc>('upd');
    await c.deleteMany({});
    await c.insertMany([
      { _id: 1, first: 'Lan', last: 'Trần', seats: 2, extra: { a: 1, b: 2 }, tmp: 1, old: true },
      { _id: 2, first: 'Minh', last: 'Lê', seats: 5, extra: { a: 3, b: 4 }, tmp: 2, old: true },
    ]);
    return c;
  };

  it('$set/$addFields compute from the document, $unset takes a string or an array, $project keeps fields', async () => {
    const c = await seed();
    await c.updateOne({ _id: 1 }, [{ $set: { full: { $concat: ['$first', ' ', '$last'] } } }, { $addFields: { double: { $multiply: ['$seats', 2] } } }]);
    await c.updateOne({ _id: 1 }, [{ $unset: 'tmp' }, { $unset: ['old', 'extra.b'] }]);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, first: 'Lan', last: 'Trần', seats: 2, extra: { a: 1 }, full: 'Lan Trần', double: 4 });
    await c.updateMany({}, [{ $project: { first: 1, seats: 1 } }]);
    expect(await c.find().toArray()).toEqual([
      { _id: 1, first: 'Lan', seats: 2 },
      { _id: 2, first: 'Minh', seats: 5 },
    ]);
  });

  it('$replaceRoot and $replaceWith replace the document and keep its _id', async () => {
    const c = await seed();
    await c.updateOne({ _id: 1 }, [{ $replaceRoot: { newRoot: { $mergeObjects: ['$extra', { who: '$first' }] } } }]);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1, b: 2, who: 'Lan' });
    await c.updateOne({ _id: 2 }, [{ $replaceWith: { name: '$first', seats: '$seats' } }]);
    expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, name: 'Minh', seats: 5 });
  });

  it('in findAndModify (before and after images) and in a bulk write', async () => {
    const c = await seed();
    const before = await c.findOneAndUpdate({ _id: 1 }, [{ $set: { seats: { $add: ['$seats', 1] } } }, { $unset: ['tmp', 'old'] }]);
    expect(before).toMatchObject({ _id: 1, seats: 2, tmp: 1 });
    const after = await c.findOneAndUpdate({ _id: 1 }, [{ $replaceWith: { seats: '$seats' } }], { returnDocument: 'after' });
    expect(after).toEqual({ _id: 1, seats: 3 });
    const bulk = await c.bulkWrite([
      { updateOne: { filter: { _id: 2 }, update: [{ $set: { total: { $add: ['$seats', '$extra.a'] } } }] } },
      { updateMany: { filter: {}, update: [{ $unset: 'old' }] } },
      { updateOne: { filter: { _id: 3 }, update: [{ $set: { made: true } }], upsert: true } },
    ]);
    expect(bulk).toMatchObject({ matchedCount: 3, modifiedCount: 2, upsertedCount: 1 });
    expect(await c.findOne({ _id: 2 })).toMatchObject({ total: 8 });
    expect(await c.findOne({ _id: 3 })).toEqual({ _id: 3, made: true });
  });

  it('a stage an update does not allow is refused (72) and nothing changes', async () => {
    const c = await seed();
    const err = await failure(c.updateOne({ _id: 1 }, [{ $match: { seats: 2 } }]));
    expect(err).toMatchObject({ code: 72, message: '$match is not allowed to be used within an update' });
    const changingId = await failure(c.updateOne({ _id: 1 }, [{ $set: { _id: 9 } }]));
    expect(changingId.code).toBe(66);
    expect(await c.findOne({ _id: 1 })).toMatchObject({ seats: 2, tmp: 1 });
  });

  it('through mongoose: updateOne and findOneAndUpdate with a pipeline', async () => {
    await seed();
    const Upd = conn.model('Upd', new Schema({ _id: Number, first: String, last: String, seats: Number, full: String }, { strict: false }), 'upd');
    await Upd.updateOne({ _id: 2 }, [{ $set: { full: { $concat: ['$last', ' ', '$first'] } } }], { updatePipeline: true });
    const doc = await Upd.findOneAndUpdate({ _id: 2 }, [{ $unset: ['extra', 'tmp', 'old'] }], { new: true, updatePipeline: true }).lean();
    expect(doc).toEqual({ _id: 2, first: 'Minh', last: 'Lê', seats: 5, full: 'Lê Minh' });
  });
});

describe('$elemMatch over arrays of scalars', () => {
  beforeAll(async () => {
    await db.collection<AnyDoc>('tagged').insertMany([
      { _id: 1, tags: ['vip', 'speaker'], scores: [3, 8, 12] },
      { _id: 2, tags: ['press'], scores: [1, 20] },
      { _id: 3, tags: [], scores: [] },
      { _id: 4, tags: 'vip', scores: 9 },
    ]);
  });

  it('$in inside $elemMatch matches an element, and a $gt/$lt pair must hold for the same element', async () => {
    const c = db.collection<AnyDoc>('tagged');
    const ids = async (filter: AnyDoc) => (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ tags: { $elemMatch: { $in: ['vip', 'press'] } } })).toEqual([1, 2]);
    // 20 > 10 and 1 < 15, but no single element of doc 2 is between them: only doc 1 (12).
    expect(await ids({ scores: { $elemMatch: { $gt: 10, $lt: 15 } } })).toEqual([1]);
    expect(await ids({ scores: { $gt: 10, $lt: 15 } })).toEqual([1, 2]);
    // $elemMatch never matches a non-array value.
    expect(await ids({ scores: { $elemMatch: { $gte: 9 } } })).toEqual([1, 2]);
    expect(await ids({ tags: { $elemMatch: { $nin: ['vip'] } } })).toEqual([1, 2]);
  });

  it('through mongoose', async () => {
    const Tagged = conn.model('Tagged', attendeeSchema, 'tagged');
    const found = await Tagged.find({ scores: { $elemMatch: { $gte: 5, $lte: 9 } } }).sort({ _id: 1 }).lean();
    expect(found.map((d) => d._id)).toEqual([1]);
  });
});

describe('collation in aggregation $sort and $group', () => {
  const names = ['Nguyễn Văn An', 'nguyen van an', 'NGUYỄN VĂN AN', 'Nguyên Văn An', 'Đặng Thu', 'dang thu', 'Bùi Lan', 'bui lan'];

  beforeAll(async () => {
    await db.collection<AnyDoc>('names').insertMany(names.map((name, i) => ({ _id: i + 1, name })));
  });

  it('strength 1 groups names that differ only in case and Vietnamese diacritics', async () => {
    const groups = await db
      .collection<AnyDoc>('names')
      .aggregate([{ $group: { _id: '$name', n: { $sum: 1 }, ids: { $push: '$_id' } } }, { $sort: { _id: 1 } }], { collation: { locale: 'vi', strength: 1 } })
      .toArray();
    expect(groups.map((g) => [g.n, g.ids])).toEqual([
      [2, [7, 8]],
      [2, [5, 6]],
      [4, [1, 2, 3, 4]],
    ]);
    // Each group's _id is the first value met, as in mongod.
    expect(groups.map((g) => g._id)).toEqual(['Bùi Lan', 'Đặng Thu', 'Nguyễn Văn An']);
  });

  it('strength 2 ignores case but keeps diacritics apart', async () => {
    const groups = await db
      .collection<AnyDoc>('names')
      .aggregate([{ $group: { _id: '$name', n: { $sum: 1 } } }], { collation: { locale: 'vi', strength: 2 } })
      .toArray();
    const byName = Object.fromEntries(groups.map((g) => [g._id, g.n]));
    expect(byName).toEqual({ 'Nguyễn Văn An': 2, 'nguyen van an': 1, 'Nguyên Văn An': 1, 'Đặng Thu': 1, 'dang thu': 1, 'Bùi Lan': 1, 'bui lan': 1 });
  });

  it('$sort follows the Vietnamese alphabet (Đ after D) with the collation, binary order without', async () => {
    const sorted = async (collation?: AnyDoc) =>
      (await db.collection<AnyDoc>('names').aggregate([{ $match: { _id: { $in: [5, 6, 7, 8] } } }, { $sort: { name: 1, _id: 1 } }], collation ? { collation } : {}).toArray()).map(
        (d) => d.name,
      );
    expect(await sorted({ locale: 'vi', strength: 1 })).toEqual(['Bùi Lan', 'bui lan', 'dang thu', 'Đặng Thu']);
    expect(await sorted()).toEqual(['Bùi Lan', 'bui lan', 'dang thu', 'Đặng Thu'].sort());
  });

  it('through mongoose: Model.aggregate().collation()', async () => {
    const Name = conn.model('Name', new Schema({ _id: Number, name: String }), 'names');
    const groups = await Name.aggregate([{ $group: { _id: '$name', n: { $sum: 1 } } }, { $match: { n: { $gt: 2 } } }]).collation({ locale: 'vi', strength: 1 });
    expect(groups).toEqual([{ _id: 'Nguyễn Văn An', n: 4 }]);
  });
});

describe('explain for aggregate', () => {
  beforeAll(async () => {
    const c = db.collection<AnyDoc>('plans');
    await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, site: `s${i % 5}`, n: i })));
    await c.createIndex({ site: 1 });
  });

  it('shows the $match plan: IXSCAN on an indexed field, COLLSCAN otherwise', async () => {
    const c = db.collection<AnyDoc>('plans');
    const indexed: AnyDoc = await c.aggregate([{ $match: { site: 's1' } }, { $sort: { n: -1 } }]).explain('queryPlanner');
    expect(indexed.queryPlanner.winningPlan.inputStage).toMatchObject({ stage: 'IXSCAN', indexName: 'site_1', keyPattern: { site: 1 } });
    const scanned: AnyDoc = await c.aggregate([{ $match: { n: { $gt: 40 } } }]).explain();
    expect(scanned.queryPlanner.winningPlan.stage).toBe('COLLSCAN');
  });

  it('a pipeline with $group shows the $cursor stage first, then the rest; with executionStats', async () => {
    const c = db.collection<AnyDoc>('plans');
    const grouped: AnyDoc = await c.aggregate([{ $match: { site: 's2' } }, { $group: { _id: '$site', n: { $sum: 1 } } }]).explain('executionStats');
    expect(grouped.stages[0].$cursor.queryPlanner.winningPlan.inputStage.stage).toBe('IXSCAN');
    expect(grouped.stages[0].$cursor.executionStats).toMatchObject({ nReturned: 10, totalDocsExamined: 10 });
    expect(grouped.stages[1]).toEqual({ $group: { _id: '$site', n: { $sum: 1 } } });
    // The older spelling: aggregate with explain: true.
    const legacy = await db.command({ aggregate: 'plans', pipeline: [{ $match: { site: 's3' } }], explain: true });
    expect(legacy.queryPlanner.winningPlan.inputStage.stage).toBe('IXSCAN');
  });

  it('through mongoose: Model.aggregate().explain()', async () => {
    const Plan = conn.model('Plan', new Schema({ _id: Number, site: String, n: Number }), 'plans');
    const plan: AnyDoc = await Plan.aggregate([{ $match: { site: 's4' } }]).explain('queryPlanner');
    expect(plan.queryPlanner.winningPlan.inputStage.indexName).toBe('site_1');
  });
});

describe('$setWindowFields', () => {
  beforeAll(async () => {
    await db.collection<AnyDoc>('scores').insertMany([
      { _id: 1, site: 'a', n: 5 },
      { _id: 2, site: 'a', n: 7 },
      { _id: 3, site: 'b', n: 7 },
      { _id: 4, site: 'a', n: 7 },
    ]);
  });

  it('ranks, numbers, running totals and shifts are computed (they are not refused as scripts)', async () => {
    const ranked = await db
      .collection('scores')
      .aggregate([
        { $setWindowFields: { partitionBy: '$site', sortBy: { n: -1 }, output: { rank: { $rank: {} }, dense: { $denseRank: {} }, number: { $documentNumber: {} } } } },
        { $sort: { _id: 1 } },
        { $project: { _id: 1, rank: 1, dense: 1 } },
      ])
      .toArray();
    expect(ranked).toEqual([
      { _id: 1, rank: 3, dense: 2 },
      { _id: 2, rank: 1, dense: 1 },
      { _id: 3, rank: 1, dense: 1 },
      { _id: 4, rank: 1, dense: 1 },
    ]);
    const running = await db
      .collection('scores')
      .aggregate([
        { $setWindowFields: { sortBy: { _id: 1 }, output: { total: { $sum: '$n', window: { documents: ['unbounded', 'current'] } }, previous: { $shift: { output: '$n', by: -1, default: null } } } } },
        { $project: { _id: 0, total: 1, previous: 1 } },
      ])
      .toArray();
    expect(running).toEqual([
      { total: 5, previous: null },
      { total: 12, previous: 5 },
      { total: 19, previous: 7 },
      { total: 26, previous: 7 },
    ]);
  });

  it('a $function inside it is still refused (31264) and nothing runs', async () => {
    const err = await failure(
      db.collection('scores').aggregate([{ $setWindowFields: { sortBy: { n: 1 }, output: { f: { $function: { body: 'function() { return 1 }', args: [], lang: 'js' } } } } }]).toArray(),
    );
    expect(err).toMatchObject({ code: 31264 });
  });

  it('through mongoose: Model.aggregate() with $setWindowFields', async () => {
    const Score = conn.model('Score', new Schema({ _id: Number, site: String, n: Number }), 'scores');
    const rows = await Score.aggregate<{ _id: number; average: number }>([
      { $setWindowFields: { partitionBy: '$site', output: { average: { $avg: '$n' } } } },
      { $match: { site: 'b' } },
      { $project: { average: 1 } },
    ]);
    expect(rows).toEqual([{ _id: 3, average: 7 }]);
  });
});

describe('expression operators of mongod 7.0 beyond mingo’s', () => {
  it('$toObjectId joins string ids to ObjectIds; bad input fails with ConversionFailure (241) as mongod', async () => {
    const meetingId = new ObjectId();
    await db.collection<AnyDoc>('meetingsX').insertOne({ _id: meetingId, title: 'Hội nghị' });
    await db.collection<AnyDoc>('links').insertOne({ _id: 1, meetingId: meetingId.toHexString() });
    const joined = await db
      .collection('links')
      .aggregate([
        { $lookup: { from: 'meetingsX', let: { id: { $toObjectId: '$meetingId' } }, pipeline: [{ $match: { $expr: { $eq: ['$_id', '$$id'] } } }], as: 'meeting' } },
        { $project: { _id: 0, id: { $toObjectId: '$meetingId' }, title: { $first: '$meeting.title' } } },
      ])
      .toArray();
    expect(joined).toEqual([{ id: meetingId, title: 'Hội nghị' }]);
    const err = await failure(db.collection('links').aggregate([{ $project: { x: { $toObjectId: 'zz' } } }]).toArray());
    expect(err).toMatchObject({
      code: 241,
      codeName: 'ConversionFailure',
      message: "Failed to parse objectId 'zz' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found 2",
    });
  });

  it('$indexOfCP counts code points, $binarySize bytes, $bsonSize a document; $tsSecond/$tsIncrement read a timestamp', async () => {
    await db.collection<AnyDoc>('strings').insertOne({ _id: 1, s: 'Hà Nội', small: { a: 1 }, ts: new Timestamp({ t: 100, i: 7 }) });
    const [row] = await db
      .collection('strings')
      .aggregate([{ $project: { _id: 0, cp: { $indexOfCP: ['$s', 'Nội'] }, bytes: { $binarySize: '$s' }, size: { $bsonSize: '$small' }, sec: { $tsSecond: '$ts' }, inc: { $tsIncrement: '$ts' } } }])
      .toArray();
    expect(row).toEqual({ cp: 3, bytes: 9, size: 12, sec: 100, inc: 7 });
    const err = await failure(db.collection('strings').aggregate([{ $project: { x: { $bsonSize: '$s' } } }]).toArray());
    expect(err).toMatchObject({ code: 31393, message: '$bsonSize requires a document input, found: string' });
  });
});

describe('the 16 MiB document limit', () => {
  const LIMIT = 16 * 1024 * 1024;
  const over = 'x'.repeat(LIMIT); // with _id and the field name the document is just over 16 MiB
  // Over BSONObjMaxInternalSize (16 MiB + 16 KiB): mongod refuses the message while parsing it.
  const farOver = 'x'.repeat(LIMIT + 512 * 1024);

  it('an insert just over the limit fails with mongod’s reply (2, per document) and stores nothing', async () => {
    const c = db.collection<AnyDoc>('big');
    const reply = await db.command({ insert: 'big', documents: [{ _id: 'a', s: over }, { _id: 'b' }] });
    expect(reply.n).toBe(0);
    expect(reply.writeErrors).toHaveLength(1);
    expect(reply.writeErrors[0]).toMatchObject({ index: 0, code: 2 });
    expect(reply.writeErrors[0].errmsg).toMatch(/^object to insert too large\. size in bytes: 167772\d\d, max size: 16777216$/);
    const err = await failure(c.insertOne({ _id: 'c', s: over }));
    expect(err.code).toBe(2);
    expect(await c.countDocuments()).toBe(0);
  });

  it('a document over 16 MiB + 16 KiB is refused as mongod refuses it while parsing: BSONObjectTooLarge (10334), nothing runs', async () => {
    const c = db.collection<AnyDoc>('big');
    const err = await failure(c.insertOne({ _id: 'huge', s: farOver }));
    // The driver sends the documents inside the command, so the command is the object too large.
    expect(err).toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' });
    const [, size, hex] = /^BSONObj size: (\d+) \(0x([0-9A-F]+)\) is invalid\. Size must be between 0 and 16793600\(16MB\) First element: insert: "big"$/.exec(err.message) ?? [];
    expect(Number(size)).toBeGreaterThan(farOver.length);
    expect(Number.parseInt(hex!, 16)).toBe(Number(size));
    // Sent as a document sequence (OP_MSG kind 1), the document itself is named.
    const raw = await sendOpMsg({ insert: 'big', $db: 'fidelity' }, ['documents', [{ _id: 'huge', s: farOver }]]);
    const docSize = farOver.length + 27; // { _id: 'huge', s: <string> }
    expect(raw).toEqual({
      ok: 0,
      code: 10334,
      codeName: 'BSONObjectTooLarge',
      errmsg: `BSONObj size: ${docSize} (0x${docSize.toString(16).toUpperCase()}) is invalid. Size must be between 0 and 16793600(16MB) First element: _id: "huge"`,
    });
    await c.insertOne({ _id: 'small', s: 'y' });
    const replace = await failure(c.replaceOne({ _id: 'small' }, { s: farOver }));
    expect(replace).toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' });
    expect(replace.message).toMatch(/^BSONObj size: \d+ \(0x[0-9A-F]+\) is invalid\. Size must be between 0 and 16793600\(16MB\) First element: update: "big"$/);
    expect(await c.find().toArray()).toEqual([{ _id: 'small', s: 'y' }]);
    await c.deleteMany({});
  });

  it('an update whose result is over the limit fails with BSONObjectTooLarge (10334) and the document keeps its old value', async () => {
    const c = db.collection<AnyDoc>('big');
    await c.insertOne({ _id: 'u', s: 'x'.repeat(LIMIT - 100) });
    const err = await failure(c.updateOne({ _id: 'u' }, { $set: { more: 'y'.repeat(200) } }));
    expect(err).toMatchObject({ code: 10334, message: 'Resulting document after update is larger than 16777216' });
    const pipeline = await failure(c.updateOne({ _id: 'u' }, [{ $set: { twice: { $concat: ['$s', '$s'] } } }]));
    expect(pipeline.code).toBe(10334);
    const modify = await failure(c.findOneAndUpdate({ _id: 'u' }, { $set: { extra: 'z'.repeat(200) } }));
    expect(modify).toMatchObject({ code: 10334, message: 'Resulting document after update is larger than 16777216' });
    expect(await c.findOne({ _id: 'u' }, { projection: { s: 0 } })).toEqual({ _id: 'u' });
  });

  it('an upsert whose new document is over the limit fails with BSONObjectTooLarge (10334); a document at the limit is fine', async () => {
    const c = db.collection<AnyDoc>('big');
    const err = await failure(c.replaceOne({ _id: 'v' }, { s: over }, { upsert: true }));
    expect(err).toMatchObject({ code: 10334, message: 'Document to upsert is larger than 16777216' });
    expect(await c.countDocuments({ _id: 'v' })).toBe(0);
    const fits = 'x'.repeat(LIMIT - 27); // { _id: 'w', s: <string> } is exactly 16 MiB
    await c.insertOne({ _id: 'w', s: fits });
    expect((await c.findOne({ _id: 'w' }))!.s.length).toBe(fits.length);
  });

  it('through mongoose: save() of an oversized document is rejected, an update past the limit gets BSONObjectTooLarge', async () => {
    const Big = conn.model('Big', new Schema({ _id: String, s: String, more: String }), 'big');
    await expect(new Big({ _id: 'm', s: over }).save()).rejects.toMatchObject({ code: 2 });
    await expect(new Big({ _id: 'm', s: farOver }).save()).rejects.toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' });
    expect(await Big.countDocuments({ _id: 'm' })).toBe(0);
    await Big.create({ _id: 'n', s: 'x'.repeat(LIMIT - 100) });
    // A write error carries code and errmsg only (no codeName), as in mongod's writeErrors.
    await expect(Big.updateOne({ _id: 'n' }, { $set: { more: 'y'.repeat(200) } })).rejects.toMatchObject({ code: 10334 });
    expect((await Big.findById('n').lean())!.more).toBeUndefined();
  });
});

describe('$where with server-side scripting disabled', () => {
  beforeAll(async () => {
    await db.collection<AnyDoc>('scripts').insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
  });

  it('is refused as mongod --noscripting refuses it, in every command that takes a filter', async () => {
    const c = db.collection<AnyDoc>('scripts');
    const expected = { code: 6108304, codeName: 'Location6108304', message: 'no globalScriptEngine in $where parsing' };
    expect(await failure(c.find({ $where: 'this.a == 1' }).toArray())).toMatchObject(expected);
    expect(await failure(c.countDocuments({ $where: 'true' }))).toMatchObject({ code: 2, message: '$where is not allowed in this context' });
    expect(await failure(db.command({ count: 'scripts', query: { $where: 'true' } }))).toMatchObject(expected);
    expect(await failure(c.distinct('a', { $where: 'true' }))).toMatchObject(expected);
    // Write errors carry a code and a message (no codeName), as mongod's writeErrors do.
    const inWriteErrors = { code: expected.code, message: expected.message };
    expect(await failure(c.deleteMany({ $where: 'true' }))).toMatchObject(inWriteErrors);
    expect(await failure(c.updateOne({ $where: 'true' }, { $set: { b: 1 } }))).toMatchObject(inWriteErrors);
    expect(await failure(c.findOneAndDelete({ $where: 'true' }))).toMatchObject(expected);
    expect(await c.countDocuments()).toBe(2);
  });

  it('in an aggregation $match, and $function/$accumulator are refused too: no code runs', async () => {
    const c = db.collection<AnyDoc>('scripts');
    expect(await failure(c.aggregate([{ $match: { $where: 'true' } }]).toArray())).toMatchObject({ code: 2, message: '$where is not allowed in this context' });
    const fn = await failure(
      c.aggregate([{ $addFields: { x: { $function: { body: 'function () { return 1 }', args: [], lang: 'js' } } } }]).toArray(),
    );
    expect(fn.code).toBe(31264);
    expect(await failure(c.find({ $expr: { $function: { body: 'function () { return true }', args: [], lang: 'js' } } }).toArray())).toMatchObject({ code: 31264 });
  });

  it('through mongoose: Query.$where()', async () => {
    const Script = conn.model('Script', new Schema({ _id: Number, a: Number }), 'scripts');
    await expect(Script.find().$where('this.a > 0').exec()).rejects.toMatchObject({ code: 6108304 });
  });
});

describe('getParameter and setParameter', () => {
  it('reads and changes parameters, replying with the previous value', async () => {
    const admin = client.db('admin');
    expect(await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).toMatchObject({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 });
    expect(await admin.command({ setParameter: 1, logLevel: 2 })).toMatchObject({ was: 0, ok: 1 });
    expect(await admin.command({ getParameter: 1, logLevel: 1 })).toMatchObject({ logLevel: 2 });
    expect(await admin.command({ getParameter: { showDetails: true }, logLevel: 1 })).toMatchObject({ logLevel: { value: 2, settableAtRuntime: true, settableAtStartup: true } });
    const all = await admin.command({ getParameter: '*' });
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['featureCompatibilityVersion', 'logLevel', 'notablescan', 'ttlMonitorEnabled']));
    await admin.command({ setParameter: 1, logLevel: 0 });
  });

  it('refuses unknown, startup-only and badly typed parameters, and non-admin databases, as mongod', async () => {
    const admin = client.db('admin');
    expect(await failure(admin.command({ setParameter: 1, noSuchThing: 1 }))).toMatchObject({
      code: 72,
      codeName: 'InvalidOptions',
      message: 'attempted to set unrecognized parameter [noSuchThing], use help:true to see options ',
    });
    expect(await failure(admin.command({ setParameter: 1 }))).toMatchObject({ code: 72, message: 'no option found to set, use help:true to see options ' });
    expect(await failure(admin.command({ getParameter: 1, noSuchThing: 1 }))).toMatchObject({ code: 72, message: 'no option found to get' });
    expect(await failure(admin.command({ setParameter: 1, ttlMonitorSleepSecs: 5 }))).toMatchObject({ code: 20, message: 'not allowed to change [ttlMonitorSleepSecs] at runtime' });
    expect(await failure(admin.command({ setParameter: 1, logLevel: 'loud' }))).toMatchObject({ code: 2 });
    expect(await failure(db.command({ getParameter: 1, logLevel: 1 }))).toMatchObject({ code: 13, message: 'getParameter may only be run against the admin database.' });
  });

  it('notablescan refuses collection scans (291) while index lookups keep working', async () => {
    const admin = client.db('admin');
    const c = db.collection<AnyDoc>('scan');
    await c.insertMany([{ _id: 1, k: 1, u: 1 }, { _id: 2, k: 2, u: 2 }]);
    await c.createIndex({ k: 1 });
    await admin.command({ setParameter: 1, notablescan: true });
    try {
      expect(await failure(c.find({ u: 1 }).toArray())).toMatchObject({ code: 291, codeName: 'NoQueryExecutionPlans' });
      expect((await failure(c.find({ u: 1 }).toArray())).message).toContain("No indexed plan available, and running with 'notablescan'");
      expect(await c.find({ k: 2 }).toArray()).toEqual([{ _id: 2, k: 2, u: 2 }]);
    } finally {
      await admin.command({ setParameter: 1, notablescan: false });
    }
    expect(await c.find({ u: 1 }).toArray()).toHaveLength(1);
  });
});
