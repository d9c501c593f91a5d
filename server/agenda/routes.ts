// HTTP for the agenda: the editor page (plain forms, enhanced by client/agenda-editor.ts), its
// JSON API, the speaker picker, and the public meeting page /p/:publicId with its JSON twin.
import { Router, type Request, type Response } from 'express';
import { DateTime } from 'luxon';
import { addAgendaItem, moveAgendaItem, removeAgendaItem, reorderAgenda, updateAgendaItem } from './actions.js';
import { getAgenda, getPublicMeeting, searchSpeakerOptions, speakerOptionsByIds, type AgendaView, type AgendaSpeakerView } from './queries.js';
import { agendaKinds } from './model.js';
import { capabilitiesFor } from '../meetings/capabilities.js';
import { actorOf, fieldErrors, localeOf, translate, notFoundForMalformedIds } from '../lib/http.js';
import { Invalid, NotFound } from '../lib/errors.js';
import { requireOrganizer } from '../lib/actor.js';
import { formatTime } from '../lib/time.js';
import { t, type Locale } from '../lib/i18n.js';
import { publicCalendarLinks } from '../calendar/pages.js';
import { baseUrlFor } from '../calendar/settings.js';
import { hasPublishedSummary } from '../summary/queries.js';

type Body = Record<string, unknown>;

const agendaPath = (meetingId: string) => `/meetings/${meetingId}/agenda`;

/** "Asia/Ho_Chi_Minh, UTC+07:00": the zone named, so a reader abroad is not misled. */
export function zoneLabel(instant: Date, zone: string, locale: Locale): string {
  const offset = DateTime.fromJSDate(instant, { zone }).toFormat("'UTC'ZZ");
  return t(locale, 'public.timeZone', { zone, offset });
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((entry): entry is string => typeof entry === 'string');
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** One free-text speaker per line, "Full name - Position" (the position may itself contain commas). */
export function parseSpeakerLines(text: unknown): Array<{ name: string; position: string }> {
  if (typeof text !== 'string') return [];
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const match = /^(.*?)\s+[-–—|]\s+(.*)$/.exec(line);
      return match ? { name: match[1].trim(), position: match[2].trim() } : { name: line, position: '' };
    });
}

function speakerLines(speakers: AgendaSpeakerView[]): string {
  return speakers
    .filter((speaker) => !speaker.attendeeId)
    .map((speaker) => (speaker.position ? `${speaker.name} - ${speaker.position}` : speaker.name))
    .join('\n');
}

/** A plain form's fields as action input: attendee speakers kept by checkbox, free text by line. */
function formInput(body: Body, forUpdate: boolean) {
  const attendeeIds = asList(body.speakerAttendeeIds);
  const hasSpeakerFields = 'speakersText' in body || 'speakerAttendeeIds' in body || 'speakersPresent' in body;
  const input: Body = {};
  for (const key of ['title', 'kind', 'plannedMinutes', 'notes'] as const) if (key in body) input[key] = body[key];
  if (!forUpdate || hasSpeakerFields) {
    input.speakers = [...attendeeIds.map((attendeeId) => ({ attendeeId })), ...parseSpeakerLines(body.speakersText)];
  }
  return input;
}

function kindOptions(selected: unknown) {
  return agendaKinds.map((kind) => ({ value: kind, labelKey: `agenda.kind.${kind}`, selected: kind === selected }));
}

/** Items with their times formatted in the meeting's zone, for the views. */
function itemsForView(agenda: AgendaView, itemError?: EditorState['itemError']) {
  const zone = agenda.meeting.timeZone;
  const last = agenda.items.length - 1;
  return agenda.items.map((item, index) => ({
    ...item,
    position: index + 1,
    isFirst: index === 0,
    isLast: index === last,
    kindKey: `agenda.kind.${item.kind}`,
    start: formatTime(item.startsAt, zone),
    end: formatTime(item.endsAt, zone),
    error: itemError?.itemId === item.id ? itemError.message : undefined,
  }));
}

/** What the browser script needs; times travel as ISO instants plus the IANA zone. */
function clientData(agenda: AgendaView, res: Response) {
  const locale = localeOf(res);
  const keys = [
    'agenda.saving',
    'agenda.saved',
    'agenda.error.network',
    'agenda.error.generic',
    'agenda.overrun',
    'agenda.plannedEnd',
    'agenda.total',
    'agenda.moved',
    'agenda.speaker.noMatch',
    'agenda.speaker.remove',
    'agenda.speaker.fromList',
    'agenda.remove.confirm',
    'agenda.remote.changed',
    'agenda.remote.applied',
    'agenda.reload',
  ];
  return {
    meetingId: agenda.meeting.id,
    startsAt: agenda.meeting.startsAt.toISOString(),
    endsAt: agenda.meeting.endsAt.toISOString(),
    timeZone: agenda.meeting.timeZone,
    locale,
    revision: agenda.meeting.revision,
    items: agenda.items.map((item) => ({ id: item.id, title: item.title, kind: item.kind, plannedMinutes: item.plannedMinutes, notes: item.notes, speakers: item.speakers })),
    messages: Object.fromEntries(keys.map((key) => [key, t(locale, key)])),
  };
}

interface EditorState {
  status?: number;
  values?: Body;
  errors?: Record<string, string>;
  /** A failed inline duration edit, shown next to that item. */
  itemError?: { itemId: string; message: string };
}

async function renderEditor(req: Request, res: Response, state: EditorState = {}) {
  const meetingId = String(req.params.meetingId);
  const agenda = await getAgenda(actorOf(res), meetingId);
  const zone = agenda.meeting.timeZone;
  const locale = localeOf(res);
  const values = state.values ?? { kind: 'report', plannedMinutes: 15 };
  const can = capabilitiesFor(actorOf(res), agenda.meeting);
  const chosen = can.editAgenda ? await speakerOptionsByIds(actorOf(res), meetingId, asList(values.speakerAttendeeIds)) : [];
  res.status(state.status ?? 200).render('agenda/editor', {
    title: translate(res, 'agenda.editor.title', { meeting: agenda.meeting.title }),
    meeting: { ...agenda.meeting, _id: agenda.meeting.id },
    agenda,
    items: itemsForView(agenda, state.itemError),
    canEdit: can.editAgenda,
    plannedEnd: formatTime(agenda.plannedEndsAt, zone),
    meetingEnd: formatTime(agenda.meeting.endsAt, zone),
    zone: zoneLabel(agenda.meeting.startsAt, zone, locale),
    kinds: kindOptions(values.kind),
    attendeeSpeakers: chosen.map((speaker) => ({ ...speaker, checked: true })),
    values,
    errors: state.errors ?? {},
    pageData: clientData(agenda, res),
    scripts: ['agenda-editor'],
  });
}

async function renderItemForm(req: Request, res: Response, state: EditorState = {}) {
  const meetingId = String(req.params.meetingId);
  const itemId = String(req.params.itemId);
  requireOrganizer(actorOf(res));
  const agenda = await getAgenda(actorOf(res), meetingId);
  const item = agenda.items.find((entry) => entry.id === itemId);
  if (!item) throw new NotFound('agenda.notFound');
  const values = state.values ?? {
    title: item.title,
    kind: item.kind,
    plannedMinutes: item.plannedMinutes,
    notes: item.notes,
    speakersText: speakerLines(item.speakers),
  };
  // On a re-render, show the item's attendee speakers (ticked as the user left them) plus any newly picked.
  const keptIds = state.values ? new Set(asList(state.values.speakerAttendeeIds)) : undefined;
  const itemSpeakerIds = new Set(item.speakers.flatMap((speaker) => (speaker.attendeeId ? [speaker.attendeeId] : [])));
  const picked = keptIds ? await speakerOptionsByIds(actorOf(res), meetingId, [...keptIds].filter((id) => !itemSpeakerIds.has(id))) : [];
  res.status(state.status ?? 200).render('agenda/item', {
    title: translate(res, 'agenda.edit.title'),
    meeting: { ...agenda.meeting, _id: agenda.meeting.id },
    item,
    attendeeSpeakers: item.speakers
      .filter((speaker) => speaker.attendeeId)
      .map((speaker) => ({ ...speaker, checked: keptIds ? keptIds.has(speaker.attendeeId!) : true }))
      .concat(picked.map((speaker) => ({ attendeeId: speaker.attendeeId, name: speaker.name, position: speaker.position, checked: true }))),
    kinds: kindOptions(values.kind),
    values,
    errors: state.errors ?? {},
    pageData: clientData(agenda, res),
    scripts: ['agenda-editor'],
  });
}

/** The one-line error list of a form that failed on fields the form does not show (e.g. speakers.2.attendeeId). */
function formErrors(error: Invalid, res: Response): Record<string, string> {
  const errors = fieldErrors(error, localeOf(res));
  const speakers = Object.entries(errors).filter(([path]) => path.startsWith('speakers'));
  if (speakers.length > 0) errors.speakers = speakers.map(([, message]) => message).join(' ');
  return errors;
}

async function publicPage(req: Request, res: Response) {
  const locale = localeOf(res);
  let view;
  try {
    view = await getPublicMeeting(String(req.params.publicId));
  } catch (error) {
    if (error instanceof NotFound) {
      return res.status(404).render('public/not-found', { title: translate(res, 'public.notFound.title') });
    }
    throw error;
  }
  const zone = view.meeting.timeZone;
  const sameDay = DateTime.fromJSDate(view.meeting.startsAt, { zone }).hasSame(DateTime.fromJSDate(view.meeting.endsAt, { zone }), 'day');
  res.render('public/meeting', {
    title: view.meeting.title,
    meeting: view.meeting,
    isCancelled: view.meeting.status === 'cancelled',
    statusKey: `public.status.${view.meeting.status}`,
    sameDay,
    zone: zoneLabel(view.meeting.startsAt, zone, locale),
    agenda: view.agenda.map((item) => ({
      ...item,
      kindKey: `agenda.kind.${item.kind}`,
      start: formatTime(item.startsAt, zone),
      end: formatTime(item.endsAt, zone),
    })),
    sites: view.sites,
    calendar: publicCalendarLinks(view, baseUrlFor(`${req.protocol}://${req.get('host')}`)),
    summaryPath: (await hasPublishedSummary(String(req.params.publicId))) ? `/p/${String(req.params.publicId)}/summary` : undefined,
  });
}

export function agendaRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  // ---- pages -------------------------------------------------------------------------------
  router.get('/meetings/:meetingId/agenda', async (req, res) => {
    await renderEditor(req, res);
  });

  router.post('/meetings/:meetingId/agenda/items', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    const body = (req.body ?? {}) as Body;
    try {
      await addAgendaItem(actorOf(res), { ...formInput(body, false), meetingId });
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return renderEditor(req, res, { status: 422, values: body, errors: formErrors(error, res) });
    }
    res.redirect(303, `${agendaPath(meetingId)}#add`);
  });

  router.get('/meetings/:meetingId/agenda/items/:itemId/edit', async (req, res) => {
    await renderItemForm(req, res);
  });

  router.post('/meetings/:meetingId/agenda/items/:itemId', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    const itemId = String(req.params.itemId);
    const body = (req.body ?? {}) as Body;
    try {
      await updateAgendaItem(actorOf(res), { ...formInput(body, true), meetingId, itemId });
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      // The inline duration form lives on the editor page; the full form on its own page.
      if (body.inline === '1') {
        const message = Object.values(formErrors(error, res))[0] ?? translate(res, 'agenda.error.generic');
        return renderEditor(req, res, { status: 422, itemError: { itemId, message } });
      }
      return renderItemForm(req, res, { status: 422, values: body, errors: formErrors(error, res) });
    }
    res.redirect(303, `${agendaPath(meetingId)}#item-${itemId}`);
  });

  router.post('/meetings/:meetingId/agenda/items/:itemId/delete', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    await removeAgendaItem(actorOf(res), { meetingId, itemId: String(req.params.itemId) });
    res.redirect(303, agendaPath(meetingId));
  });

  /** The no-JavaScript up/down buttons. */
  router.post('/meetings/:meetingId/agenda/items/:itemId/move', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    const itemId = String(req.params.itemId);
    const direction = (req.body as Body | undefined)?.direction === 'up' ? 'up' : 'down';
    await moveAgendaItem(actorOf(res), { meetingId, itemId, direction });
    res.redirect(303, `${agendaPath(meetingId)}#item-${itemId}`);
  });

  router.get('/p/:publicId', publicPage);

  // ---- JSON API ----------------------------------------------------------------------------
  router.get('/api/v1/meetings/:meetingId/agenda', async (req, res) => {
    res.json(await getAgenda(actorOf(res), String(req.params.meetingId)));
  });

  const createItem = async (req: Request, res: Response) => {
    const change = await addAgendaItem(actorOf(res), { ...((req.body ?? {}) as Body), meetingId: String(req.params.meetingId) });
    res.status(201).json(change);
  };
  router.post('/api/v1/meetings/:meetingId/agenda/items', createItem);
  router.post('/api/v1/meetings/:meetingId/agenda', createItem);

  router.patch('/api/v1/meetings/:meetingId/agenda/items/:itemId', async (req, res) => {
    const change = await updateAgendaItem(actorOf(res), {
      ...((req.body ?? {}) as Body),
      meetingId: String(req.params.meetingId),
      itemId: String(req.params.itemId),
    });
    res.json(change);
  });

  router.delete('/api/v1/meetings/:meetingId/agenda/items/:itemId', async (req, res) => {
    res.json(await removeAgendaItem(actorOf(res), { meetingId: String(req.params.meetingId), itemId: String(req.params.itemId) }));
  });

  router.put('/api/v1/meetings/:meetingId/agenda/order', async (req, res) => {
    const body = (req.body ?? {}) as Body;
    res.json(await reorderAgenda(actorOf(res), { meetingId: String(req.params.meetingId), orderedIds: body.orderedIds }));
  });

  router.get('/api/v1/meetings/:meetingId/agenda/speaker-options', async (req, res) => {
    res.json({ items: await searchSpeakerOptions(actorOf(res), String(req.params.meetingId), req.query.q) });
  });

  router.get('/api/v1/public/:publicId', async (req, res) => {
    res.json(await getPublicMeeting(String(req.params.publicId)));
  });

  return router;
}
