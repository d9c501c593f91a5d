// Compound index plans: equality on an index's leading fields, then a range (an anchored regex is
// one) or the sort's order on the next field. Results must be exactly those of a full scan; the
// planner tests check that the index narrows the work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectId, type Collection as DriverCollection, type MongoClient } from 'mongodb';
import { Index } from '../../server/embedded-mongo/indexes.js';
import { planCandidates, planOrderedScan } from '../../server/embedded-mongo/planner.js';
import { connect, startStore, type RunningStore } from './helpers.js';

interface Row {
  _id: ObjectId;
  meetingId: number;
  siteId: number;
  name: string;
  tokens: string[];
}

const words = ['nguyen', 'van', 'thi', 'tran', 'le', 'nguy', 'an', 'vanh', 'a.b', 'a+b'];

function rows(): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < 600; i++) {
    const tokens = [words[i % words.length], words[(i * 3 + 1) % words.length], `n${i % 13}`];
    // Names repeat, so the sort's tie-break (_id) matters at page boundaries.
    out.push({ _id: new ObjectId(), meetingId: i % 3, siteId: i % 7, name: `${tokens[0]} ${String(i % 40).padStart(2, '0')}`, tokens });
  }
  return out;
}

const byNameThenId = (a: Row, b: Row) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a._id.toHexString() < b._id.toHexString() ? -1 : 1);
const startsWithToken = (row: Row, prefix: string) => row.tokens.some((token) => token.startsWith(prefix));

describe('compound index plans give the same answers as a full scan', () => {
  let store: RunningStore;
  let client: MongoClient;
  let people: DriverCollection<Row>;
  let data: Row[];

  beforeAll(async () => {
    store = await startStore();
    client = await connect(store.uri);
    people = client.db('plans').collection<Row>('people');
    data = rows();
    // Half inserted before the indexes exist (index build), half after (index maintenance).
    await people.insertMany(data.slice(0, 300));
    await people.createIndexes([{ key: { meetingId: 1, name: 1 } }, { key: { meetingId: 1, siteId: 1, name: 1 } }, { key: { meetingId: 1, tokens: 1 } }]);
    await people.insertMany(data.slice(300));
  });

  afterAll(async () => {
    await client?.close();
    await store?.stop();
  });

  const ids = (list: Row[]) => list.map((row) => row._id.toHexString());

  it('pages through one meeting by name (ties ordered by _id), with skip', async () => {
    const expected = data.filter((row) => row.meetingId === 1).sort(byNameThenId);
    for (const [skip, limit] of [[0, 10], [0, 50], [7, 13], [190, 50]]) {
      const page = await people.find({ meetingId: 1 }).sort({ name: 1, _id: 1 }).skip(skip).limit(limit).toArray();
      expect(ids(page)).toEqual(ids(expected.slice(skip, skip + limit)));
    }
    expect(await people.countDocuments({ meetingId: 1 })).toBe(expected.length);
  });

  it('filters by an equality on the second field and sorts by the third', async () => {
    const expected = data.filter((row) => row.meetingId === 2 && row.siteId === 4).sort(byNameThenId);
    const page = await people.find({ meetingId: 2, siteId: 4 }).sort({ name: 1, _id: 1 }).limit(20).toArray();
    expect(ids(page)).toEqual(ids(expected.slice(0, 20)));
    expect(await people.countDocuments({ siteId: 4, meetingId: 2 })).toBe(expected.length);
  });

  it('finds word prefixes in an array through a multikey index, each document once', async () => {
    const expected = data.filter((row) => row.meetingId === 0 && startsWithToken(row, 'nguy') && startsWithToken(row, 'van')).sort(byNameThenId);
    expect(expected.length).toBeGreaterThan(0);
    const filter = { meetingId: 0, $and: [{ tokens: /^nguy/ }, { tokens: { $regex: '^van' } }] };
    const found = await people.find(filter).sort({ name: 1, _id: 1 }).toArray();
    expect(ids(found)).toEqual(ids(expected));
    expect(await people.countDocuments(filter)).toBe(expected.length);
  });

  it('pages a search with many candidates in the sort order (walking the name index past non-candidates) as a full scan does', async () => {
    // Every row has an `n<k>` word, a third an `a…` word: far more candidates than the page holds.
    for (const [prefix, second] of [['n', undefined], ['a', undefined], ['nguy', 'n1'], ['t', 'n1']] as const) {
      const expected = data.filter((row) => row.meetingId === 0 && startsWithToken(row, prefix) && (!second || startsWithToken(row, second))).sort(byNameThenId);
      expect(expected.length).toBeGreaterThan(10);
      const filter = second ? { meetingId: 0, $and: [{ tokens: new RegExp(`^${prefix}`) }, { tokens: new RegExp(`^${second}`) }] } : { meetingId: 0, tokens: new RegExp(`^${prefix}`) };
      for (const [skip, limit] of [[0, 10], [5, 7], [0, 3]]) {
        const page = await people.find(filter).sort({ name: 1, _id: 1 }).skip(skip).limit(limit).toArray();
        expect(ids(page), `${prefix} ${second ?? ''} skip ${skip} limit ${limit}`).toEqual(ids(expected.slice(skip, skip + limit)));
      }
    }
  });

  it('gives up walking in order when the candidates sort last (a large meeting, a rare late name) and still answers as a full scan does', async () => {
    const late = client.db('plans').collection<Row>('late');
    await late.createIndexes([{ key: { meetingId: 1, name: 1 } }, { key: { meetingId: 1, tokens: 1 } }]);
    // 2,000 early names and 30 late ones: 30 candidates may skip 4 entries each (120), not 2,000.
    const rows: Row[] = Array.from({ length: 2030 }, (_, i) => {
      const isLate = i % 67 === 0 && i / 67 < 30;
      return { _id: new ObjectId(), meetingId: 1, siteId: 0, name: isLate ? `zz ${String(i).padStart(4, '0')}` : `aa ${String(i).padStart(4, '0')}`, tokens: isLate ? ['zz', 'late'] : ['aa'] };
    });
    await late.insertMany(rows);
    const expected = rows.filter((row) => row.tokens.includes('zz')).sort(byNameThenId);
    expect(expected.length).toBe(30);
    const page = await late.find({ meetingId: 1, tokens: /^zz/ }).sort({ name: 1, _id: 1 }).limit(10).toArray();
    expect(ids(page)).toEqual(ids(expected.slice(0, 10)));
    const lastPage = await late.find({ meetingId: 1, tokens: /^zz/ }).sort({ name: 1, _id: 1 }).skip(25).limit(10).toArray();
    expect(ids(lastPage)).toEqual(ids(expected.slice(25)));
  });

  it('a walk that gives up does not decode again the candidates it already read', async () => {
    const sparse = client.db('plans').collection<Row>('sparse');
    await sparse.createIndexes([{ key: { meetingId: 1, name: 1 } }, { key: { meetingId: 1, tokens: 1 } }]);
    // One row in 20 is a candidate (more than the 4 entries per candidate a walk may pass), and
    // another condition rejects all but the last few: the walk reads most candidates, then gives up.
    const rows: Row[] = Array.from({ length: 2040 }, (_, i) => ({
      _id: new ObjectId(),
      meetingId: 3,
      siteId: i % 20 === 0 && i > 1900 ? 1 : 0,
      name: `n ${String(i).padStart(4, '0')}`,
      tokens: i % 20 === 0 ? ['hit'] : ['miss'],
    }));
    await sparse.insertMany(rows);
    const candidates = rows.filter((row) => row.tokens.includes('hit')).length;
    const expected = rows.filter((row) => row.tokens.includes('hit') && row.siteId === 1).sort(byNameThenId);
    const decoded = async () => Number((await client.db('admin').command({ serverStatus: 1 })).metrics.queryExecutor.scannedObjects);
    const before = await decoded();
    const page = await sparse.find({ meetingId: 3, tokens: /^hit/, siteId: 1 }).sort({ name: 1, _id: 1 }).limit(5).toArray();
    const reads = (await decoded()) - before;
    expect(ids(page)).toEqual(ids(expected.slice(0, 5)));
    // Each candidate decoded once (reading all of them twice was twice the plain plan's work).
    expect(reads).toBeLessThanOrEqual(candidates);
  });

  it('treats escaped characters literally and leaves case-insensitive or unanchored regexes to the matcher', async () => {
    const dotted = data.filter((row) => row.meetingId === 1 && startsWithToken(row, 'a.b'));
    expect(await people.countDocuments({ meetingId: 1, tokens: /^a\.b/ })).toBe(dotted.length);
    const plus = data.filter((row) => row.meetingId === 1 && startsWithToken(row, 'a+b'));
    expect(await people.countDocuments({ meetingId: 1, tokens: /^a\+b/ })).toBe(plus.length);
    const insensitive = data.filter((row) => row.meetingId === 1 && row.tokens.some((token) => token.toLowerCase().startsWith('van')));
    expect(await people.countDocuments({ meetingId: 1, tokens: /^VAN/i })).toBe(insensitive.length);
    const inside = data.filter((row) => row.meetingId === 1 && row.tokens.some((token) => token.includes('an')));
    expect(await people.countDocuments({ meetingId: 1, tokens: /an/ })).toBe(inside.length);
  });

  it('answers an $in on a compound prefix, and an equality a partial index requires, as a full scan does', async () => {
    const sites = client.db('plans').collection<{ meetingId: number; order: number; isMain?: boolean | boolean[] | null }>('sites');
    const all = Array.from({ length: 60 }, (_, i) => ({ meetingId: i % 12, order: i, isMain: i % 5 === 0 ? true : i % 7 === 0 ? [false, true] : i % 11 === 0 ? null : false }));
    await sites.insertMany(all);
    await sites.createIndexes([{ key: { meetingId: 1, order: 1 } }, { key: { meetingId: 1, isMain: 1 }, partialFilterExpression: { isMain: true } }]);
    const orders = async (filter: object) => (await sites.find(filter).toArray()).map((site) => site.order).sort((a, b) => a - b);
    const scanned = (filter: object) => all.filter((site) => (site.isMain === true || (Array.isArray(site.isMain) && site.isMain.includes(true))) && (!('meetingId' in filter) || [3, 4, 5, 9, 99].includes(site.meetingId))).map((site) => site.order);
    expect(await orders({ meetingId: { $in: [3, 4, 5, 9, 99, 4] }, isMain: true })).toEqual(scanned({ meetingId: true }));
    expect(await orders({ isMain: true })).toEqual(scanned({}));
    expect(await orders({ meetingId: { $in: [3, 4] }, order: { $gte: 20 } })).toEqual(all.filter((site) => [3, 4].includes(site.meetingId) && site.order >= 20).map((site) => site.order));
    expect(await orders({ meetingId: { $in: [] }, isMain: true })).toEqual([]);
    // isMain: false is not what the partial index holds: the answer must still be complete.
    expect(await orders({ meetingId: { $in: [0, 1] }, isMain: false })).toEqual(all.filter((site) => [0, 1].includes(site.meetingId) && (site.isMain === false || (Array.isArray(site.isMain) && site.isMain.includes(false)))).map((site) => site.order));
  });

  it('sorts by a field whose index key is descending, either way, with a limit', async () => {
    const revisions = client.db('plans').collection<{ meetingId: number; revision: number }>('revisions');
    await revisions.createIndex({ meetingId: 1, revision: -1 });
    await revisions.insertMany([4, 1, 7, 3, 6, 2, 5].map((revision) => ({ meetingId: 1, revision })));
    await revisions.insertOne({ meetingId: 2, revision: 9 });
    const newest = await revisions.find({ meetingId: 1 }).sort({ revision: -1 }).limit(3).toArray();
    expect(newest.map((entry) => entry.revision)).toEqual([7, 6, 5]);
    const oldest = await revisions.find({ meetingId: 1 }).sort({ revision: 1 }).skip(1).limit(3).toArray();
    expect(oldest.map((entry) => entry.revision)).toEqual([2, 3, 4]);
  });

  it('answers equalities on unique single-field indexes (multikey, missing field, $in, mixed types) next to a wider index as a full scan does', async () => {
    // The planner prefers an equality on a unique single-field index to one on the first field of a
    // wider index ({ meetingId, rank }, rank never queried): whatever it picks must still find every
    // match (a missing field equals null; an array field matches each element).
    interface Code { _id: number; meetingId: number; code?: string | number; tags: string[] }
    const codes = client.db('plans').collection<Code>('codes');
    const all: Code[] = [];
    for (let i = 0; i < 120; i++) {
      const row: Code = { _id: i, meetingId: i % 3, tags: [`t${i}`, `u${i}`] };
      if (i !== 7) row.code = i === 11 ? 11 : `c${i}`;
      all.push(row);
    }
    await codes.insertMany(all.slice(0, 60));
    await codes.createIndexes([{ key: { code: 1 }, unique: true }, { key: { tags: 1 }, unique: true }, { key: { meetingId: 1, rank: 1 } }]);
    await codes.insertMany(all.slice(60));
    const equal = (value: unknown, wanted: unknown) => (Array.isArray(value) ? value.includes(wanted) : (value ?? null) === wanted);
    const filters: Array<[Record<string, unknown>, (row: Code) => boolean]> = [
      [{ meetingId: 2, code: 'c5' }, (row) => row.meetingId === 2 && row.code === 'c5'],
      [{ meetingId: 0, code: 'c5' }, () => false],
      [{ meetingId: 1, code: null }, (row) => row.meetingId === 1 && equal(row.code, null)],
      [{ code: null, meetingId: 0 }, (row) => row.meetingId === 0 && equal(row.code, null)],
      [{ meetingId: 2, code: 11 }, (row) => row.meetingId === 2 && row.code === 11],
      [{ meetingId: 2, code: '11' }, () => false],
      [{ meetingId: 1, code: { $eq: 'c100' } }, (row) => row.meetingId === 1 && row.code === 'c100'],
      [{ meetingId: 1, code: { $in: ['c1', 'c4', 'c5', null] } }, (row) => row.meetingId === 1 && ['c1', 'c4', 'c5', null].some((v) => equal(row.code, v))],
      [{ meetingId: 0, tags: 'u99' }, (row) => row.meetingId === 0 && equal(row.tags, 'u99')],
      [{ tags: 't40', meetingId: 1 }, (row) => row.meetingId === 1 && equal(row.tags, 't40')],
      [{ _id: 42, meetingId: 0, tags: 'u42', code: 'c42' }, (row) => row._id === 42],
      [{ _id: 42, meetingId: 1 }, () => false],
    ];
    for (const [filter, matches] of filters) {
      const found = (await codes.find(filter).toArray()).map((row) => row._id).sort((a, b) => a - b);
      expect({ filter, found }).toEqual({ filter, found: all.filter(matches).map((row) => row._id) });
    }
  });

  it('keeps the order of a descending sort the index does not walk', async () => {
    const expected = data.filter((row) => row.meetingId === 1).sort((a, b) => -byNameThenId(a, b));
    const page = await people.find({ meetingId: 1 }).sort({ name: -1, _id: -1 }).limit(15).toArray();
    expect(ids(page)).toEqual(ids(expected.slice(0, 15)));
  });
});

describe('the planner', () => {
  const docs = rows();
  const byMeetingName = new Index({ v: 2, key: { meetingId: 1, name: 1 }, name: 'meetingId_1_name_1' });
  const byMeetingSiteName = new Index({ v: 2, key: { meetingId: 1, siteId: 1, name: 1 }, name: 'meetingId_1_siteId_1_name_1' });
  const byMeetingTokens = new Index({ v: 2, key: { meetingId: 1, tokens: 1 }, name: 'meetingId_1_tokens_1' });
  const indexes = [byMeetingName, byMeetingSiteName, byMeetingTokens];
  docs.forEach((doc, rid) => indexes.forEach((index) => index.add(rid, index.keysFor(doc as unknown as Record<string, unknown>))));

  it('finds one document by _id when the filter also names the meeting, rather than walking the meeting', () => {
    const byId = new Index({ v: 2, key: { _id: 1 }, name: '_id_' });
    docs.forEach((doc, rid) => byId.add(rid, byId.keysFor(doc as unknown as Record<string, unknown>)));
    const wanted = docs[123];
    // The meeting's indexes come first in the list, and the filter names the meeting first.
    expect(planCandidates({ meetingId: wanted.meetingId, _id: wanted._id }, [...indexes, byId])).toEqual([123]);
  });

  it('narrows to both equality fields of a compound index', () => {
    const rids = planCandidates({ meetingId: 2, siteId: 4 }, indexes)!;
    expect(rids.length).toBe(docs.filter((doc) => doc.meetingId === 2 && doc.siteId === 4).length);
  });

  it('narrows an $in on the leading field to the entries of each value, and uses a partial index whose condition the filter makes', () => {
    const rids = planCandidates({ meetingId: { $in: [0, 2] }, siteId: 4 }, indexes)!;
    expect(rids.sort((a, b) => a - b)).toEqual(docs.flatMap((doc, rid) => ([0, 2].includes(doc.meetingId) && doc.siteId === 4 ? [rid] : [])));
    const firsts = new Index({ v: 2, key: { meetingId: 1, siteId: 1 }, name: 'firsts', partialFilterExpression: { siteId: 0 } });
    docs.forEach((doc, rid) => firsts.add(rid, firsts.keysFor(doc as unknown as Record<string, unknown>)));
    expect(planCandidates({ meetingId: { $in: [1, 2] }, siteId: 0 }, [firsts])!.sort((a, b) => a - b)).toEqual(docs.flatMap((doc, rid) => ([1, 2].includes(doc.meetingId) && doc.siteId === 0 ? [rid] : [])));
    // A filter that does not make the partial index's condition cannot use it.
    expect(planCandidates({ meetingId: { $in: [1, 2] }, siteId: 3 }, [firsts])).toBeUndefined();
  });

  it('narrows a word prefix to the matching index entries, without duplicates', () => {
    const rids = planCandidates({ meetingId: 0, $and: [{ tokens: /^nguyen/ }, { tokens: /^n1/ }] }, indexes)!;
    // The longer prefix drives; the other word is left to the matcher.
    expect(rids.sort((a, b) => a - b)).toEqual(docs.flatMap((doc, rid) => (doc.meetingId === 0 && doc.tokens.some((t) => t.startsWith('nguyen')) ? [rid] : [])));
  });

  it('walks an index in the sort order after the equality prefix, unless a narrower plan exists', () => {
    const scan = planOrderedScan({ meetingId: 1 }, [[['name'], 1], [['_id'], 1]], indexes)!;
    expect(scan).toMatchObject({ sortKeyStart: 1, sortKeyLength: 1, complete: false });
    const names = [...scan.entries].map((entry) => entry.key[1] as string);
    expect(names).toEqual([...names].sort());
    expect(names.length).toBe(docs.filter((doc) => doc.meetingId === 1).length);
    expect(planOrderedScan({ meetingId: 1 }, [[['name'], -1]], indexes)).toBeUndefined();
    // A word's range narrows further: the walk then knows its candidates (the reader chooses).
    const narrowed = planOrderedScan({ meetingId: 1, tokens: /^van/ }, [[['name'], 1]], indexes)!;
    expect(narrowed.narrower!.sort((a, b) => a - b)).toEqual(planCandidates({ meetingId: 1, tokens: /^van/ }, indexes)!.sort((a, b) => a - b));
  });
});
