// The list of speakers as every screen shows it: the queue in the chair's order, who has the
// floor, finished requests, and speaking time per speaker and per site.
import { Types } from 'mongoose';
import { SpeakerRequestModel, type SpeakerRequest } from './model.js';
import { SiteModel } from '../sites/model.js';
import type { SpeakerRequestView, SpeakersView } from '../live/contract.js';

type Stored = SpeakerRequest & { _id: Types.ObjectId };
const iso = (value: Date | null | undefined) => (value ? new Date(value).toISOString() : null);

export interface SpeakerRequests {
  requests: Stored[];
  sites: Array<{ _id: Types.ObjectId; name: string }>;
}

/** What the view is made from (read once per revision by snapshots, live/queries.ts). */
export async function readSpeakerRequests(meetingId: string): Promise<SpeakerRequests> {
  const [requests, sites] = await Promise.all([
    SpeakerRequestModel.find({ meetingId }).sort({ requestedAt: 1 }).lean<Stored[]>(),
    SiteModel.find({ meetingId }, { name: 1 }).lean<Array<{ _id: Types.ObjectId; name: string }>>(),
  ]);
  return { requests, sites };
}

export async function loadSpeakers(meetingId: string, state: SpeakersState, revision: number): Promise<SpeakersView> {
  return speakersView(await readSpeakerRequests(meetingId), state, revision);
}

type SpeakersState = { queue?: Types.ObjectId[]; floorId?: Types.ObjectId | null } | undefined;

/** The list as of now (speaking time runs on), from what was read. */
export function speakersView({ requests, sites }: SpeakerRequests, state: SpeakersState, revision: number): SpeakersView {
  const siteNames = new Map(sites.map((site) => [String(site._id), site.name]));
  const view = (request: Stored): SpeakerRequestView => ({
    id: String(request._id),
    siteId: request.siteId ? String(request.siteId) : null,
    siteName: request.siteId ? (siteNames.get(String(request.siteId)) ?? null) : null,
    attendeeId: request.attendeeId ? String(request.attendeeId) : null,
    name: request.name,
    position: request.position ?? '',
    topic: request.topic,
    status: request.status,
    requestedBy: request.requestedBy,
    requestedAt: request.requestedAt.toISOString(),
    startedAt: iso(request.startedAt),
    endedAt: iso(request.endedAt),
    spokenMs: request.spokenMs ?? 0,
    revision: request.revision,
  });
  const byId = new Map(requests.map((request) => [String(request._id), request]));
  const queue = (state?.queue ?? []).map((id) => byId.get(String(id))).filter((request): request is Stored => Boolean(request));
  const floorRequest = state?.floorId ? byId.get(String(state.floorId)) : undefined;
  const done = requests.filter((request) => request.status === 'done' || request.status === 'withdrawn').sort((a, b) => (b.endedAt ?? b.updatedAt).getTime() - (a.endedAt ?? a.updatedAt).getTime());

  const now = Date.now();
  const spoken = (request: Stored) => (request.spokenMs ?? 0) + (request.status === 'speaking' && request.startedAt ? now - request.startedAt.getTime() : 0);
  const bySpeaker = new Map<string, SpeakersView['timeBySpeaker'][number]>();
  const bySite = new Map<string, SpeakersView['timeBySite'][number]>();
  for (const request of requests) {
    if (!request.startedAt) continue;
    const key = request.attendeeId ? `attendee:${request.attendeeId}` : `name:${request.name.toLowerCase()}|${request.siteId ?? ''}`;
    const speaker = bySpeaker.get(key) ?? { key, name: request.name, siteId: request.siteId ? String(request.siteId) : null, spokenMs: 0, speeches: 0 };
    speaker.spokenMs += spoken(request);
    speaker.speeches += 1;
    bySpeaker.set(key, speaker);
    const siteKey = request.siteId ? String(request.siteId) : '';
    const site = bySite.get(siteKey) ?? { siteId: siteKey || null, siteName: siteKey ? (siteNames.get(siteKey) ?? null) : null, spokenMs: 0, speeches: 0 };
    site.spokenMs += spoken(request);
    site.speeches += 1;
    bySite.set(siteKey, site);
  }
  return {
    queue: queue.map(view),
    floor: floorRequest ? view(floorRequest) : null,
    done: done.slice(0, 50).map(view),
    timeBySpeaker: [...bySpeaker.values()].sort((a, b) => b.spokenMs - a.spokenMs),
    timeBySite: [...bySite.values()].sort((a, b) => b.spokenMs - a.spokenMs),
    revision,
  };
}
