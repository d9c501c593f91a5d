// $text over text indexes (Vietnamese names found without their diacritics), 2dsphere geo
// queries and $geoNear, and timeseries collections: through mongoose and the bare driver, with
// the replies and errors mongod 7.0 gives.
import { type Db, type MongoClient } from 'mongodb';
import mongoose, { Schema, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, failure, startStore, type RunningStore } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let client: MongoClient;
let db: Db;
let conn: Connection;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  db = client.db('search');
  conn = await mongoose.createConnection(store.uri, { dbName: 'search', serverSelectionTimeoutMS: 5000 }).asPromise();
});

afterAll(async () => {
  await conn?.close();
  await client?.close();
  await store?.stop();
});


describe('$text with a text index', () => {
  const speakers = [
    { _id: 1, name: 'Nguyễn Văn Hùng', bio: 'Speaker on climate policy and city planning' },
    { _id: 2, name: 'Trần Thị Bình', bio: 'Climate researcher; speakers bureau' },
    { _id: 3, name: 'nguyen thu trang', bio: 'Organizer of the Huế meeting' },
    { _id: 4, name: 'Lê Đức Anh', bio: 'City planning consultant' },
  ];

  beforeAll(async () => {
    await db.collection<AnyDoc>('speakers').insertMany(speakers);
  });

  it('without a text index $text fails with IndexNotFound (27)', async () => {
    const err = await failure(db.collection<AnyDoc>('speakers').find({ $text: { $search: 'nguyen' } }).toArray());
    expect(err).toMatchObject({ code: 27, codeName: 'IndexNotFound', message: 'text index required for $text query' });
  });

  it('one text index per collection: listIndexes shows mongod’s stored form, a second one is refused (85)', async () => {
    const c = db.collection<AnyDoc>('speakers');
    expect(await c.createIndex({ name: 'text', bio: 'text' }, { weights: { name: 5 } })).toBe('name_text_bio_text');
    const text = (await c.listIndexes().toArray()).find((i) => i.name === 'name_text_bio_text');
    expect(text).toEqual({
      v: 2,
      key: { _fts: 'text', _ftsx: 1 },
      name: 'name_text_bio_text',
      weights: { bio: 1, name: 5 },
      default_language: 'english',
      language_override: 'language',
      textIndexVersion: 3,
    });
    expect(await failure(c.createIndex({ bio: 'text' }))).toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
  });

  it('is case- and diacritic-insensitive: "nguyen" finds Nguyễn, "hue" finds Huế, "duc" finds Đức', async () => {
    const c = db.collection<AnyDoc>('speakers');
    const ids = async (search: string) => (await c.find({ $text: { $search: search } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids('nguyen')).toEqual([1, 3]);
    expect(await ids('NGUYỄN')).toEqual([1, 3]);
    expect(await ids('hue')).toEqual([3]);
    expect(await ids('duc')).toEqual([4]);
    // Any term may match; English plurals are stemmed ("speakers" finds "Speaker").
    expect(await ids('hung binh')).toEqual([1, 2]);
    expect(await ids('speakers')).toEqual([1, 2]);
  });

  it('phrases must all appear, negated terms and phrases must not', async () => {
    const c = db.collection<AnyDoc>('speakers');
    const ids = async (search: string) => (await c.find({ $text: { $search: search } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids('"city planning"')).toEqual([1, 4]);
    expect(await ids('"city planning" climate')).toEqual([1, 4]);
    expect(await ids('planning -climate')).toEqual([4]);
    expect(await ids('climate -"climate policy"')).toEqual([2]);
    expect(await ids('-climate')).toEqual([]);
  });

  it('$meta: "textScore" in the projection and the sort: a match in the name (weight 5) counts more than in the bio', async () => {
    const c = db.collection<AnyDoc>('speakers');
    const found = await c
      .find({ $text: { $search: 'nguyen climate' } }, { projection: { name: 1, score: { $meta: 'textScore' } } })
      .sort({ score: { $meta: 'textScore' } })
      .toArray();
    // 1 matches both terms (name and bio), 3 only in its name, 2 only in its bio.
    expect(found.map((d) => d._id)).toEqual([1, 3, 2]);
    expect(found.every((d) => typeof d.score === 'number' && d.score > 0)).toBe(true);
    expect(found[0].score).toBeGreaterThan(found[2].score);
    expect(Object.keys(found[0])).toEqual(['_id', 'name', 'score']);
    // The score alone (mongoose's find(filter, { score: { $meta } })): every field, and the score.
    const whole = await c.find({ $text: { $search: 'nguyen climate' } }, { projection: { score: { $meta: 'textScore' } } }).sort({ _id: 1 }).toArray();
    expect(whole.map((d) => [d._id, d.score])).toEqual(found.map((d) => [d._id, d.score]).sort((x, y) => x[0] - y[0]));
    expect(whole[0].name).toBe(found.find((d) => d._id === whole[0]._id)?.name);
    expect((await c.findOne({ _id: whole[0]._id }))?.score).toBeUndefined();
  });

  it('in aggregate: $text only in the first $match, scores through $meta', async () => {
    const c = db.collection<AnyDoc>('speakers');
    const ranked = await c
      .aggregate([{ $match: { $text: { $search: 'planning' } } }, { $project: { name: 1, score: { $meta: 'textScore' } } }, { $sort: { score: -1, _id: 1 } }])
      .toArray();
    expect(ranked.map((d) => d._id)).toEqual([4, 1]);
    expect(ranked[0].score).toBeGreaterThan(ranked[1].score);
    const late = await failure(c.aggregate([{ $sort: { _id: 1 } }, { $match: { $text: { $search: 'x' } } }]).toArray());
    expect(late).toMatchObject({ code: 17313, message: '$match with $text is only allowed as the first pipeline stage' });
    expect(await c.countDocuments({ $text: { $search: 'nguyen' } })).toBe(2);
  });

  it('through mongoose: a schema text index and find({ $text }) sorted by score', async () => {
    const schema = new Schema({ name: String, role: String }, { autoIndex: false });
    schema.index({ name: 'text' }, { default_language: 'none' });
    const Person = conn.model('TextPerson', schema);
    await Person.init();
    await Person.createIndexes();
    await Person.create([{ name: 'Phạm Minh Châu', role: 'chair' }, { name: 'Pham Chau', role: 'guest' }, { name: 'Vũ An', role: 'guest' }]);
    const found = await Person.find({ $text: { $search: 'chau' } }, { score: { $meta: 'textScore' } })
      .sort({ score: { $meta: 'textScore' } })
      .lean();
    expect(found.map((p) => p.name)).toEqual(['Pham Chau', 'Phạm Minh Châu']);
    // default_language "none": no English stop words, so the Vietnamese name "An" is a term.
    expect(await Person.countDocuments({ $text: { $search: 'an' } })).toBe(1);
  });
});

describe('geospatial queries with a 2dsphere index', () => {
  const venues = [
    { _id: 'hanoi', city: 'Hà Nội', loc: { type: 'Point', coordinates: [105.8542, 21.0285] } },
    { _id: 'hue', city: 'Huế', loc: { type: 'Point', coordinates: [107.5909, 16.4637] } },
    { _id: 'danang', city: 'Đà Nẵng', loc: { type: 'Point', coordinates: [108.2022, 16.0544] } },
    { _id: 'hcm', city: 'TP HCM', loc: [106.7009, 10.7769] },
    { _id: 'online', city: 'online' },
  ];
  const hueArea = { type: 'Polygon', coordinates: [[[107, 15.5], [108.5, 15.5], [108.5, 17], [107, 17], [107, 15.5]]] };

  beforeAll(async () => {
    await db.collection<AnyDoc>('venues').insertMany(venues);
  });

  it('$near needs a geo index: mongod’s NoQueryExecutionPlans (291) without one', async () => {
    const err = await failure(db.collection<AnyDoc>('venues').find({ loc: { $near: { $geometry: { type: 'Point', coordinates: [106, 16] } } } }).toArray());
    expect(err.code).toBe(291);
    expect(err.message).toContain('unable to find index for $geoNear query');
  });

  it('a 2dsphere index refuses documents whose field is not a geometry (16755)', async () => {
    const c = db.collection<AnyDoc>('venues');
    expect(await c.createIndex({ loc: '2dsphere' })).toBe('loc_2dsphere');
    expect((await c.listIndexes().toArray()).find((i) => i.name === 'loc_2dsphere')).toMatchObject({ key: { loc: '2dsphere' }, '2dsphereIndexVersion': 3 });
    const err = await failure(c.insertOne({ _id: 'bad', loc: { type: 'Point', coordinates: [200, 10] } }));
    expect(err.code).toBe(16755);
    expect(err.message).toContain("Can't extract geo keys");
    expect(await c.countDocuments({ _id: 'bad' })).toBe(0);
  });

  it('$near and $nearSphere return the nearest first, within $maxDistance / beyond $minDistance (meters)', async () => {
    const c = db.collection<AnyDoc>('venues');
    const fromHue = { $geometry: { type: 'Point', coordinates: [107.5909, 16.4637] } };
    const ids = async (filter: AnyDoc) => (await c.find(filter).toArray()).map((d) => d._id);
    expect(await ids({ loc: { $near: fromHue } })).toEqual(['hue', 'danang', 'hanoi', 'hcm']);
    expect(await ids({ loc: { $near: { ...fromHue, $maxDistance: 100_000 } } })).toEqual(['hue', 'danang']);
    expect(await ids({ loc: { $nearSphere: { ...fromHue, $minDistance: 100_000, $maxDistance: 600_000 } } })).toEqual(['hanoi']);
    // Legacy pairs measure in radians.
    expect(await ids({ loc: { $nearSphere: [106.7, 10.78], $maxDistance: 0.01 } })).toEqual(['hcm']);
    expect(await failure(c.countDocuments({ loc: { $near: fromHue } }))).toMatchObject({ code: 2, message: '$geoNear, $near, and $nearSphere are not allowed in this context' });
  });

  it('$geoWithin ($geometry polygon, $centerSphere) and $geoIntersects', async () => {
    const c = db.collection<AnyDoc>('venues');
    const ids = async (filter: AnyDoc) => (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ loc: { $geoWithin: { $geometry: hueArea } } })).toEqual(['danang', 'hue']);
    // 120 km around Hồ Chí Minh City (radius in radians: km / 6378.1).
    expect(await ids({ loc: { $geoWithin: { $centerSphere: [[106.66, 10.76], 120 / 6378.1] } } })).toEqual(['hcm']);
    expect(await ids({ loc: { $geoIntersects: { $geometry: hueArea } } })).toEqual(['danang', 'hue']);
    const road = { type: 'LineString', coordinates: [[105.8542, 21.0285], [106, 20]] };
    expect(await ids({ loc: { $geoIntersects: { $geometry: road } } })).toEqual(['hanoi']);
  });

  it('aggregate $geoNear: distanceField in meters, query, maxDistance, and only as the first stage', async () => {
    const c = db.collection<AnyDoc>('venues');
    const near = await c
      .aggregate([{ $geoNear: { near: { type: 'Point', coordinates: [108.2022, 16.0544] }, distanceField: 'dist.m', spherical: true, query: { _id: { $ne: 'hcm' } } } }])
      .toArray();
    expect(near.map((d) => d._id)).toEqual(['danang', 'hue', 'hanoi']);
    expect(near[0].dist.m).toBe(0);
    expect(near[1].dist.m).toBeGreaterThan(70_000);
    expect(near[1].dist.m).toBeLessThan(90_000);
    const within = await c.aggregate([{ $geoNear: { near: { type: 'Point', coordinates: [108.2022, 16.0544] }, distanceField: 'd', maxDistance: 100_000 } }, { $count: 'n' }]).toArray();
    expect(within).toEqual([{ n: 2 }]);
    const notFirst = await failure(c.aggregate([{ $match: {} }, { $geoNear: { near: [0, 0], distanceField: 'd' } }]).toArray());
    expect(notFirst).toMatchObject({ code: 40602, message: '$geoNear is only valid as the first stage in a pipeline' });
    const noIndex = await failure(db.collection('speakers').aggregate([{ $geoNear: { near: [0, 0], distanceField: 'd' } }]).toArray());
    expect(noIndex.code).toBe(291);
  });

  it('through mongoose: a 2dsphere schema index and $near / $geoWithin queries', async () => {
    const schema = new Schema({ name: String, location: { type: { type: String, enum: ['Point'] }, coordinates: [Number] } });
    schema.index({ location: '2dsphere' });
    const Site = conn.model('GeoSite', schema);
    await Site.init();
    await Site.create([
      { name: 'Hội trường A', location: { type: 'Point', coordinates: [105.84, 21.02] } },
      { name: 'Hội trường B', location: { type: 'Point', coordinates: [106.68, 10.77] } },
    ]);
    const nearest = await Site.findOne({ location: { $near: { $geometry: { type: 'Point', coordinates: [106.6, 10.8] } } } }).lean();
    expect(nearest!.name).toBe('Hội trường B');
    const north = await Site.find({ location: { $geoWithin: { $centerSphere: [[105.85, 21.03], 50 / 6378.1] } } }).lean();
    expect(north.map((s) => s.name)).toEqual(['Hội trường A']);
  });
});

describe('timeseries collections', () => {
  it('create with timeField/metaField/granularity; listCollections says type "timeseries"', async () => {
    await db.createCollection('readings', { timeseries: { timeField: 'at', metaField: 'room', granularity: 'minutes' } });
    const [info] = await db.listCollections({ name: 'readings' }).toArray();
    expect(info).toMatchObject({
      name: 'readings',
      type: 'timeseries',
      options: { timeseries: { timeField: 'at', metaField: 'room', granularity: 'minutes', bucketMaxSpanSeconds: 86400 } },
    });
    expect(await db.listCollections({ type: 'timeseries' }, { nameOnly: true }).toArray()).toEqual([{ name: 'readings', type: 'timeseries' }]);
  });

  it('insert measurements, query them with find and aggregate; a measurement without its time is refused', async () => {
    const c = db.collection<AnyDoc>('readings');
    const t0 = Date.UTC(2026, 11, 2, 8, 0);
    await c.insertMany(Array.from({ length: 6 }, (_, i) => ({ at: new Date(t0 + i * 60_000), room: i % 2 ? 'A' : 'B', people: 10 + i })));
    expect(await c.countDocuments({ room: 'A' })).toBe(3);
    const latest = await c.find({ at: { $gte: new Date(t0 + 3 * 60_000) } }).sort({ at: -1 }).limit(1).toArray();
    expect(latest[0]).toMatchObject({ room: 'A', people: 15 });
    const perRoom = await c.aggregate([{ $group: { _id: '$room', peak: { $max: '$people' } } }, { $sort: { _id: 1 } }]).toArray();
    expect(perRoom).toEqual([
      { _id: 'A', peak: 15 },
      { _id: 'B', peak: 14 },
    ]);
    const err = await failure(c.insertOne({ room: 'A', people: 1 }));
    expect(err).toMatchObject({ code: 2, message: "'at' must be present and contain a valid BSON UTC datetime value" });
  });

  it('refuses bad options as mongod', async () => {
    expect(await failure(db.createCollection('ts2', { timeseries: { metaField: 'm' } as AnyDoc }))).toMatchObject({ code: 40414 });
    expect(await failure(db.createCollection('ts3', { timeseries: { timeField: 't', metaField: 't' } }))).toMatchObject({ code: 72 });
    expect(await failure(db.createCollection('ts4', { timeseries: { timeField: 't', granularity: 'days' as AnyDoc } }))).toMatchObject({ code: 2 });
  });

  it('through mongoose: a schema with the timeseries option', async () => {
    const schema = new Schema({ at: Date, site: String, present: Number }, { timeseries: { timeField: 'at', metaField: 'site', granularity: 'seconds' }, autoCreate: true });
    const CheckIns = conn.model('CheckInCount', schema);
    await CheckIns.init();
    const [info] = await conn.db!.listCollections({ name: CheckIns.collection.name }).toArray();
    expect(info.type).toBe('timeseries');
    await CheckIns.create([{ at: new Date(), site: 'Huế', present: 12 }, { at: new Date(), site: 'Huế', present: 14 }]);
    expect(await CheckIns.aggregate([{ $match: { site: 'Huế' } }, { $group: { _id: null, max: { $max: '$present' } } }])).toEqual([{ _id: null, max: 14 }]);
  });
});
