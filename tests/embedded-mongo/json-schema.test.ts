// $jsonSchema and collection validators, through the MongoDB driver over TCP, checked against
// what mongod 7.0 answers: the operator in find and $match, validators enforced on insert, update,
// findAndModify and $merge with their levels and actions, bypassDocumentValidation, and the
// refusals of a schema mongod does not accept.
import { Decimal128, Int32, Long, type Db, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, failure, startStore, tempDir, type RunningStore } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  db = client.db('json_schema');
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
});

beforeEach(async () => {
  await db.dropDatabase();
});


describe('$jsonSchema as a query operator', () => {
  const seed = () =>
    db.collection<AnyDoc>('people').insertMany([
      { _id: 1, name: 'An', age: new Int32(30), tags: ['a', 'b'] },
      { _id: 2, name: 'B', age: 2.5 },
      { _id: 3, name: 'Chi', age: new Long(70), tags: ['a', 'a'] },
      { _id: 4, age: Decimal128.fromString('17') },
      { _id: 5, name: 'Đạt', extra: true },
    ]);
  const ids = async (schema: AnyDoc) => (await db.collection<AnyDoc>('people').find({ $jsonSchema: schema }).toArray()).map((doc) => doc._id);

  it('matches as mongod: keywords of one kind pass values of another, number is every numeric type', async () => {
    await seed();
    expect(await ids({ required: ['name', 'age'] })).toEqual([1, 2, 3]);
    expect(await ids({ properties: { age: { bsonType: 'int' } } })).toEqual([1, 5]);
    expect(await ids({ properties: { age: { bsonType: 'number', minimum: 18 } }, required: ['age'] })).toEqual([1, 3]);
    expect(await ids({ properties: { age: { type: 'number', maximum: 17, exclusiveMaximum: true } }, required: ['age'] })).toEqual([2]);
    // minLength counts code points: "Đạt" is 3 long.
    expect(await ids({ properties: { name: { minLength: 3, maxLength: 3 } }, required: ['name'] })).toEqual([3, 5]);
    expect(await ids({ properties: { name: { pattern: '^[A-C]' } } })).toEqual([1, 2, 3, 4]);
    expect(await ids({ properties: { tags: { uniqueItems: true, minItems: 2 } }, required: ['tags'] })).toEqual([1]);
    expect(await ids({ properties: { _id: {}, name: {}, age: {} }, additionalProperties: false })).toEqual([2, 4]);
    expect(await ids({ not: { required: ['name'] } })).toEqual([4]);
    expect(await ids({ anyOf: [{ required: ['tags'] }, { required: ['extra'] }] })).toEqual([1, 3, 5]);
    expect(await ids({ properties: { age: { enum: [30, 70] } }, required: ['age'] })).toEqual([1, 3]);
    expect(await ids({ dependencies: { tags: ['age'] }, properties: { tags: { items: { bsonType: 'string' } } } })).toEqual([1, 2, 3, 4, 5]);
    const matched = await db.collection<AnyDoc>('people').aggregate([{ $match: { $jsonSchema: { required: ['extra'] } } }]).toArray();
    expect(matched.map((doc) => doc._id)).toEqual([5]);
  });

  it('refuses what mongod refuses: integer, unknown and unsupported keywords; a top level that is not an object matches nothing', async () => {
    await seed();
    const people = db.collection<AnyDoc>('people');
    expect(await failure(people.find({ $jsonSchema: { properties: { age: { type: 'integer' } } } }).toArray())).toMatchObject({ code: 9 });
    expect(await failure(people.find({ $jsonSchema: { properties: { age: { bsonType: 'integer' } } } }).toArray())).toMatchObject({ code: 2 });
    expect(await failure(people.find({ $jsonSchema: { bogus: 1 } }).toArray())).toMatchObject({ code: 9, message: 'Unknown $jsonSchema keyword: bogus' });
    expect(await failure(people.find({ $jsonSchema: { $ref: '#/x' } }).toArray())).toMatchObject({ code: 9 });
    expect(await ids({ bsonType: 'string' })).toEqual([]);
    expect(await ids({ type: ['string', 'object'] })).toEqual([1, 2, 3, 4, 5]);
    expect(await failure(people.find({ $jsonSchema: { type: 'object', bsonType: 'object' } }).toArray())).toMatchObject({ code: 9 });
    expect(await failure(people.find({ $jsonSchema: 1 }).toArray())).toMatchObject({ code: 14 });
  });

  it('reads only a document\'s own fields: constructor, toString and __proto__ are ordinary names', async () => {
    await seed();
    await db.collection<AnyDoc>('people').insertOne({ _id: 6, constructor: 'x', toString: 1 });
    expect(await ids({ required: ['constructor'] })).toEqual([6]);
    expect(await ids({ required: ['toString'] })).toEqual([6]);
    expect(await ids({ properties: { constructor: { bsonType: 'string' }, __proto__: { bsonType: 'string' }, hasOwnProperty: { bsonType: 'string' } } })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await ids({ dependencies: { constructor: ['toString'], valueOf: ['nothing'] } })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await ids({ properties: { toString: { bsonType: 'string' } } })).toEqual([1, 2, 3, 4, 5]);
  });

  it('enum and uniqueItems compare objects whatever the order of their fields, and numbers of any type by value', async () => {
    const c = db.collection<AnyDoc>('unordered');
    await c.insertMany([
      { _id: 1, o: { a: 1, b: { c: 1, d: 2 } }, list: [{ a: 1, b: 2 }, { b: 2, a: 1 }] },
      { _id: 2, o: { b: { d: 2, c: 1 }, a: new Long(1) }, list: [new Int32(1), 1.5, Decimal128.fromString('1')] },
      { _id: 3, o: { a: 1 }, list: [{ a: 1 }, { a: 1, b: 2 }, [1, 2], [2, 1]] },
    ]);
    const found = async (schema: AnyDoc) => (await c.find({ $jsonSchema: schema }).toArray()).map((doc) => doc._id);
    expect(await found({ properties: { o: { enum: [{ a: 1, b: { c: 1, d: 2 } }] } } })).toEqual([1, 2]);
    expect(await found({ properties: { list: { uniqueItems: true } } })).toEqual([3]);
  });

  it('an invalid pattern is an error reply, PCRE escapes JavaScript refuses in unicode mode are accepted, and a schema nested past mongod\'s depth limit is refused', async () => {
    await seed();
    const people = db.collection<AnyDoc>('people');
    expect(await failure(people.find({ $jsonSchema: { properties: { name: { pattern: '(' } } } }).toArray())).toMatchObject({ code: 2 });
    expect(await failure(people.find({ $jsonSchema: { patternProperties: { '[': {} } } }).toArray())).toMatchObject({ code: 2 });
    expect(await failure(people.find({ $jsonSchema: { patternProperties: { '^x': {} }, additionalProperties: { pattern: '(' } } }).toArray())).toMatchObject({ code: 2 });
    expect(await ids({ properties: { name: { pattern: '^\\@?[A-C]\\-?' } } })).toEqual([1, 2, 3, 4]);
    // Read with the 'u' flag where JavaScript allows it: '.' is a code point, as in mongod's PCRE.
    expect(await ids({ properties: { name: { pattern: '^.{3}$' } }, required: ['name'] })).toEqual([3, 5]);
    let deep: AnyDoc = {};
    for (let i = 0; i < 5000; i++) deep = { not: deep };
    expect(await failure(people.find({ $jsonSchema: deep }).toArray())).toMatchObject({ code: 15 });
    deep = {};
    for (let i = 0; i < 150; i++) deep = { not: deep };
    expect(await ids(deep)).toEqual([1, 2, 3, 4, 5]);
    expect((await db.command({ ping: 1 })).ok).toBe(1);
  });
});

describe('collection validators', () => {
  const schema = {
    bsonType: 'object',
    required: ['name'],
    properties: { name: { bsonType: 'string', minLength: 2 }, seats: { bsonType: 'int', minimum: 0 } },
  };

  it('a $jsonSchema validator refuses a bad insert, update and findAndModify with 121 and the broken rules, and keeps the document as it was', async () => {
    await db.createCollection('sites', { validator: { $jsonSchema: schema } });
    const sites = db.collection<AnyDoc>('sites');
    await sites.insertOne({ _id: 1, name: 'Cao Lãnh', seats: new Int32(40) });

    const insert = await failure(sites.insertOne({ _id: 2, seats: new Int32(-1) }));
    expect(insert.code).toBe(121);
    expect(insert.errInfo).toEqual({
      failingDocumentId: 2,
      details: {
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [
          { operatorName: 'required', specifiedAs: { required: ['name'] }, missingProperties: ['name'] },
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [{ propertyName: 'seats', details: [{ operatorName: 'minimum', specifiedAs: { minimum: 0 }, reason: 'comparison failed' }] }],
          },
        ],
      },
    });
    expect((await failure(sites.updateOne({ _id: 1 }, { $set: { name: 'X' } }))).code).toBe(121);
    expect((await failure(sites.findOneAndUpdate({ _id: 1 }, { $unset: { name: '' } }))).code).toBe(121);
    expect((await failure(sites.replaceOne({ _id: 1 }, { seats: new Int32(1) }))).code).toBe(121);
    expect(await sites.find().toArray()).toEqual([{ _id: 1, name: 'Cao Lãnh', seats: 40 }]);
  });

  it('bypassDocumentValidation lets a write through; validationAction warn and level off do not check', async () => {
    await db.createCollection('sites', { validator: { $jsonSchema: schema } });
    const sites = db.collection<AnyDoc>('sites');
    await sites.insertOne({ _id: 1 }, { bypassDocumentValidation: true });
    await sites.updateOne({ _id: 1 }, { $set: { seats: 'many' } }, { bypassDocumentValidation: true });
    expect(await sites.findOne({ _id: 1 })).toEqual({ _id: 1, seats: 'many' });
    await db.command({ collMod: 'sites', validationAction: 'warn' });
    await sites.insertOne({ _id: 2 });
    await db.command({ collMod: 'sites', validationAction: 'error', validationLevel: 'off' });
    await sites.insertOne({ _id: 3 });
    expect(await sites.countDocuments()).toBe(3);
  });

  it('level moderate: a document that already failed may change, one that passed must still pass', async () => {
    await db.createCollection('m', { validator: { a: { $exists: true }, b: { $gt: 0 } }, validationLevel: 'moderate' });
    const m = db.collection<AnyDoc>('m');
    await m.insertOne({ _id: 1, x: 1 }, { bypassDocumentValidation: true });
    await m.insertOne({ _id: 2, a: 1, b: 1 });
    await m.updateOne({ _id: 1 }, { $set: { y: 1 } });
    const refused = await failure(m.updateOne({ _id: 2 }, { $set: { b: -1 } }));
    expect(refused.code).toBe(121);
    expect(refused.errInfo?.details).toEqual({ operatorName: '$and', clausesNotSatisfied: [{ operatorName: '$gt', specifiedAs: { b: { $gt: 0 } } }] });
    expect(await m.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, x: 1, y: 1 }, { _id: 2, a: 1, b: 1 }]);
  });

  it('$merge into a validated collection is checked, unless the aggregate bypasses validation', async () => {
    await db.createCollection('target', { validator: { $jsonSchema: schema } });
    await db.collection<AnyDoc>('source').insertMany([{ _id: 1, name: 'A' }]);
    const merge = [{ $merge: { into: 'target' } }];
    expect((await failure(db.collection('source').aggregate(merge).toArray())).code).toBe(121);
    await db.collection('source').aggregate(merge, { bypassDocumentValidation: true }).toArray();
    expect(await db.collection('target').find().toArray()).toEqual([{ _id: 1, name: 'A' }]);
  });

  it('$out into a validated collection keeps its validator and indexes, is checked unless bypassed, and a refused $out leaves the target as it was', async () => {
    const dir = tempDir();
    let disk = await startStore({ dbPath: dir.dir });
    let diskClient = await connect(disk.uri);
    try {
      const d = diskClient.db('out_checked');
      await d.createCollection('target', { validator: { $jsonSchema: schema } });
      await d.collection<AnyDoc>('target').createIndex({ name: 1 }, { unique: true });
      await d.collection<AnyDoc>('target').insertOne({ _id: 'kept', name: 'Kept' });
      await d.collection<AnyDoc>('source').insertMany([{ _id: 1, name: 'A' }, { _id: 2 }]);
      const out = [{ $out: 'target' }];
      expect((await failure(d.collection('source').aggregate(out).toArray())).code).toBe(121);
      await d.collection<AnyDoc>('dupes').insertMany([{ _id: 1, name: 'Same' }, { _id: 2, name: 'Same' }]);
      expect((await failure(d.collection('dupes').aggregate(out).toArray())).code).toBe(11000);
      expect(await d.collection('target').find().toArray()).toEqual([{ _id: 'kept', name: 'Kept' }]);
      await d.collection('source').aggregate(out, { bypassDocumentValidation: true }).toArray();
      expect(await d.collection('target').find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, name: 'A' }, { _id: 2 }]);
      const names = async () => (await d.listCollections().toArray()).map((c) => c.name).sort();
      expect(await names()).toEqual(['dupes', 'source', 'target']);

      await diskClient.close();
      await disk.stop();
      disk = await startStore({ dbPath: dir.dir });
      diskClient = await connect(disk.uri);
      const again = diskClient.db('out_checked');
      expect(await again.listCollections().toArray().then((list) => list.map((c) => c.name).sort())).toEqual(['dupes', 'source', 'target']);
      expect(((await again.listCollections({ name: 'target' }).toArray())[0] as AnyDoc).options.validator).toEqual({ $jsonSchema: schema });
      expect((await again.collection('target').indexes()).map((index) => index.name)).toEqual(['_id_', 'name_1']);
      expect((await failure(again.collection<AnyDoc>('target').insertOne({ _id: 3 }))).code).toBe(121);
      expect(await again.collection('target').countDocuments()).toBe(2);
    } finally {
      await diskClient.close();
      await disk.stop();
      dir.remove();
    }
  });

  it('create and collMod refuse a validator mongod would refuse, and unknown levels and actions', async () => {
    expect(await failure(db.createCollection('bad', { validator: { $jsonSchema: { bogus: 1 } } }))).toMatchObject({ code: 9 });
    expect(await failure(db.createCollection('bad', { validator: { $nope: 1 } }))).toMatchObject({ code: 2 });
    expect(await failure(db.createCollection('bad', { validator: { a: 1 }, validationLevel: 'sometimes' as never }))).toMatchObject({ code: 2 });
    await db.createCollection('ok');
    expect(await failure(db.command({ collMod: 'ok', validator: { $jsonSchema: { type: 'integer' } } }))).toMatchObject({ code: 9 });
    expect(await failure(db.command({ collMod: 'ok', validationAction: 'shout' }))).toMatchObject({ code: 2 });
    expect((await db.listCollections({ name: 'bad' }).toArray()).length).toBe(0);
    expect(((await db.listCollections({ name: 'ok' }).toArray())[0] as AnyDoc).options).toEqual({});
  });
});
