// The real app on a random port, on an in-memory embedded store over TCP, with one organizer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Express } from 'express';
import { createApp } from '../../server/app.js';
import { attachRealtime, type Realtime } from '../../server/realtime/index.js';
import { createFirstAdmin } from '../../server/accounts/actions.js';
import { organizerActor } from '../../server/accounts/actions.js';
import type { Actor } from '../../server/lib/actor.js';
import { connectTestDatabase } from './database.js';
import { HttpClient } from './http.js';
import type { CalendarSettings } from '../../server/calendar/settings.js';

export const organizerCredentials = { email: 'organizer@example.vn', password: 'correct horse battery staple', name: 'Nguyễn Thị Tổ Chức' };

export interface TestApp {
  baseUrl: string;
  server: Server;
  /** The Express app itself (e.g. to read the routes it registers). */
  express: Express;
  realtime: Realtime;
  /** The store's mongodb:// address (another app instance in a child process can use it). */
  databaseUri: string;
  /** The organizer as an actor, for calling actions directly in a test's setup. */
  organizer: Actor;
  /** A client with no session (an anonymous visitor). */
  newClient(): HttpClient;
  /** A client signed in as the organizer. */
  signInOrganizer(): Promise<HttpClient>;
  stop(): Promise<void>;
}

export async function startTestApp(options: { loginRateLimit?: number; logger?: Logger; publicUrl?: string; calendar?: CalendarSettings; redisUrl?: string; trustProxy?: string; presenceSweepMs?: number; eventBatchMs?: number; eventQuietMs?: number } = {}): Promise<TestApp> {
  const database = await connectTestDatabase();
  // Silent, unless BP_TEST_LOG names a file: then the server's errors go there (a 500 in a full run, say).
  const logger = options.logger ?? (process.env.BP_TEST_LOG ? pino({ level: 'error' }, pino.destination({ dest: process.env.BP_TEST_LOG, append: true, sync: true })) : pino({ level: 'silent' }));
  const { app, sessionMiddleware, sessionStore } = createApp({
    sessionSecret: 'test-session-secret-that-is-long-enough',
    isProduction: false,
    logger,
    loginRateLimit: options.loginRateLimit ?? 1000,
    calendar: options.calendar ?? { mailFrom: 'hoi-nghi@so-khcn.example.vn' },
    publicUrl: options.publicUrl,
    trustProxy: options.trustProxy,
  });
  const server = createServer(app);
  const realtime = await attachRealtime(server, { sessionMiddleware, sessionStore, logger, publicUrl: options.publicUrl, redisUrl: options.redisUrl, presenceSweepMs: options.presenceSweepMs, eventBatchMs: options.eventBatchMs, eventQuietMs: options.eventQuietMs });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const organizerUser = await createFirstAdmin(organizerCredentials);

  return {
    baseUrl,
    server,
    express: app,
    realtime,
    databaseUri: database.uri,
    organizer: organizerActor(organizerUser),
    newClient: () => new HttpClient(baseUrl),
    async signInOrganizer() {
      const client = new HttpClient(baseUrl);
      const response = await client.signIn(organizerCredentials.email, organizerCredentials.password);
      if (response.status !== 303) throw new Error(`organizer sign-in failed: ${response.status}`);
      return client;
    },
    async stop() {
      await realtime.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}
