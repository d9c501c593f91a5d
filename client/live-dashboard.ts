// The organizer's live dashboard and the chair's tablet: every bridge point's attendance,
// connection and link, totals and quorum, latecomers; start and end the meeting; run the agenda
// (timer with overrun warning, planned and actual times) and the speaker queue. All drawn from
// the live state, so every change made anywhere shows here without a reload.
import type { LiveSnapshot, SpeakerRequestView } from '../server/live/contract.js';
import { formatDuration, newOperationId, remainingMs, type LiveState } from './_live.js';
import { clock, element, say, showMeetingStatus, startPage, type Page, type Texts } from './_screen.js';

const page = startPage((document.getElementById('live-page')?.dataset.screen as 'dashboard' | 'chair' | undefined) ?? 'dashboard');
if (page) setUp(page);

function setUp(page: Page): void {
  const { live, text } = page;
  const errorLine = document.getElementById('command-error') as HTMLElement;

  async function command(name: Parameters<LiveState['send']>[0], input: Record<string, unknown> = {}): Promise<void> {
    errorLine.hidden = true;
    const ack = await live.send(name, input);
    if (!ack.ok) {
      errorLine.textContent = Object.values(ack.error.fields ?? {})[0] ?? ack.error.message;
      errorLine.hidden = false;
    }
  }

  document.addEventListener('click', (event) => {
    const target = event.target as HTMLElement;
    const meetingButton = target.closest<HTMLButtonElement>('button[data-command]');
    if (meetingButton) {
      if (meetingButton.dataset.confirm && !window.confirm(meetingButton.dataset.confirm)) return;
      void command(meetingButton.dataset.command as 'meeting:start' | 'meeting:end');
      return;
    }
    const agendaButton = target.closest<HTMLButtonElement>('button[data-agenda]');
    if (agendaButton) {
      const action = agendaButton.dataset.agenda;
      const current = live.state.agenda.currentItemId ?? undefined;
      if (action === 'next' || action === 'previous') void command(`agenda:${action}`, current ? { fromItemId: current } : {});
      else if (action === 'extend') void command('agenda:extend', { minutes: Number(agendaButton.dataset.minutes), opId: newOperationId() });
      else if (action === 'pause' || action === 'resume') void command(`agenda:${action}`);
      else if (action === 'start') void command('agenda:start', { itemId: agendaButton.dataset.item });
      return;
    }
    const speakerButton = target.closest<HTMLButtonElement>('button[data-speaker]');
    if (speakerButton) {
      const requestId = speakerButton.dataset.request ?? '';
      const action = speakerButton.dataset.speaker;
      if (action === 'grant') void command('speakers:grant', { requestId });
      else if (action === 'end') void command('speakers:end');
      else if (action === 'withdraw') void command('speakers:withdraw', { requestId });
      else if (action === 'up' || action === 'down') {
        const ids = live.state.speakers.queue.map((request) => request.id);
        const index = ids.indexOf(requestId);
        const swap = action === 'up' ? index - 1 : index + 1;
        if (index < 0 || swap < 0 || swap >= ids.length) return;
        [ids[index], ids[swap]] = [ids[swap]!, ids[index]!];
        void command('speakers:reorder', { orderedIds: ids });
      }
    }
  });

  const requestForm = document.getElementById('request-form') as HTMLFormElement | null;
  requestForm?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(requestForm);
    const input: Record<string, unknown> = { opId: newOperationId(), topic: String(data.get('topic') ?? '') };
    const siteId = String(data.get('siteId') ?? '');
    const name = String(data.get('name') ?? '').trim();
    if (siteId) input.siteId = siteId;
    if (name) input.name = name;
    const ack = await live.send('speakers:request', input);
    const error = document.getElementById('request-error') as HTMLElement;
    if (ack.ok) {
      requestForm.reset();
      error.hidden = true;
    } else {
      error.textContent = Object.values(ack.error.fields ?? {})[0] ?? ack.error.message;
      error.hidden = false;
    }
  });

  // The quorum share of this meeting (organizers): one command, the line redraws from its event.
  const quorumForm = document.getElementById('quorum-form') as HTMLFormElement | null;
  quorumForm?.addEventListener('submit', (event) => {
    event.preventDefault();
    void command('meeting:setQuorum', { quorumPercent: Number(new FormData(quorumForm).get('quorumPercent')) });
  });

  const render = () => draw(live.state, live, text);
  live.subscribe(render);
  setInterval(() => drawTimer(live.state, live, text), 1000);
  render();
}

function draw(state: LiveSnapshot, live: LiveState, text: Texts): void {
  showMeetingStatus({ live, text } as Page);
  const status = state.meeting.status;
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-when]')) button.hidden = button.dataset.when !== status;
  for (const button of document.querySelectorAll<HTMLButtonElement>('#agenda-controls button')) button.disabled = status !== 'live' || !state.you.can.controlAgenda;
  drawAttendance(state, text);
  drawAgenda(state, live, text);
  drawSpeakers(state, live, text);
}

function drawAttendance(state: LiveSnapshot, text: Texts): void {
  const share = document.getElementById('quorum-percent') as HTMLInputElement | null;
  if (share && document.activeElement !== share) share.value = String(state.quorum.percent);
  const quorum = document.getElementById('quorum');
  if (quorum) {
    quorum.dataset.reached = String(state.quorum.reached);
    quorum.textContent = `${text[state.quorum.reached ? 'dashboard.quorumReached' : 'dashboard.quorumMissing']}: ${say(text, 'dashboard.quorum', { needed: state.quorum.needed, percent: state.quorum.percent, present: state.quorum.present })}`;
  }
  const totals = document.getElementById('totals');
  if (totals) {
    totals.replaceChildren(
      ...(['present', 'expected', 'absent', 'pending', 'late', 'walkIns'] as const).map((key) => {
        const box = element('div');
        const number = element('strong', '', String(state.totals[key]));
        number.dataset.total = key;
        box.append(number, element('span', '', text[`count.${key}`] ?? key));
        return box;
      }),
    );
  }
  const body = document.querySelector('#sites-table tbody');
  if (body) {
    body.replaceChildren(
      ...state.sites.map((site) => {
        const row = element<HTMLTableRowElement>('tr');
        row.dataset.site = site.id;
        const connected = element('span', `presence ${site.presence.connected ? 'is-connected' : 'is-disconnected'}`, text[site.presence.connected ? 'dashboard.isConnected' : 'dashboard.notConnected']);
        const link = element('span', `link-status link-${site.link.status ?? 'none'}`, text[`link.${site.link.status ?? 'none'}`]);
        // The site's own screens, for an organizer helping a district or watching its projector.
        const name = element('span', 'site-name');
        const checkIn = element<HTMLAnchorElement>('a', '', site.name);
        checkIn.href = `/meetings/${state.meeting.id}/sites/${site.id}/checkin`;
        const wall = element<HTMLAnchorElement>('a', 'muted site-wall', '▣');
        wall.href = `/meetings/${state.meeting.id}/sites/${site.id}/wall`;
        wall.target = '_blank';
        wall.title = text['checkin.wall'] ?? '';
        wall.setAttribute('aria-label', `${text['checkin.wall'] ?? ''}: ${site.name}`);
        name.append(checkIn, ' ', wall);
        if (site.isMain) name.append(' ', element('span', 'badge badge-main', '★'));
        const cells: Array<string | HTMLElement> = [name, String(site.counts.expected), String(site.counts.present), String(site.counts.absent), String(site.counts.late), connected, clock(site.presence.lastSeenAt, state.meeting.timeZone), link];
        cells.forEach((cell, index) => {
          const td = element('td');
          if (index >= 1 && index <= 4) td.dataset.count = ['expected', 'present', 'absent', 'late'][index - 1];
          td.append(cell);
          row.append(td);
        });
        return row;
      }),
    );
    const foot = document.querySelector('#sites-table tfoot');
    if (foot) {
      const row = element('tr');
      for (const cell of [text['dashboard.totals'] ?? '', String(state.totals.expected), String(state.totals.present), String(state.totals.absent), String(state.totals.late), `${state.sites.filter((site) => site.presence.connected).length}/${state.sites.length}`, '', '']) row.append(element('th', '', cell));
      foot.replaceChildren(row);
    }
  }
  const latecomers = document.getElementById('latecomers');
  if (latecomers) {
    const late = state.attendance.filter((record) => record.late).sort((a, b) => (b.presentAt ?? '').localeCompare(a.presentAt ?? ''));
    const siteName = (id: string) => state.sites.find((site) => site.id === id)?.name ?? '';
    latecomers.replaceChildren(...(late.length ? late.map((record) => element('li', '', `${clock(record.presentAt, state.meeting.timeZone)} · ${record.fullName} · ${siteName(record.siteId)}`)) : [element('li', 'muted', text['dashboard.noLatecomers'])]));
  }
  const siteSelect = document.getElementById('request-site') as HTMLSelectElement | null;
  if (siteSelect && siteSelect.options.length !== state.sites.length + 1) {
    siteSelect.replaceChildren(new Option('—', ''), ...state.sites.map((site) => new Option(site.name, site.id)));
  }
}

function drawAgenda(state: LiveSnapshot, live: LiveState, text: Texts): void {
  const zone = state.meeting.timeZone;
  const list = document.getElementById('agenda-items');
  const canControl = state.you.can.controlAgenda && state.meeting.status === 'live';
  if (list) {
    list.replaceChildren(
      ...state.agenda.items.map((item) => {
        const row = element('li', `agenda-item agenda-${item.state}`);
        row.dataset.item = item.id;
        const title = element('strong', '', item.title);
        const speakers = item.speakers.map((speaker) => speaker.name).join(', ');
        const times = element(
          'span',
          'muted agenda-times',
          `${text['agenda.planned']} ${clock(item.plannedStartsAt, zone)}–${clock(item.plannedEndsAt, zone)}${item.actualStartedAt ? ` · ${text['agenda.actual']} ${clock(item.actualStartedAt, zone)}${item.actualEndedAt ? `–${clock(item.actualEndedAt, zone)}` : ''}` : ''} · ${say(text, 'agenda.minutes', { minutes: item.plannedMinutes + item.extendedMinutes })}`,
        );
        row.append(title);
        if (speakers) row.append(element('span', 'agenda-speakers', speakers));
        row.append(times);
        if (canControl && item.state !== 'current') {
          const start = element<HTMLButtonElement>('button', 'btn btn-small', text['agenda.startItem']);
          start.type = 'button';
          start.dataset.agenda = 'start';
          start.dataset.item = item.id;
          row.append(start);
        }
        return row;
      }),
    );
    if (state.agenda.items.length === 0) list.replaceChildren(element('li', 'muted', text['agenda.empty']));
  }
  const paused = state.agenda.timer?.paused ?? false;
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-agenda="pause"]')) button.hidden = paused;
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-agenda="resume"]')) button.hidden = !paused;
  drawTimer(state, live, text);
}

function drawTimer(state: LiveSnapshot, live: LiveState, text: Texts): void {
  const box = document.getElementById('agenda-now');
  if (!box) return;
  const current = state.agenda.items.find((item) => item.id === state.agenda.currentItemId);
  const next = state.agenda.items.find((item) => item.id === state.agenda.nextItemId);
  const remaining = remainingMs(state, live.now());
  const overrun = remaining !== null && remaining < 0;
  box.dataset.overrun = String(overrun);
  const parts: HTMLElement[] = [];
  if (current) {
    parts.push(element('span', 'now-label', text['agenda.now']), element('strong', 'now-title', current.title));
    if (remaining !== null) parts.push(element('span', 'timer', `${text[overrun ? 'agenda.overrun' : 'agenda.remaining']} ${formatDuration(overrun ? -remaining : remaining)}`));
  } else parts.push(element('span', 'muted', text['agenda.nothing']));
  if (next) parts.push(element('span', 'muted now-next', `${text['agenda.nextUp']}: ${next.title}`));
  if (state.agenda.delayMinutes > 0) parts.push(element('span', 'delay', say(text, 'agenda.delay', { minutes: state.agenda.delayMinutes })));
  box.replaceChildren(...parts);
  const floor = document.querySelector<HTMLElement>('#speaker-floor .timer');
  const speech = state.speakers.floor;
  if (floor && speech) floor.textContent = formatDuration(spokenMs(speech, live.now()));
}

function spokenMs(request: SpeakerRequestView, now: number): number {
  return request.spokenMs + (request.status === 'speaking' && request.startedAt ? now - Date.parse(request.startedAt) : 0);
}

function drawSpeakers(state: LiveSnapshot, live: LiveState, text: Texts): void {
  const manage = state.you.can.manageSpeakers && state.meeting.status === 'live';
  const button = (label: string, action: string, requestId = '', className = 'btn btn-small') => {
    const node = element<HTMLButtonElement>('button', className, label);
    node.type = 'button';
    node.dataset.speaker = action;
    node.dataset.request = requestId;
    node.disabled = !manage;
    return node;
  };
  const who = (request: SpeakerRequestView) => [request.name, request.siteName].filter(Boolean).join(' — ');
  const floor = document.getElementById('speaker-floor');
  if (floor) {
    const speech = state.speakers.floor;
    floor.replaceChildren(
      ...(speech
        ? [element('span', 'now-label', text['speakers.floor']), element('strong', 'now-title', who(speech)), element('span', 'muted', speech.topic), element('span', 'timer', formatDuration(spokenMs(speech, live.now()))), button(text['speakers.end'] ?? '', 'end', speech.id, 'btn btn-small btn-danger')]
        : [element('span', 'muted', text['speakers.noFloor'])]),
    );
  }
  const queue = document.getElementById('speaker-queue');
  if (queue) {
    const last = state.speakers.queue.length - 1;
    queue.replaceChildren(
      ...state.speakers.queue.map((request, index) => {
        const row = element('li', 'speaker-request');
        row.dataset.request = request.id;
        row.append(element('strong', '', who(request)), element('span', 'muted', request.topic));
        const tools = element('span', 'speaker-tools');
        tools.append(button(text['speakers.grant'] ?? '', 'grant', request.id, 'btn btn-small btn-primary'));
        if (index > 0) tools.append(button(`↑ ${text['speakers.up']}`, 'up', request.id));
        if (index < last) tools.append(button(`↓ ${text['speakers.down']}`, 'down', request.id));
        tools.append(button(text['speakers.withdraw'] ?? '', 'withdraw', request.id));
        row.append(tools);
        return row;
      }),
    );
    if (state.speakers.queue.length === 0) queue.replaceChildren(element('li', 'muted', text['speakers.empty']));
  }
  const bySpeaker = document.getElementById('time-by-speaker');
  if (bySpeaker) bySpeaker.replaceChildren(...state.speakers.timeBySpeaker.map((entry) => element('li', '', `${entry.name}: ${formatDuration(entry.spokenMs)} (${entry.speeches})`)));
  const bySite = document.getElementById('time-by-site');
  if (bySite) bySite.replaceChildren(...state.speakers.timeBySite.map((entry) => element('li', '', `${entry.siteName ?? '—'}: ${formatDuration(entry.spokenMs)} (${entry.speeches})`)));
}
