// An instance that starts while the database is out of reach for a moment (the store restarting
// just then, as in the conference-day simulation) comes up once it answers, instead of exiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { organizerCredentials, startTestApp, type TestApp } from './helpers/app.js';
import { HttpClient } from './helpers/http.js';
import { startSecondInstance, type SecondInstance } from './helpers/second-instance.js';
import { clearFailPoint, setFailPoint } from './helpers/fail-point.js';

let app: TestApp;
let instance: SecondInstance | undefined;

beforeAll(async () => {
  app = await startTestApp();
});

afterAll(async () => {
  await clearFailPoint();
  await instance?.stop();
  await app.stop();
});

describe('starting while the database drops connections', () => {
  it('tries its start-up steps again, says so in the log, and serves once the database answers', { timeout: 120_000 }, async () => {
    // The store closes the connection under the first three index builds (what a restarting store
    // does to a start-up that reached it): the driver sees network errors, as in a real outage.
    await setFailPoint({ times: 3 }, { failCommands: ['createIndexes'], closeConnection: true });
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

  it('keeps its sessions working when the session store\'s index build is the one cut off', { timeout: 120_000 }, async () => {
    await instance?.stop();
    instance = undefined;
    // One index build per model index comes first; the next one is the sessions' expiry index, which
    // connect-mongo built once on its own (a failed build left every session read failing, the
    // instance up but nobody able to sign in): the store closes the connection under it.
    const modelIndexes = Object.values(mongoose.models).reduce((sum, model) => sum + model.schema.indexes().length, 0);
    await setFailPoint({ times: 1, skip: modelIndexes }, { failCommands: ['createIndexes'], closeConnection: true });
    const logs: string[] = [];
    instance = await startSecondInstance(app, undefined, { logs });
    // Signed in and served: before, every session read failed (503) for as long as it ran.
    const client = new HttpClient(instance.baseUrl);
    const signIn = await client.signIn(organizerCredentials.email, organizerCredentials.password);
    expect(signIn.status).toBe(303);
    expect((await client.get(signIn.location!)).status).toBe(200);
    expect(logs.some((line) => (JSON.parse(line) as { msg?: string }).msg === 'database out of reach while starting; trying again')).toBe(true);
    // The expiry index is built with the models' now (connectDatabase): expired sessions still go.
    const indexes = await mongoose.connection.db!.collection('sessions').listIndexes().toArray();
    expect(indexes.find((index) => index.key.expires === 1)).toMatchObject({ expireAfterSeconds: 0 });
  });
});
