// An aggregate decodes only the fields its stages read (the leading $match's documents and a
// $lookup's joined ones, see server/embedded-mongo/pipeline-deps.ts). The answers must be exactly
// those of decoding whole documents: every pipeline here runs with the narrowing on and off
// (setParameter internalPipelineOptimizations) and the replies are compared in
// canonical Extended JSON, so BSON types (Int32, Double, Long, Decimal128) count as well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EJSON } from 'bson';
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, type Document, type MongoClient } from 'mongodb';
import { connect, startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let client: MongoClient;

const meeting = new ObjectId();
const other = new ObjectId();
const people: Document[] = Array.from({ length: 40 }, (_, i) => ({
  _id: new ObjectId(),
  meetingId: i % 5 === 4 ? other : meeting,
  name: `Đại biểu ${i}`,
  ...(i % 3 === 0 ? {} : { organization: i % 2 ? 'Sở Y tế' : 'UBND tỉnh' }),
  role: ['delegate', 'guest', 'speaker'][i % 3],
  ...(i % 4 === 0 ? { walkIn: true } : {}),
  tags: i % 6 === 0 ? [] : ['a', `t${i % 3}`],
  profile: { age: new Int32(20 + i), score: i % 2 ? new Double(i) : new Long(i), city: i % 2 ? 'Huế' : null },
  total: new Int32(i),
}));

const records: Document[] = people.flatMap((person, i) => [
  {
    _id: new ObjectId(),
    meetingId: person.meetingId,
    attendeeId: person._id,
    ...(i % 7 === 0 ? {} : { siteId: i % 2 ? 's1' : 's2' }),
    status: ['present', 'absent', 'late'][i % 3],
    ...(i % 3 === 1 ? { absence: { reason: i % 2 ? 'ốm' : 'công tác', note: 'x' } } : {}),
    late: i % 5 === 0,
    weight: i % 2 ? new Decimal128(`${i}.5`) : new Double(i / 2),
    ids: i % 4 === 0 ? [person._id, people[(i + 1) % people.length]._id] : person._id,
    nested: { a: { b: i % 3 }, list: [{ k: i }, { k: i + 1 }] },
    ...(i % 9 === 0 ? { extra: 'only some' } : {}),
  },
]);
// Records with odd shapes: a missing attendee, a null one, an array of attendees.
records.push({ _id: new ObjectId(), meetingId: meeting, attendeeId: new ObjectId(), status: 'present', nested: null });
records.push({ _id: new ObjectId(), meetingId: meeting, attendeeId: null, status: 'absent', siteId: ['s1', 's2'] });
records.push({ _id: 7, meetingId: meeting, attendeeId: people[1]._id, status: 'present', total: new Double(3), count: new Int32(1) });

// Values a counting $group keys on: equal numbers of every BSON type, look-alike strings, null and
// missing, arrays, documents in two key orders, dates, ObjectIds, regexes; Binary is not keyed
// natively (mingo groups those).
const day = new Date('2026-12-06T08:00:00Z');
const id = new ObjectId();
const shapeValues: unknown[] = [
  new Int32(1), new Double(1), new Long(1), new Decimal128('1'), new Double(1.5), new Double(-0), new Int32(0), '1', 'một', '', null, undefined,
  true, false, [1, 2], [2, 1], [], [[1]], { a: 1, b: 2 }, { b: 2, a: 1 }, { a: { b: null } }, { a: {} }, day, new Date(day.getTime()), id, new ObjectId(id.toHexString()),
  new BSONRegExp('^a', 'i'), new BSONRegExp('^a', ''),
];
const shapes: Document[] = Array.from({ length: 200 }, (_, i) => {
  const value = shapeValues[(i * 5) % shapeValues.length];
  const other = shapeValues[(i * 3) % shapeValues.length];
  return {
    _id: i,
    kind: i % 3 ? 'x' : 'y',
    ...(value === undefined ? {} : { v: value }),
    ...(other === undefined ? {} : { nested: { w: other, z: i % 2 } }),
    ...(i % 11 === 0 ? { v2: [{ w: value === undefined ? null : value }, { w: i % 2 }] } : {}),
    ...(i === 100 ? { bin: new Binary(Buffer.from([1, 2, 3])) } : {}),
  };
});

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  const db = client.db('narrowing');
  await db.collection('people').insertMany(people);
  await db.collection('records').createIndex({ meetingId: 1 });
  await db.collection('records').insertMany(records);
  await db.collection('shapes').insertMany(shapes);
  await db.collection<{ _id: string; name: string; order?: unknown }>('sites').insertMany([{ _id: 's1', name: 'Hà Nội', order: new Int32(1) }, { _id: 's2', name: 'Huế', order: new Long(2) }, { _id: 's3', name: 'Đà Nẵng' }]);
});

afterAll(async () => {
  await client.close();
  await store.stop();
});

async function setNarrowing(on: boolean): Promise<void> {
  await client.db('admin').command({ setParameter: 1, internalPipelineOptimizations: on });
}

/** The pipeline's reply with and without narrowing, as canonical Extended JSON. */
async function both(collection: string, pipeline: Document[]): Promise<{ narrowed: string; whole: string; rows: Document[] }> {
  const run = async () => client.db('narrowing').collection(collection).aggregate(pipeline).toArray();
  await setNarrowing(false);
  const whole = await run();
  await setNarrowing(true);
  const narrowed = await run();
  return { narrowed: EJSON.stringify(narrowed, { relaxed: false }), whole: EJSON.stringify(whole, { relaxed: false }), rows: narrowed };
}

const match = { $match: { meetingId: meeting } };
const join = { $lookup: { from: 'people', localField: 'attendeeId', foreignField: '_id', as: 'person' } };

const cases: Array<[string, string, Document[]]> = [
  ['the report\'s invited pipeline', 'people', [
    { $match: { meetingId: meeting, walkIn: { $ne: true } } },
    { $group: { _id: { siteId: '$siteId', organization: { $ifNull: ['$organization', ''] }, role: '$role' }, invited: { $sum: 1 } } },
    { $sort: { '_id.role': 1, '_id.organization': 1 } },
  ]],
  ['the report\'s states pipeline', 'records', [
    match, join, { $unwind: '$person' },
    { $group: {
      _id: { siteId: '$siteId', organization: { $ifNull: ['$person.organization', ''] }, role: '$person.role', status: '$status', reason: { $ifNull: ['$absence.reason', null] }, late: { $eq: ['$late', true] }, walkIn: { $or: [{ $eq: ['$walkIn', true] }, { $eq: ['$person.walkIn', true] }] } },
      count: { $sum: 1 },
    } },
    { $sort: { count: -1, '_id.role': 1, '_id.status': 1, '_id.reason': 1, '_id.siteId': 1, '_id.organization': 1, '_id.late': 1 } },
  ]],
  ['accumulators of nested paths and arrays (types kept)', 'records', [
    match,
    { $group: { _id: '$status', n: { $sum: 1 }, w: { $sum: '$weight' }, lo: { $min: '$nested.a.b' }, hi: { $max: '$weight' }, first: { $first: '$nested.list.k' }, last: { $last: '$absence' }, all: { $push: '$ids' }, set: { $addToSet: '$siteId' } } },
    { $sort: { _id: 1 } },
  ]],
  ['$push of $$ROOT (whole documents)', 'records', [match, { $sort: { _id: 1 } }, { $group: { _id: '$status', docs: { $push: '$$ROOT' } } }, { $sort: { _id: 1 } }]],
  ['$$CURRENT.path and $$ROOT.path', 'records', [match, { $group: { _id: '$$CURRENT.status', r: { $push: '$$ROOT.nested.a' } } }, { $sort: { _id: 1 } }]],
  ['$mergeObjects of $$ROOT', 'records', [match, { $sort: { _id: 1 } }, { $project: { m: { $mergeObjects: ['$$ROOT', { extra: 1 }] } } }]],
  ['$getField names a field without a path', 'records', [match, { $sort: { _id: 1 } }, { $project: { e: { $getField: 'extra' }, s: { $getField: { field: 'status', input: '$$CURRENT' } } } }]],
  ['inclusion $project with nested paths and a computed field', 'records', [match, { $sort: { _id: 1 } }, { $project: { 'nested.a': 1, absence: { reason: 1 }, w: { $multiply: ['$weight', 2] }, gone: '$$REMOVE' } }]],
  ['inclusion $project without _id', 'records', [match, { $sort: { status: 1, _id: 1 } }, { $project: { _id: 0, status: 1, extra: 1 } }]],
  ['exclusion $project passes the rest on', 'records', [match, { $project: { nested: 0, weight: 0 } }, { $sort: { _id: 1 } }]],
  ['$sort and $limit only: documents reach the reply whole', 'records', [match, { $sort: { status: 1, _id: -1 } }, { $limit: 9 }]],
  ['$addFields then $group', 'records', [match, { $addFields: { s: { $concat: ['$status', '-', { $cond: [{ $isArray: '$siteId' }, 'many', { $ifNull: ['$siteId', 'none'] }] }] }, n: { $size: { $ifNull: ['$nested.list', []] } } } }, { $group: { _id: '$s', n: { $sum: '$n' } } }, { $sort: { _id: 1 } }]],
  ['$set of $$ROOT then $group', 'records', [match, { $set: { copy: '$$ROOT' } }, { $group: { _id: '$copy.status', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]],
  ['a later $match, $unwind of an array of documents', 'records', [match, { $match: { 'absence.reason': { $exists: true } } }, { $unwind: { path: '$nested.list', includeArrayIndex: 'i' } }, { $group: { _id: '$i', k: { $sum: '$nested.list.k' } } }, { $sort: { _id: 1 } }]],
  ['$expr on $$ROOT in a later $match', 'records', [match, { $match: { $expr: { $gt: [{ $size: { $objectToArray: '$$ROOT' } }, 9] } } }, { $count: 'n' }]],
  ['$let, $map with $$this and system variables', 'records', [match, { $group: { _id: { $let: { vars: { s: '$status' }, in: { $toUpper: '$$s' } } }, ks: { $push: { $map: { input: { $ifNull: ['$nested.list', []] }, in: '$$this.k' } } }, now: { $max: { $type: '$$NOW' } } } }, { $sort: { _id: 1 } }]],
  ['$count', 'records', [match, { $count: 'records' }]],
  ['$sortByCount', 'records', [match, { $sortByCount: '$status' }, { $sort: { count: -1, _id: 1 } }]],
  ['$bucket', 'people', [{ $match: { meetingId: meeting } }, { $bucket: { groupBy: '$profile.age', boundaries: [0, 30, 40, 100], default: 'other', output: { n: { $sum: 1 }, names: { $push: '$name' } } } }]],
  ['$top with sortBy names fields without "$"', 'people', [{ $match: { meetingId: meeting } }, { $group: { _id: '$role', top: { $top: { sortBy: { total: -1 }, output: ['$name', '$profile.score'] } } } }, { $sort: { _id: 1 } }]],
  ['$group on _id with accumulators named like stored fields', 'records', [match, { $group: { _id: '$_id', total: { $sum: 3 }, count: { $sum: 1 } } }, { $sort: { _id: 1 } }]],
  ['$lookup joined documents reach the reply', 'records', [match, { $sort: { _id: 1 } }, { $limit: 5 }, join]],
  ['$lookup then the joined array is projected whole', 'records', [match, join, { $sort: { _id: 1 } }, { $project: { person: 1 } }]],
  ['$lookup into a nested path beside local fields', 'records', [
    match, { $lookup: { from: 'people', localField: 'attendeeId', foreignField: '_id', as: 'nested.person' } },
    { $group: { _id: { b: '$nested.a.b', roles: '$nested.person.role' }, n: { $sum: 1 } } }, { $sort: { n: -1, '_id.b': 1 } },
  ]],
  ['$lookup on an array of ids, unwinding a field of the joined documents', 'records', [
    match, { $lookup: { from: 'people', localField: 'ids', foreignField: '_id', as: 'who' } },
    { $unwind: '$who.tags' }, { $group: { _id: '$who.tags', n: { $sum: 1 }, ages: { $addToSet: '$who.profile.age' } } }, { $sort: { _id: 1 } },
  ]],
  ['$lookup with preserveNullAndEmptyArrays and a second $lookup', 'records', [
    match, join, { $unwind: { path: '$person', preserveNullAndEmptyArrays: true } },
    { $lookup: { from: 'records', localField: 'person._id', foreignField: 'attendeeId', as: 'again' } },
    { $group: { _id: { $ifNull: ['$person.role', 'none'] }, n: { $sum: 1 }, again: { $sum: { $size: '$again' } }, statuses: { $addToSet: '$again.status' } } }, { $sort: { _id: 1 } },
  ]],
  ['$lookup with let and a sub-pipeline', 'records', [
    match, { $lookup: { from: 'people', let: { id: '$attendeeId' }, pipeline: [{ $match: { $expr: { $eq: ['$_id', '$$id'] } } }, { $project: { role: 1 } }], as: 'p' } },
    { $group: { _id: { $first: '$p.role' }, n: { $sum: 1 } } }, { $sort: { _id: 1 } },
  ]],
  ['counting $group on values of every type', 'shapes', [{ $match: { kind: 'x' } }, { $group: { _id: '$v', n: { $sum: 1 }, twice: { $sum: 2 }, minus: { $sum: -1 }, zero: { $sum: 0 } } }]],
  ['counting $group on a document of paths into documents and arrays', 'shapes', [{ $match: {} }, { $group: { _id: { v: '$v', w: '$nested.w', z: '$nested.z', ws: '$v2.w', t: { $type: '$v' } }, n: { $sum: 1 } } }]],
  ['counting $group on a computed key', 'shapes', [{ $match: {} }, { $group: { _id: { $cond: [{ $isNumber: '$v' }, { $gt: ['$v', 0] }, { $ifNull: ['$nested.w', 'none'] }] }, n: { $sum: 1 } } }]],
  ['counting $group on a constant, then $sort', 'shapes', [{ $match: { kind: 'y' } }, { $group: { _id: null, n: { $sum: 1 } } }]],
  ['counting $group reaching a Binary value', 'shapes', [{ $match: {} }, { $group: { _id: { v: '$v', b: '$bin' }, n: { $sum: 1 } } }]],
  ['$group with other accumulators beside counts', 'shapes', [{ $match: {} }, { $group: { _id: '$kind', n: { $sum: 1 }, first: { $first: '$_id' }, last: { $last: '$_id' } } }, { $sort: { _id: 1 } }]],
  ['$group counting twice in a row', 'shapes', [{ $match: {} }, { $group: { _id: { k: '$kind', z: '$nested.z' }, n: { $sum: 1 } } }, { $group: { _id: '$n', groups: { $sum: 1 } } }, { $sort: { _id: 1 } }]],
  ['a join on ObjectIds only (keyed natively), counted', 'records', [
    { $match: { meetingId: meeting, attendeeId: { $type: 'objectId' } } }, join, { $unwind: '$person' },
    { $group: { _id: { role: '$person.role', organization: { $ifNull: ['$person.organization', ''] }, walkIn: { $or: [{ $eq: ['$walkIn', true] }, { $eq: ['$person.walkIn', true] }] } }, count: { $sum: 1 } } },
  ]],
  ['a join on ObjectIds only, joined documents reach the reply', 'records', [{ $match: { meetingId: meeting, attendeeId: { $type: 'objectId' } } }, join, { $sort: { _id: -1 } }, { $limit: 12 }]],
  ['a join on ObjectIds only, into a nested path', 'records', [
    { $match: { meetingId: meeting, attendeeId: { $type: 'objectId' } } }, { $lookup: { from: 'people', localField: 'attendeeId', foreignField: '_id', as: 'nested.person' } },
    { $project: { _id: 0, n: { $size: { $ifNull: ['$nested.person', []] } }, roles: '$nested.person.role', all: '$$ROOT' } }, { $sort: { 'all._id': 1 } },
  ]],
  ['a join on strings, with $first of the joined values', 'records', [
    { $match: { meetingId: meeting, siteId: { $type: 'string' }, 'siteId.0': { $exists: false } } }, { $lookup: { from: 'sites', localField: 'siteId', foreignField: '_id', as: 'site' } },
    { $group: { _id: { $first: '$site.name' }, n: { $sum: 1 }, order: { $max: { $first: '$site.order' } } } }, { $sort: { _id: 1 } },
  ]],
  ['$lookup with $$ROOT of the joined side', 'records', [match, join, { $unwind: '$person' }, { $replaceRoot: { newRoot: '$person' } }, { $sort: { _id: 1 } }]],
];

describe('aggregate field narrowing', () => {
  for (const [name, collection, pipeline] of cases) {
    it(`gives the same answer as whole documents: ${name}`, async () => {
      const { narrowed, whole, rows } = await both(collection, pipeline);
      expect(rows.length).toBeGreaterThan(0);
      expect(narrowed).toBe(whole);
    });
  }

  it('counts the report\'s states as read from the raw documents', async () => {
    const { rows } = await both('records', [match, join, { $unwind: '$person' }, { $group: { _id: { role: '$person.role', status: '$status' }, count: { $sum: 1 } } }]);
    const byId = new Map(people.map((person) => [String(person._id), person]));
    const expected = new Map<string, number>();
    for (const record of records) {
      const person = record.attendeeId ? byId.get(String(record.attendeeId)) : undefined;
      if (!person || !record.meetingId.equals(meeting)) continue;
      const key = `${person.role}/${record.status}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map(rows.map((row) => [`${row._id.role}/${row._id.status}`, row.count]))).toEqual(expected);
  });

  it('reports the parameter and lets it be switched', async () => {
    await setNarrowing(false);
    const off = await client.db('admin').command({ getParameter: 1, internalPipelineOptimizations: 1 });
    await setNarrowing(true);
    const on = await client.db('admin').command({ getParameter: 1, internalPipelineOptimizations: 1 });
    expect([off.internalPipelineOptimizations, on.internalPipelineOptimizations]).toEqual([false, true]);
  });
});

// A find decodes only the fields its filter and sort read while matching (arrays of scalars
// element by element, document-store.ts), then, with a projection, decodes whole only the
// documents it replies with. Its answers must be those of the same query over whole documents.
describe('find field narrowing', () => {
  const findCases: Array<[string, string, Document, Document, Document | undefined]> = [
    ['an exclusion projection, sorted, a page', 'people', { meetingId: meeting }, { name: 1, _id: 1 }, { tags: 0, profile: 0 }],
    ['an inclusion projection, matching an array of strings', 'people', { tags: 't1' }, { _id: 1 }, { name: 1, tags: 1 }],
    ['a regex on an array of strings, sorted by another field', 'people', { meetingId: meeting, tags: { $regex: '^t' } }, { total: -1 }, { total: 1, tags: 1, organization: 1 }],
    ['an array of ObjectIds in the filter', 'records', { ids: people[0]._id }, { _id: 1 }, { status: 0 }],
    ['numbers of several types inside arrays', 'shapes', { v: 1 }, { _id: 1 }, { kind: 1, v: 1 }],
    ['nested arrays and arrays of documents', 'shapes', { $or: [{ v: { $size: 1 } }, { 'v2.w': 1 }] }, { _id: 1 }, { v: 1, v2: 1 }],
    ['arrays read by the filter, no projection (stored bytes)', 'shapes', { v: { $in: [2, 'một'] } }, { _id: 1 }, undefined],
  ];
  for (const [name, collection, filter, sort, projection] of findCases) {
    it(`gives the same answer as whole documents: ${name}`, async () => {
      const found = await client.db('narrowing').collection(collection).find(filter, { sort, ...(projection ? { projection } : {}), limit: 25 }).toArray();
      await setNarrowing(false);
      const whole = await client.db('narrowing').collection(collection).aggregate([{ $match: filter }, { $sort: sort }, { $limit: 25 }, ...(projection ? [{ $project: projection }] : [])]).toArray();
      await setNarrowing(true);
      expect(found.length).toBeGreaterThan(0);
      expect(EJSON.stringify(found, { relaxed: false })).toBe(EJSON.stringify(whole, { relaxed: false }));
    });
  }
});
