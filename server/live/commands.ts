// Every live command by its wire name (docs/api/live.md): the socket handlers and the HTTP
// command route both look the action up here, so both call the same function.
import { startMeeting, endMeeting, setQuorum } from '../meetings/lifecycle.js';
import { addWalkIn, checkIn, markAbsent, markLeftEarly, selfCheckIn, undoAttendance } from '../attendance/actions.js';
import { setSiteLink } from '../sites/link-status.js';
import { extendAgendaItem, nextAgendaItem, pauseAgendaItem, previousAgendaItem, resumeAgendaItem, startAgendaItem } from '../agenda/control.js';
import { endSpeech, grantFloor, reorderSpeakers, requestToSpeak, withdrawRequest } from '../speakers/actions.js';
import { getCheckInCode, liveSnapshotCommand } from './queries.js';
import type { LiveCommandName } from './contract.js';
import type { Actor } from '../lib/actor.js';

export type LiveAction = (actor: Actor, input: unknown) => Promise<{ revision: number } & object>;

export const liveActions: Record<Exclude<LiveCommandName, 'meeting:join'>, LiveAction> = {
  'live:snapshot': liveSnapshotCommand,
  'meeting:start': startMeeting,
  'meeting:end': endMeeting,
  'meeting:setQuorum': setQuorum,
  'attendance:checkIn': checkIn,
  'attendance:selfCheckIn': selfCheckIn,
  'attendance:markAbsent': markAbsent,
  'attendance:leftEarly': markLeftEarly,
  'attendance:addWalkIn': addWalkIn,
  'attendance:undo': undoAttendance,
  'site:setLink': setSiteLink,
  'site:checkInCode': getCheckInCode,
  'agenda:start': startAgendaItem,
  'agenda:next': nextAgendaItem,
  'agenda:previous': previousAgendaItem,
  'agenda:extend': extendAgendaItem,
  'agenda:pause': pauseAgendaItem,
  'agenda:resume': resumeAgendaItem,
  'speakers:request': requestToSpeak,
  'speakers:withdraw': withdrawRequest,
  'speakers:reorder': reorderSpeakers,
  'speakers:grant': grantFloor,
  'speakers:end': endSpeech,
};

export function isLiveCommand(name: string): name is keyof typeof liveActions {
  return Object.prototype.hasOwnProperty.call(liveActions, name);
}
