// An instance that starts while the database is out of reach for a moment (the store restarting
// just then, as in the conference-day simulation) comes up once it answers, instead of exiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startSecondInstance, type SecondInstance } from './helpers/second-instance.js';

let app: TestApp;
let instance: SecondInstance | undefined;

beforeAll(async () => {
  app = await startTestApp();
});

afterAll(async () => {
  await mongoose.connection.db?.admin().command({ configureFailPoint: 'failCommand', mode: 'off' });
  await instance?.stop();
  await app.stop();
});

describe('starting while the database drops connections', () => {
  it('tries its start-up steps again, says so in the log, and serves once the database answers', { timeout: 120_000 }, async () => {
    // The store closes the connection under the first three index builds (what a restarting store
    // does to a start-up that reached it): the driver sees network errors, as in a real outage.
    await mongoose.connection.db!.admin().command({ configureFailPoint: 'failCommand', mode: { times: 3 }, data: { failCommands: ['createIndexes'], closeConnection: true } });
    const logs: string[] = [];
    instance = await startSecondInstance(app, undefined, { logs });
    const retries = logs.map((line) => JSON.parse(line) as { msg?: string; err?: { message?: string } }).filter((line) => line.msg === 'database out of reach while starting; trying again');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0].err?.message).toMatch(/closed|cleared/);
    const health = await fetch(`${instance.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const login = await fetch(`${instance.baseUrl}/login`);
    expect(login.status).toBe(200);
  });
});
