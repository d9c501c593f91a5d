// Searching the attendee list types the starts of words, without diacritics, in any order; the
// database answers from an index of the meeting's words rather than scanning every attendee.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../helpers/database.js';
import { newConference, organizer, type Conference } from './fixtures.js';
import type { DatabaseHandle } from '../../server/database.js';
import { createAttendee, updateAttendee } from '../../server/attendees/actions.js';
import { listAttendees } from '../../server/attendees/queries.js';
import { searchTokens } from '../../server/lib/text.js';

let database: DatabaseHandle;
let conference: Conference;
beforeAll(async () => {
  database = await connectTestDatabase();
  conference = await newConference();
  const { meetingId } = conference;
  await createAttendee(organizer, { meetingId, fullName: 'Nguyễn Văn Ánh', organization: 'Sở Khoa học và Công nghệ', email: 'anh.nguyen@dongthap.gov.vn' });
  await createAttendee(organizer, { meetingId, fullName: 'Trương Văn Nguyễn', organization: 'UBND huyện Tháp Mười', position: 'Phó Chủ tịch' });
  await createAttendee(organizer, { meetingId, fullName: 'Đỗ Thị Tuấn', organization: 'Sở Y tế' });
});
afterAll(async () => {
  await database?.close();
});

const names = async (q: string) => (await listAttendees(organizer, conference.meetingId, { q })).items.map((item) => item.fullName);

describe('searching attendees', () => {
  it('finds the starts of words in any order, with or without diacritics', async () => {
    expect(await names('nguyen van')).toEqual(['Nguyễn Văn Ánh', 'Trương Văn Nguyễn']);
    expect(await names('van nguy')).toEqual(['Nguyễn Văn Ánh', 'Trương Văn Nguyễn']);
    expect(await names('Đỗ thị')).toEqual(['Đỗ Thị Tuấn']);
    // "do" also starts "dongthap" in an e-mail address.
    expect(await names('do')).toEqual(['Đỗ Thị Tuấn', 'Nguyễn Văn Ánh']);
    expect(await names('pho chu')).toEqual(['Trương Văn Nguyễn']);
    expect(await names('thap muoi')).toEqual(['Trương Văn Nguyễn']);
  });

  it('finds parts of an e-mail address from their start', async () => {
    expect(await names('dongthap')).toEqual(['Nguyễn Văn Ánh']);
    expect(await names('anh.nguyen@dong')).toEqual(['Nguyễn Văn Ánh']);
  });

  it('matches words from their start, and punctuation literally', async () => {
    expect(await names('uan')).toEqual([]);
    expect(await names('do thi (')).toEqual([]);
    expect(await names('.*')).toEqual([]);
  });

  it('follows renames', async () => {
    const page = await listAttendees(organizer, conference.meetingId, { q: 'tuan' });
    await updateAttendee(organizer, { meetingId: conference.meetingId, attendeeId: page.items[0].id, fullName: 'Đỗ Thị Tuyết' });
    expect(await names('tuan')).toEqual([]);
    expect(await names('tuyet')).toEqual(['Đỗ Thị Tuyết']);
  });

  it('splits words and the tails of e-mail addresses', () => {
    expect(searchTokens('le thi dai-bieu-5@example.vn')).toEqual(['le', 'thi', 'dai-bieu-5@example.vn', 'bieu-5@example.vn', '5@example.vn', 'example.vn', 'vn']);
  });
});
