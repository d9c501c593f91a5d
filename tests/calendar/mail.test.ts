import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { setMeetingStatus, updateMeeting } from '../../server/meetings/actions.js';
import { createAttendee, removeAttendee, updateAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { InvitationModel } from '../../server/calendar/model.js';
import { deliveriesSettled, resumeInvitationDelivery, staleClaimMs } from '../../server/calendar/mail.js';
import { cancel, newCalendarConference, parseCalendar, vobjectProblems, type CalendarConference } from './fixtures.js';

interface Received {
  to: string[];
  raw: string;
}

let smtp: SMTPServer;
let app: TestApp;
let organizer: HttpClient;
let conference: CalendarConference;
const inbox: Received[] = [];
/** Addresses the server answers "451 try again later" once (a mail server hiccup mid-send). */
const refuseOnce = new Set<string>();
/** Addresses the server refuses until the test lets them through (a mailbox down for a while). */
const refuseAlways = new Set<string>();

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuseOnce.delete(address.address) || refuseAlways.has(address.address)) return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  app = await startTestApp({ calendar: { mailFrom: 'hoi-nghi@so-khcn.example.vn', smtpUrl: `smtp://127.0.0.1:${port}`, publicUrl: 'https://hoinghi.example.vn' } });
  organizer = await app.signInOrganizer();
  conference = await newCalendarConference(app.organizer);
});

afterAll(async () => {
  await deliveriesSettled();
  await app.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

// ---- a small MIME reader: enough for what nodemailer writes --------------------------------

interface Part {
  headers: Record<string, string>;
  body: string;
}

function decode(body: string, encoding: string | undefined): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_whole, hex: string) => `%${hex}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  }
  return body;
}

function parts(raw: string): Part[] {
  const split = raw.indexOf('\r\n\r\n');
  const headerText = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = Object.fromEntries(headerText.split('\r\n').map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const body = raw.slice(split + 4);
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return [{ headers, body: decode(body, headers['content-transfer-encoding']) }];
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .flatMap((chunk) => parts(chunk.replace(/^\r\n/, '').replace(/\r\n$/, '')));
}

function headerOf(raw: string, name: string): string {
  const headerText = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = headerText.split('\r\n').find((entry) => entry.toLowerCase().startsWith(`${name}:`)) ?? '';
  // Encoded words (=?UTF-8?B?...?= / =?UTF-8?Q?...?=) as a mail program shows them.
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_whole, kind: string, text: string) => (kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decode(text.replace(/_/g, ' '), 'quoted-printable')));
}

function mailTo(address: string): Received[] {
  return inbox.filter((mail) => mail.to.includes(address));
}

async function send(fields: Record<string, string>): Promise<{ status: number; queued: number }> {
  const response = await organizer.json('POST', `/api/v1/meetings/${conference.meetingId}/invitations`, fields);
  await deliveriesSettled();
  return { status: response.status, queued: response.json?.queued };
}

describe('invitation e-mails over a real SMTP server', () => {
  it('every attendee with an e-mail gets a message with a text/calendar METHOD:REQUEST part and the same .ics attached, in their language', async () => {
    // The delegate answered in English earlier: "each attendee's own choice" mails them in English.
    const delegate = app.newClient();
    await delegate.openLink(`/a/${conference.delegate.token}`);
    await delegate.postForm('/my/rsvp?lang=en', { response: 'accepted' });

    const result = await send({ scope: 'all', locale: 'attendee' });
    expect(result).toEqual({ status: 202, queued: 3 });
    expect(inbox).toHaveLength(3);

    const [chairMail] = mailTo('chu-tich@example.vn');
    expect(headerOf(chairMail.raw, 'subject')).toBe('Giấy mời: Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
    expect(headerOf(chairMail.raw, 'from')).toContain('hoi-nghi@so-khcn.example.vn');
    const chairParts = parts(chairMail.raw);
    const calendarPart = chairParts.find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!;
    expect(calendarPart.headers['content-type']).toMatch(/method=REQUEST/i);
    const attachment = chairParts.find((part) => /attachment/.test(part.headers['content-disposition'] ?? ''))!;
    expect(attachment.headers['content-disposition']).toContain('invite.ics');
    expect(attachment.body).toBe(calendarPart.body);
    const invite = parseCalendar(calendarPart.body);
    expect(invite.method).toBe('REQUEST');
    expect(invite.events[0]).toMatchObject({ uid: `${conference.meetingId}.meeting@bridgepoint`, start: '2021-12-29T14:00:00', tzid: 'Asia/Ho_Chi_Minh' });
    expect(invite.events[0].attendees[0]).toMatchObject({ value: 'mailto:chu-tich@example.vn', role: 'CHAIR', partstat: 'NEEDS-ACTION', rsvp: 'TRUE' });
    expect(invite.events[0].description).toContain(`https://hoinghi.example.vn/p/${conference.publicId}`);
    expect(vobjectProblems(calendarPart.body)).toBeNull();
    const text = chairParts.find((part) => /^text\/plain/.test(part.headers['content-type'] ?? ''))!.body;
    expect(text).toContain('Kính gửi Huỳnh Minh Tuấn,');
    expect(text).toContain(`https://hoinghi.example.vn/a/${conference.chair.token}`);

    const [delegateMail] = mailTo('lai-vung@example.vn');
    expect(headerOf(delegateMail.raw, 'subject')).toBe('Invitation: Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
    const delegateInvite = parseCalendar(parts(delegateMail.raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!.body);
    // Their answer is in the invitation.
    expect(delegateInvite.events[0].attendees[0]).toMatchObject({ partstat: 'ACCEPTED', rsvp: 'FALSE' });
    expect(delegateInvite.events[0].location).toMatch(/Lai Vung/);
  });

  it('sending again mails nobody twice for the same version; a new attendee gets "only those not yet invited"', async () => {
    expect(await send({ scope: 'all', locale: 'vi' })).toEqual({ status: 202, queued: 0 });
    expect(inbox).toHaveLength(3);
    await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Võ Thị Mười', email: 'muoi@example.vn', siteId: conference.laiVungId });
    expect(await send({ scope: 'notInvited', locale: 'vi' })).toEqual({ status: 202, queued: 1 });
    expect(inbox).toHaveLength(4);
    expect(mailTo('muoi@example.vn')).toHaveLength(1);
  });

  it('after the meeting moves, everyone gets one update with the higher SEQUENCE; a site scope mails that site only', async () => {
    const before = inbox.length;
    await updateMeeting(app.organizer, { meetingId: conference.meetingId, start: '2021-12-30T08:00' });
    expect(await send({ scope: 'site', siteId: conference.laiVungId, locale: 'vi' })).toEqual({ status: 202, queued: 2 });
    const laiVung = inbox.slice(before);
    expect(laiVung.flatMap((mail) => mail.to).sort()).toEqual(['lai-vung@example.vn', 'muoi@example.vn']);
    expect(await send({ scope: 'all', locale: 'vi' })).toEqual({ status: 202, queued: 2 });
    const [update] = mailTo('chu-tich@example.vn').slice(-1);
    expect(headerOf(update.raw, 'subject')).toBe('Cập nhật giấy mời: Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
    const first = parseCalendar(parts(mailTo('chu-tich@example.vn')[0].raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!.body).events[0];
    const updated = parseCalendar(parts(update.raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!.body).events[0];
    expect(updated).toMatchObject({ uid: first.uid, start: '2021-12-30T08:00:00' });
    expect(updated.sequence).toBeGreaterThan(first.sequence);
    expect(inbox.length - before).toBe(4);
  });

  it('a mail server hiccup or a crash mid-send resumes: the rest is sent, nobody twice', async () => {
    await updateMeeting(app.organizer, { meetingId: conference.meetingId, title: 'Hội nghị Tổng kết KH&CN năm 2021 (điều chỉnh)' });
    const before = inbox.length;
    refuseOnce.add('giam-doc@example.vn');
    expect((await send({ scope: 'all', locale: 'vi' })).queued).toBe(4);
    // The refused one was tried again and got through once.
    expect(inbox.length - before).toBe(4);
    expect(inbox.slice(before).filter((mail) => mail.to.includes('giam-doc@example.vn'))).toHaveLength(1);

    // A process that died while holding records: they wait, claimed, until the claim is stale.
    await updateMeeting(app.organizer, { meetingId: conference.meetingId, start: '2021-12-30T09:00' });
    const afterMove = inbox.length;
    const [chair, speaker] = await Promise.all([AttendeeModel.findById(conference.chair.id).lean(), AttendeeModel.findById(conference.speaker.id).lean()]);
    const sequence = (await InvitationModel.findOne({ attendeeId: chair!._id }).sort({ sequence: -1 }).lean())!.sequence + 1;
    const common = { meetingId: conference.meetingId, sequence, method: 'REQUEST' as const, locale: 'vi' as const, baseUrl: 'https://hoinghi.example.vn' };
    await InvitationModel.create([
      { ...common, attendeeId: chair!._id, email: chair!.email!, state: 'sending' as const, claimedAt: new Date(Date.now() - staleClaimMs - 1000), claim: 'dead-process', attempts: 1 },
      { ...common, attendeeId: speaker!._id, email: speaker!.email!, state: 'sent' as const, sentAt: new Date(), attempts: 1 },
    ]);
    expect(await resumeInvitationDelivery()).toBe(1);
    await deliveriesSettled();
    const resumed = inbox.slice(afterMove);
    expect(resumed.map((mail) => mail.to)).toEqual([['chu-tich@example.vn']]);
    expect((await InvitationModel.findOne({ attendeeId: chair!._id, sequence }).lean())!.state).toBe('sent');
  });

  it('a cancelled meeting sends METHOD:CANCEL with the same UID, only to those who were invited', async () => {
    await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Người chưa được mời', email: 'chua-moi@example.vn', siteId: conference.mainSiteId });
    await cancel(app.organizer, conference.meetingId);
    const before = inbox.length;
    expect((await send({ scope: 'all', locale: 'vi' })).queued).toBe(4);
    const cancellations = inbox.slice(before);
    expect(cancellations.flatMap((mail) => mail.to)).not.toContain('chua-moi@example.vn');
    const mail = cancellations.find((entry) => entry.to.includes('lai-vung@example.vn'))!;
    expect(headerOf(mail.raw, 'subject')).toMatch(/^Thông báo hủy: /);
    const calendarPart = parts(mail.raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!;
    expect(calendarPart.headers['content-type']).toMatch(/method=CANCEL/i);
    const parsed = parseCalendar(calendarPart.body);
    expect(parsed.method).toBe('CANCEL');
    expect(parsed.events[0]).toMatchObject({ uid: `${conference.meetingId}.meeting@bridgepoint`, status: 'CANCELLED' });
    expect(vobjectProblems(calendarPart.body)).toBeNull();
  });

  it('only organizers send invitations; a bad scope is a clear 422', async () => {
    const coordinator = app.newClient();
    await coordinator.openLink(`/a/${conference.chair.token}`);
    expect((await coordinator.json('POST', `/api/v1/meetings/${conference.meetingId}/invitations`, { scope: 'all' })).status).toBe(403);
    const bad = await organizer.json('POST', `/api/v1/meetings/${conference.meetingId}/invitations`, { scope: 'everyone-ever' });
    expect(bad.status).toBe(422);
    expect(bad.json.error.fields.scope).toBe('Vui lòng chọn gửi cho ai.');
    const noSite = await organizer.json('POST', `/api/v1/meetings/${conference.meetingId}/invitations`, { scope: 'site' });
    expect(noSite.json.error.fields.siteId).toBe('Vui lòng chọn điểm cầu.');
  });
});

describe('hostile names in e-mails', () => {
  it('CR/LF in the meeting title or an attendee name adds no header and no recipient; the invitation still parses', async () => {
    const hostile = await newCalendarConference(app.organizer, { title: 'Hội nghị\r\nBcc: meeting@evil.example\r\nX-Evil: 1', organizingUnit: 'Sở\r\nBcc: unit@evil.example' });
    await createAttendee(app.organizer, { meetingId: hostile.meetingId, fullName: 'Nguyễn\r\nBcc: name@evil.example\r\nX-Evil: 2 "Út" <x@evil.example>,', email: 'ke-xau@example.vn', siteId: hostile.laiVungId });
    const before = inbox.length;
    const response = await organizer.json('POST', `/api/v1/meetings/${hostile.meetingId}/invitations`, { scope: 'all', locale: 'vi' });
    expect(response.status).toBe(202);
    await deliveriesSettled();
    const mails = inbox.slice(before);
    expect(mails.flatMap((mail) => mail.to).sort()).toEqual(['chu-tich@example.vn', 'giam-doc@example.vn', 'ke-xau@example.vn', 'lai-vung@example.vn']);
    const [mail] = mailTo('ke-xau@example.vn').slice(-1);
    const headerBlock = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
    expect(headerBlock).not.toMatch(/^(bcc|x-evil):/im);
    expect(headerOf(mail.raw, 'subject')).not.toMatch(/[\r\n]/);
    expect(headerOf(mail.raw, 'subject')).toContain('Hội nghị');
    const calendarPart = parts(mail.raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!;
    const invite = parseCalendar(calendarPart.body);
    expect(invite.events).toHaveLength(1);
    expect(invite.events[0].summary).toBe('Hội nghị\nBcc: meeting@evil.example\nX-Evil: 1');
    expect(invite.events[0].attendees.map((attendee) => attendee.value)).toEqual(['mailto:ke-xau@example.vn']);
    expect(vobjectProblems(calendarPart.body)).toBeNull();
  });
});

describe('second reader: the invitation follows the person and the meeting', () => {
  const calendarOf = (mail: Received) => parseCalendar(parts(mail.raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!.body);
  const sendFor = async (meetingId: string, fields: Record<string, string>) => {
    const response = await organizer.json('POST', `/api/v1/meetings/${meetingId}/invitations`, fields);
    await deliveriesSettled();
    return response.json?.queued as number;
  };

  it('an address corrected after the invitation went out gets it at the new address when the organizer sends again', async () => {
    const meeting = await newCalendarConference(app.organizer, { title: 'Hội nghị sửa địa chỉ thư' });
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    expect(mailTo('lai-vung@example.vn').filter((mail) => calendarOf(mail).events[0].uid.startsWith(meeting.meetingId))).toHaveLength(1);
    // The address was mistyped: the organizer corrects it and sends again.
    await updateAttendee(app.organizer, { meetingId: meeting.meetingId, attendeeId: meeting.delegate.id, email: 'lai-vung.dung@example.vn' });
    expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' })).toBe(1);
    const [corrected] = mailTo('lai-vung.dung@example.vn');
    expect(corrected).toBeDefined();
    expect(calendarOf(corrected).events[0].attendees[0].value).toBe('mailto:lai-vung.dung@example.vn');
    // Nobody else is mailed twice, and sending once more mails nobody.
    expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' })).toBe(0);
  });

  it('reschedule, cancel and reinstate: REQUEST, CANCEL, REQUEST with one UID and a rising SEQUENCE, each once', async () => {
    const meeting = await newCalendarConference(app.organizer, { title: 'Hội nghị hoãn rồi họp lại' });
    const mine = () => mailTo('chu-tich@example.vn').map(calendarOf).filter((file) => file.events[0].uid === `${meeting.meetingId}.meeting@bridgepoint`);
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    await updateMeeting(app.organizer, { meetingId: meeting.meetingId, start: '2021-12-30T08:00', end: '2021-12-30T11:00' });
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    await cancel(app.organizer, meeting.meetingId);
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    await setMeetingStatus(app.organizer, { meetingId: meeting.meetingId, action: 'reinstate' });
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    const files = mine();
    expect(files.map((file) => file.method)).toEqual(['REQUEST', 'REQUEST', 'CANCEL', 'REQUEST']);
    const sequences = files.map((file) => file.events[0].sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(4);
    for (const file of files) {
      expect(file.events[0].organizer?.value).toBe('mailto:hoi-nghi@so-khcn.example.vn');
      expect(file.events[0].attendees.map((attendee) => attendee.value)).toEqual(['mailto:chu-tich@example.vn']);
    }
    expect(files[3].events[0]).toMatchObject({ status: 'CONFIRMED', start: '2021-12-30T08:00:00' });
  });

  it('someone removed after their invitation went out gets one METHOD:CANCEL with a higher SEQUENCE, and nothing after', async () => {
    const meeting = await newCalendarConference(app.organizer, { title: 'Hội nghị bớt người' });
    const uid = `${meeting.meetingId}.meeting@bridgepoint`;
    const mine = () => mailTo('lai-vung@example.vn').map(calendarOf).filter((file) => file.events[0].uid === uid);
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    expect(mine().map((file) => file.method)).toEqual(['REQUEST']);
    const others = inbox.length;
    await removeAttendee(app.organizer, { meetingId: meeting.meetingId, attendeeId: meeting.delegate.id });
    // Their mailbox is down at first: the cancellation is left failed, then sent on the next try.
    refuseAlways.add('lai-vung@example.vn');
    try {
      expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' })).toBe(1);
    } finally {
      refuseAlways.delete('lai-vung@example.vn');
    }
    expect(inbox.length).toBe(others);
    expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' })).toBe(1);
    // Only the removed delegate is mailed; the others' invitations have not changed.
    expect(inbox.slice(others).flatMap((mail) => mail.to)).toEqual(['lai-vung@example.vn']);
    const [request, cancellation] = mine();
    expect(cancellation.method).toBe('CANCEL');
    expect(cancellation.events[0]).toMatchObject({ uid, status: 'CANCELLED' });
    expect(cancellation.events[0].sequence).toBeGreaterThan(request.events[0].sequence);
    expect(cancellation.events[0].organizer?.value).toBe('mailto:hoi-nghi@so-khcn.example.vn');
    expect(cancellation.events[0].attendees.map((attendee) => attendee.value)).toEqual(['mailto:lai-vung@example.vn']);
    const [mail] = mailTo('lai-vung@example.vn').slice(-1);
    expect(headerOf(mail.raw, 'subject')).toBe('Thu hồi giấy mời: Hội nghị bớt người');
    expect(parts(mail.raw).find((part) => /^text\/plain/.test(part.headers['content-type'] ?? ''))!.body).toContain('giấy mời gửi Trần Thị "Út"; Lê, Văn\\Tám được thu hồi');
    expect(vobjectProblems(parts(mail.raw).find((part) => /^text\/calendar/.test(part.headers['content-type'] ?? ''))!.body)).toBeNull();
    // Sending again, or after the meeting moves, mails them nothing more.
    expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' })).toBe(0);
    await updateMeeting(app.organizer, { meetingId: meeting.meetingId, start: '2021-12-30T08:00', end: '2021-12-30T11:00' });
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    expect(mine()).toHaveLength(2);
    // The organizer's count of the current version is the two people still invited.
    expect((await organizer.json('GET', `/api/v1/meetings/${meeting.meetingId}/invitations`)).json).toMatchObject({ sent: 2, waiting: 0, failed: 0 });
  });

  it('someone removed by mistake and added again before the next send is invited, not cancelled', async () => {
    const meeting = await newCalendarConference(app.organizer, { title: 'Hội nghị xóa nhầm' });
    const uid = `${meeting.meetingId}.meeting@bridgepoint`;
    const mine = () => mailTo('lai-vung@example.vn').map(calendarOf).filter((file) => file.events[0].uid === uid);
    await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' });
    await removeAttendee(app.organizer, { meetingId: meeting.meetingId, attendeeId: meeting.delegate.id });
    await createAttendee(app.organizer, { meetingId: meeting.meetingId, fullName: 'Trần Thị Út', email: 'lai-vung@example.vn', siteId: meeting.laiVungId });
    expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'vi' })).toBe(1);
    expect(mine().map((file) => file.method)).toEqual(['REQUEST', 'REQUEST']);
  });

  it('a mailbox that keeps refusing is left failed, shown to the organizer, and sent once when the organizer sends again', async () => {
    const meeting = await newCalendarConference(app.organizer, { title: 'Hội nghị hộp thư lỗi' });
    const uid = `${meeting.meetingId}.meeting@bridgepoint`;
    const received = (address: string) => mailTo(address).filter((mail) => calendarOf(mail).events[0].uid === uid);
    refuseAlways.add('giam-doc@example.vn');
    try {
      expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'en' })).toBe(3);
      expect(received('giam-doc@example.vn')).toHaveLength(0);
      expect(received('chu-tich@example.vn')).toHaveLength(1);
      const status = await organizer.json('GET', `/api/v1/meetings/${meeting.meetingId}/invitations`);
      expect(status.json).toMatchObject({ sent: 2, failed: 1, waiting: 0 });
    } finally {
      refuseAlways.delete('giam-doc@example.vn');
    }
    expect(await sendFor(meeting.meetingId, { scope: 'all', locale: 'en' })).toBe(1);
    expect(received('giam-doc@example.vn')).toHaveLength(1);
    expect(received('chu-tich@example.vn')).toHaveLength(1);
    expect(received('lai-vung@example.vn')).toHaveLength(1);
    expect(headerOf(received('giam-doc@example.vn')[0].raw, 'subject')).toBe('Invitation: Hội nghị hộp thư lỗi');
  });
});
