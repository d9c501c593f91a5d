import { it } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { conferenceDay, opId, Screens, send } from './live/fixtures.js';

it('times check-ins at idle', async () => {
  const app = await startTestApp();
  const day = await conferenceDay(app.organizer, { peoplePerSite: 30 });
  const screens = new Screens(app.baseUrl);
  const coordinator = screens.open({ token: day.sites[1].token });
  await send(coordinator, 'meeting:join', { meetingId: day.meetingId, screen: 'coordinator' });
  const times: number[] = [];
  for (const person of day.people[1]) {
    const t = performance.now();
    await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() });
    times.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 30));
  }
  times.sort((a, b) => a - b);
  console.log('ack ms p50', times[15].toFixed(2), 'min', times[0].toFixed(2), 'max', times.at(-1)!.toFixed(2));
  screens.closeAll();
  await app.stop();
});
