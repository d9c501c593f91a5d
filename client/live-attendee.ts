// The attendee's day page: what is on now and who speaks, self check-in with their site's code,
// a request to speak (and withdrawing it), their own attendance as it changes.
import { newOperationId } from './_live.js';
import { clock, element, say, showMeetingStatus, startPage, type Page } from './_screen.js';

const page = startPage('attendee');
if (page) setUp(page);

function setUp(page: Page): void {
  const { live, text } = page;
  const attendeeId = page.element.dataset.attendee ?? '';
  const set = (id: string, value: string) => {
    const target = document.getElementById(id);
    if (target && target.textContent !== value) target.textContent = value;
  };

  function draw(): void {
    const state = live.state;
    const zone = state.meeting.timeZone;
    showMeetingStatus(page!);
    const current = state.agenda.items.find((item) => item.id === state.agenda.currentItemId);
    const next = state.agenda.items.find((item) => item.id === state.agenda.nextItemId);
    set('now-item', current?.title ?? text['agenda.nothing'] ?? '');
    const floor = state.speakers.floor;
    set('now-speaker', floor ? `${text['speakers.floor']}: ${[floor.name, floor.siteName].filter(Boolean).join(' — ')}` : (current?.speakers.map((speaker) => speaker.name).join(', ') ?? ''));
    set('now-next', next ? `${text['agenda.nextUp']}: ${next.title}` : '');

    const record = state.attendance.find((candidate) => candidate.attendeeId === attendeeId);
    const mine = document.getElementById('my-state');
    if (mine && record) {
      mine.dataset.status = record.status;
      set('my-state', record.status === 'present' ? say(text, 'attendee.present', { time: clock(record.presentAt, zone) }) : record.status === 'absent' ? (text['attendee.absent'] ?? '') : '');
    }
    const selfCheckIn = document.getElementById('self-checkin');
    if (selfCheckIn) selfCheckIn.hidden = record?.status === 'present' || state.meeting.status === 'ended';

    const list = document.getElementById('agenda-items');
    list?.replaceChildren(
      ...state.agenda.items.map((item) => {
        const row = element('li', `agenda-item agenda-${item.state}`);
        row.append(element('strong', '', item.title));
        const speakers = item.speakers.map((speaker) => speaker.name).join(', ');
        if (speakers) row.append(element('span', 'agenda-speakers', speakers));
        row.append(element('span', 'muted agenda-times', `${clock(item.actualStartedAt ?? item.plannedStartsAt, zone)}–${clock(item.actualEndedAt ?? item.plannedEndsAt, zone)}`));
        return row;
      }),
    );

    const requests = document.getElementById('my-requests');
    const own = state.speakers.queue.filter((request) => request.attendeeId === attendeeId);
    requests?.replaceChildren(
      ...own.map((request) => {
        const row = element('li', '', `${request.topic} `);
        const withdraw = element<HTMLButtonElement>('button', 'btn btn-small', text['speakers.withdraw']);
        withdraw.type = 'button';
        withdraw.dataset.withdraw = request.id;
        row.append(withdraw);
        return row;
      }),
    );
  }

  const checkInForm = document.getElementById('self-checkin-form') as HTMLFormElement | null;
  checkInForm?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = document.getElementById('checkin-code-input') as HTMLInputElement;
    const error = document.getElementById('self-checkin-error') as HTMLElement;
    const ack = await live.send('attendance:selfCheckIn', { opId: newOperationId(), code: input.value });
    if (ack.ok) {
      error.hidden = true;
      input.removeAttribute('aria-invalid');
      const record = (ack as unknown as { record?: (typeof live.state.attendance)[number] }).record;
      if (record) {
        const index = live.state.attendance.findIndex((candidate) => candidate.attendeeId === record.attendeeId);
        if (index < 0) live.state.attendance.push(record);
        else if (live.state.attendance[index]!.revision <= record.revision) live.state.attendance[index] = record;
      }
      draw();
    } else {
      error.textContent = ack.error.fields?.code ?? ack.error.message;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
    }
  });

  const speakForm = document.getElementById('speak-form') as HTMLFormElement | null;
  speakForm?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const topic = (document.getElementById('speak-topic') as HTMLInputElement).value;
    const error = document.getElementById('speak-error') as HTMLElement;
    const ack = await live.send('speakers:request', { opId: newOperationId(), topic });
    if (ack.ok) {
      error.hidden = true;
      speakForm.reset();
      const status = document.getElementById('speak-status') as HTMLElement;
      status.textContent = say(text, 'speakers.requested', { topic: topic.trim() });
      status.hidden = false;
    } else {
      error.textContent = ack.error.fields?.topic ?? ack.error.message;
      error.hidden = false;
    }
  });

  document.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-withdraw]');
    if (button) void live.send('speakers:withdraw', { requestId: button.dataset.withdraw });
  });

  live.subscribe(draw);
  draw();
}
