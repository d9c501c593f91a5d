// GET /healthz for a load balancer: 200 while the instance reaches its database, 503 once it has
// lost it, so traffic goes to instances that can serve it.
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('the health check', () => {
  it('answers 200 {ok: true} with the database connected, and 503 {ok: false} without it', async () => {
    const health = async () => {
      const response = await fetch(`${app.baseUrl}/healthz`);
      return { status: response.status, body: await response.json(), cache: response.headers.get('cache-control') };
    };
    expect(await health()).toEqual({ status: 200, body: { ok: true }, cache: 'no-store' });
    await mongoose.disconnect();
    expect(await health()).toEqual({ status: 503, body: { ok: false }, cache: 'no-store' });
  });
});
