// A wall display (projector): the current agenda item and its timer, who speaks and from which
// site, the next item, attendance (the meeting's or the site's) and the site's self check-in code.
import { formatDuration, remainingMs } from './_live.js';
import { startPage, type Page } from './_screen.js';

const page = startPage('wall');
if (page) setUp(page);

function setUp(page: Page): void {
  const { live, text } = page;
  const siteId = page.element.dataset.site ?? '';
  const set = (id: string, value: string) => {
    const target = document.getElementById(id);
    if (target && target.textContent !== value) target.textContent = value;
  };

  function draw(): void {
    const state = live.state;
    const current = state.agenda.items.find((item) => item.id === state.agenda.currentItemId);
    const next = state.agenda.items.find((item) => item.id === state.agenda.nextItemId);
    const status = state.meeting.status;
    set('wall-item', current ? current.title : text[status === 'ended' ? 'wall.ended' : 'wall.waiting'] ?? '');
    const floor = state.speakers.floor;
    const plannedSpeakers = current?.speakers.map((speaker) => [speaker.name, speaker.position].filter(Boolean).join(', ')).join(' · ') ?? '';
    set('wall-speaker', floor ? `${text['wall.speaker']}: ${[floor.name, floor.siteName].filter(Boolean).join(' — ')}` : plannedSpeakers);
    set('wall-next', next?.title ?? '—');
    const counts = siteId ? state.sites.find((site) => site.id === siteId)?.counts : state.totals;
    if (counts) set('wall-count', `${counts.present}/${counts.expected}`);
    drawTimer();
  }

  function drawTimer(): void {
    const remaining = status() === 'live' ? remainingMs(live.state, live.now()) : null;
    const timer = document.getElementById('wall-timer');
    if (!timer) return;
    timer.dataset.overrun = String(remaining !== null && remaining < 0);
    set('wall-timer', remaining === null ? '' : remaining < 0 ? `${text['agenda.overrun']} ${formatDuration(-remaining)}` : formatDuration(remaining));
  }
  const status = () => live.state.meeting.status;

  async function refreshCode(): Promise<void> {
    const ack = await live.send<{ code: { code: string; rotatesAt: string } }>('site:checkInCode', { siteId });
    if (ack.ok) {
      set('wall-code', ack.code.code);
      setTimeout(() => void refreshCode(), Math.max(5000, Date.parse(ack.code.rotatesAt) - live.now() + 500));
    } else setTimeout(() => void refreshCode(), 10_000);
  }
  if (siteId) {
    // The code rotates: ask as soon as connected (an organizer's wall has none in its snapshot), then at each rotation.
    live.onConnection((state) => {
      if (state === 'online' && !document.getElementById('wall-code')?.dataset.asked) {
        document.getElementById('wall-code')!.dataset.asked = '1';
        void refreshCode();
      }
    });
  }

  live.subscribe(draw);
  setInterval(drawTimer, 1000);
  draw();
}
