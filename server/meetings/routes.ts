// HTTP for meetings: the list, create/edit forms, the dashboard with status and duplicate
// actions, and the JSON API under /api/v1/meetings. Every change goes through ./actions.ts.
import { Router, type Request, type Response } from 'express';
import { createMeeting, deleteMeeting, duplicateDefaults, duplicateMeeting, getMeetingForEdit, setMeetingStatus, statusActions, updateMeeting, type MeetingRecord } from './actions.js';
import { capabilitiesFor } from './capabilities.js';
import { getDuplicateSource, getMeeting, getMeetingDashboard, listMeetings, meetingJson, type MeetingTab } from './queries.js';
import { flashOnNextPage, setFlash, takeFlash } from '../lib/flash.js';
import { actorOf, fieldErrors, pickFields, localeOf, translate, notFoundForMalformedIds, redirectWithRefusal } from '../lib/http.js';
import { Invalid } from '../lib/errors.js';
import { requireOrganizer } from '../lib/actor.js';
import { unitChoicesForNewMeeting } from '../units/queries.js';
import { defaultTimeZone, toLocalInput } from '../lib/time.js';

type Body = Record<string, unknown>;

const formFields = ['title', 'description', 'unitId', 'organizingUnit', 'start', 'end', 'durationMinutes', 'timeZone', 'status'] as const;

/** A few zones offered in the form; any IANA zone may be typed. */
const commonTimeZones = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Singapore', 'Asia/Tokyo', 'Asia/Seoul', 'Australia/Sydney', 'Europe/Paris', 'Europe/London', 'America/New_York', 'UTC'];


function meetingPath(meeting: MeetingRecord | string): string {
  return `/meetings/${typeof meeting === 'string' ? meeting : String(meeting._id)}`;
}

function statusLabelKey(status: string): string {
  return `meeting.status.${status}`;
}

/** The values a meeting form starts from when editing. */
function formValues(meeting: MeetingRecord): Body {
  return {
    title: meeting.title,
    description: meeting.description ?? '',
    organizingUnit: meeting.organizingUnit ?? '',
    start: toLocalInput(meeting.startsAt, meeting.timeZone),
    end: toLocalInput(meeting.endsAt, meeting.timeZone),
    durationMinutes: '',
    timeZone: meeting.timeZone,
  };
}

async function renderForm(res: Response, options: { meeting?: MeetingRecord; values: Body; errors?: Record<string, string>; status?: number }) {
  const isNew = !options.meeting;
  const choices = isNew ? await unitChoicesForNewMeeting(actorOf(res)) : undefined;
  const unitOptions = choices?.map((unit) => ({ ...unit, selected: unit.id === options.values.unitId }));
  res.status(options.status ?? 200).render('meetings/form', {
    title: translate(res, isNew ? 'meeting.newTitle' : 'meeting.editTitle'),
    isNew,
    meeting: options.meeting,
    action: isNew ? '/meetings' : `${meetingPath(options.meeting!)}/edit`,
    values: options.values,
    errors: options.errors ?? {},
    timeZones: commonTimeZones,
    unitOptions: unitOptions && unitOptions.length > 1 ? unitOptions : undefined,
    statusOptions: ['draft', 'scheduled'].map((value) => ({ value, labelKey: statusLabelKey(value), selected: (options.values.status ?? 'draft') === value })),
  });
}

async function renderDashboard(req: Request, res: Response, meetingId: string, extra: { duplicateValues?: Body; duplicateErrors?: Record<string, string>; status?: number } = {}) {
  const actor = actorOf(res);
  const dashboard = await getMeetingDashboard(actor, meetingId);
  const meeting = dashboard.meeting;
  const duplicateSource = await getDuplicateSource(actor, meeting);
  res.status(extra.status ?? 200).render('meetings/dashboard', {
    title: meeting.title,
    // Attendees' answers move the sites' expected headcount live (client/calendar-rsvp.ts).
    scripts: ['calendar-rsvp'],
    meeting: { ...meeting, id: String(meeting._id), statusKey: statusLabelKey(meeting.status) },
    dashboard,
    duplicateSource,
    can: capabilitiesFor(actor, meeting),
    duplicateValues: extra.duplicateValues ?? duplicateDefaults(meeting),
    duplicateErrors: extra.duplicateErrors ?? {},
    ...takeFlash(req),
  });
}

export function meetingsRoutes(): Router {
  const router = notFoundForMalformedIds(Router());
  // Mounted at the root before the other parts: a flash set before a redirect shows on whatever page comes next.
  router.use(flashOnNextPage());

  // ---- Pages -------------------------------------------------------------------------------

  router.get('/', (_req, res) => {
    const actor = actorOf(res);
    const to = { organizer: '/meetings', coordinator: '/my/site', chair: '/my', attendee: '/my', anonymous: '/login' }[actor.kind];
    res.redirect(303, to);
  });

  router.get('/meetings', async (req, res) => {
    const actor = actorOf(res);
    let tab: MeetingTab = req.query.tab === 'past' ? 'past' : 'upcoming';
    const page = Number(req.query.page) || 1;
    let list = await listMeetings(actor, { tab, page });
    // With nothing upcoming (a first start shows only the 2021 demo), open on the past meetings
    // rather than an empty page; an explicit ?tab=upcoming still shows the empty tab.
    const showingPastInstead = req.query.tab === undefined && list.total === 0;
    if (showingPastInstead) {
      const past = await listMeetings(actor, { tab: 'past', page });
      if (past.total > 0) {
        tab = 'past';
        list = past;
      }
    }
    const pageUrl = (target: number) => `/meetings?tab=${tab}&page=${target}`;
    res.render('meetings/list', {
      title: translate(res, 'meetings.title'),
      tab,
      isUpcoming: tab === 'upcoming',
      noUpcoming: showingPastInstead && tab === 'past',
      list,
      items: list.items.map(({ meeting, siteCount }) => ({
        ...meeting,
        id: String(meeting._id),
        // Coordinators and attendees have no dashboard; their way into the meeting is its public page.
        href: actor.kind === 'organizer' || actor.kind === 'chair' ? meetingPath(meeting) : `/p/${meeting.publicId}`,
        statusKey: statusLabelKey(meeting.status),
        siteCount,
      })),
      isOrganizer: actor.kind === 'organizer',
      prevUrl: list.page > 1 ? pageUrl(list.page - 1) : undefined,
      nextUrl: list.page < list.pageCount ? pageUrl(list.page + 1) : undefined,
      ...takeFlash(req),
    });
  });

  router.get('/meetings/new', async (_req, res) => {
    requireOrganizer(actorOf(res));
    await renderForm(res, { values: { timeZone: defaultTimeZone, status: 'draft', description: '', organizingUnit: '' } });
  });

  router.post('/meetings', async (req, res) => {
    const input = pickFields(req.body, formFields);
    try {
      const meeting = await createMeeting(actorOf(res), input);
      setFlash(req, translate(res, 'meeting.flash.created'));
      res.redirect(303, meetingPath(meeting));
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      await renderForm(res, { values: input, errors: fieldErrors(error, localeOf(res)), status: 422 });
    }
  });

  router.get('/meetings/:meetingId', async (req, res) => {
    await renderDashboard(req, res, req.params.meetingId);
  });

  router.get('/meetings/:meetingId/edit', async (req, res) => {
    const { meetingId } = req.params;
    try {
      const meeting = await getMeetingForEdit(actorOf(res), meetingId);
      await renderForm(res, { meeting, values: formValues(meeting) });
    } catch (error) {
      redirectWithRefusal(req, res, error, meetingPath(meetingId), { invalid: false });
    }
  });

  router.post('/meetings/:meetingId/edit', async (req, res) => {
    const actor = actorOf(res);
    const { meetingId } = req.params;
    const input = pickFields(req.body, formFields.filter((field) => field !== 'status'));
    try {
      const meeting = await updateMeeting(actor, { ...input, meetingId });
      setFlash(req, translate(res, 'meeting.flash.updated'));
      res.redirect(303, meetingPath(meeting));
    } catch (error) {
      if (error instanceof Invalid) {
        const meeting = await getMeeting(actor, meetingId);
        return await renderForm(res, { meeting, values: input, errors: fieldErrors(error, localeOf(res)), status: 422 });
      }
      redirectWithRefusal(req, res, error, meetingPath(meetingId), { invalid: false });
    }
  });

  router.post('/meetings/:meetingId/status', async (req, res) => {
    const { meetingId } = req.params;
    const action = String(req.body?.action ?? '');
    try {
      await setMeetingStatus(actorOf(res), { meetingId, action });
      const done = { schedule: 'meeting.flash.scheduled', cancel: 'meeting.flash.cancelled', reinstate: 'meeting.flash.reinstated' }[action as (typeof statusActions)[number]];
      setFlash(req, translate(res, done));
      res.redirect(303, meetingPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, meetingPath(meetingId), { invalid: false });
    }
  });

  router.post('/meetings/:meetingId/duplicate', async (req, res) => {
    const { meetingId } = req.params;
    const input = pickFields(req.body, ['start', 'title', 'copyAttendees']);
    try {
      const copy = await duplicateMeeting(actorOf(res), { ...input, copyAttendees: input.copyAttendees ?? false, meetingId });
      setFlash(req, translate(res, 'meeting.flash.duplicated'));
      res.redirect(303, `${meetingPath(copy)}/edit`);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      await renderDashboard(req, res, meetingId, { duplicateValues: input, duplicateErrors: fieldErrors(error, localeOf(res)), status: 422 });
    }
  });

  router.post('/meetings/:meetingId/delete', async (req, res) => {
    const { meetingId } = req.params;
    try {
      await deleteMeeting(actorOf(res), { meetingId });
      setFlash(req, translate(res, 'meeting.flash.deleted'));
      res.redirect(303, '/meetings');
    } catch (error) {
      redirectWithRefusal(req, res, error, meetingPath(meetingId), { invalid: false });
    }
  });

  // ---- JSON API ----------------------------------------------------------------------------

  router.get('/api/v1/meetings', async (req, res) => {
    const list = await listMeetings(actorOf(res), {
      tab: req.query.tab === 'past' ? 'past' : 'upcoming',
      page: Number(req.query.page) || 1,
      pageSize: Number(req.query.pageSize) || 20,
    });
    res.json({
      tab: list.tab,
      page: list.page,
      pageSize: list.pageSize,
      pageCount: list.pageCount,
      total: list.total,
      items: list.items.map(({ meeting, siteCount }) => ({ ...meetingJson(meeting), siteCount })),
    });
  });

  router.post('/api/v1/meetings', async (req, res) => {
    const meeting = await createMeeting(actorOf(res), req.body ?? {});
    res.status(201).location(`/api/v1/meetings/${String(meeting._id)}`).json(meetingJson(meeting));
  });

  router.get('/api/v1/meetings/:meetingId', async (req, res) => {
    res.json(meetingJson(await getMeeting(actorOf(res), req.params.meetingId)));
  });

  router.patch('/api/v1/meetings/:meetingId', async (req, res) => {
    const meeting = await updateMeeting(actorOf(res), { ...(req.body ?? {}), meetingId: req.params.meetingId });
    res.json(meetingJson(meeting));
  });

  router.delete('/api/v1/meetings/:meetingId', async (req, res) => {
    await deleteMeeting(actorOf(res), { meetingId: req.params.meetingId });
    res.status(204).end();
  });

  router.post('/api/v1/meetings/:meetingId/status', async (req, res) => {
    const meeting = await setMeetingStatus(actorOf(res), { ...(req.body ?? {}), meetingId: req.params.meetingId });
    res.json(meetingJson(meeting));
  });

  router.post('/api/v1/meetings/:meetingId/duplicate', async (req, res) => {
    const copy = await duplicateMeeting(actorOf(res), { ...(req.body ?? {}), meetingId: req.params.meetingId });
    res.status(201).location(`/api/v1/meetings/${String(copy._id)}`).json(meetingJson(copy));
  });

  router.get('/api/v1/meetings/:meetingId/dashboard', async (req, res) => {
    const dashboard = await getMeetingDashboard(actorOf(res), req.params.meetingId);
    res.json({ ...dashboard, meeting: meetingJson(dashboard.meeting) });
  });

  return router;
}
