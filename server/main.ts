// Process entry: config -> database -> HTTP + Socket.IO -> graceful shutdown.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { connectDatabase, embeddedPath, whileUnreachable } from './database.js';
import { createApp } from './app.js';
import { attachRealtime } from './realtime/index.js';
import { createFirstAdmin, hasAnyAccount } from './accounts/actions.js';
import { seedDemoConference } from './seed/demo.js';
import { resumeInvitationDelivery } from './calendar/mail.js';
import { seedDemoUnits } from './seed/demo-units.js';
import { startRecounts } from './attendance/recount.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel });
  // A library's promise nobody awaits (the Redis Streams adapter stores each disconnected socket's
  // session that way) must not stop the conference for everyone: logged, and the app goes on.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (kept running)'));

  // The database out of reach for a moment while starting (restarting too): each step is tried again.
  const retrying = (error: unknown) => logger.warn({ err: error }, 'database out of reach while starting; trying again');
  const database = await connectDatabase(config.mongodbUri ? { uri: config.mongodbUri } : { embedded: { dbPath: embeddedPath(config.dataDir) } }, undefined, retrying);
  logger.info({ embedded: database.embedded, uri: database.embedded ? database.uri : undefined }, 'database connected');

  const setupCode = await whileUnreachable(() => prepareFirstAccount(config, logger), retrying);
  if (config.seedDemo) {
    const { rehearsal } = await whileUnreachable(() => seedDemoConference(), retrying);
    await whileUnreachable(() => seedDemoUnits({ accounts: !config.isProduction }), retrying);
    logger.info({ rehearsal: rehearsal ? { id: String(rehearsal._id), title: rehearsal.title } : undefined }, 'demo conference ready (README: "Try the conference day")');
  }

  const { app, sessionMiddleware, sessionStore } = createApp({
    sessionSecret: config.sessionSecret ?? (await developmentSecret(config.dataDir)),
    isProduction: config.isProduction,
    logger,
    loginRateLimit: config.loginRateLimit,
    setupCode,
    trustProxy: config.trustProxy,
    calendar: { publicUrl: config.publicUrl, mailFrom: config.mailFrom, smtpUrl: config.smtpUrl },
    publicUrl: config.publicUrl,
  });
  const server = createServer(app);
  const realtime = await attachRealtime(server, { sessionMiddleware, sessionStore, redisUrl: config.redisUrl, publicUrl: config.publicUrl, logger });

  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
  logger.info(`Bridgepoint is running at http://${shownHost}:${config.port}`);
  // Invitation e-mails a previous run queued or was sending when it stopped.
  const resumed = await whileUnreachable(() => resumeInvitationDelivery(), retrying);
  if (resumed > 0) logger.info({ meetings: resumed }, 'resuming invitation e-mails');
  // Attendance counts a stopped process left half-written (attendance/recount.ts).
  const stopRecounts = startRecounts(logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 10_000);
    forced.unref();
    await stopRecounts();
    await realtime.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * The first administrator: from ADMIN_EMAIL/ADMIN_PASSWORD; in development a documented demo
 * account; in production otherwise a one-time setup code printed here for the /setup page.
 */
async function prepareFirstAccount(config: Config, logger: pino.Logger): Promise<string | undefined> {
  if (await hasAnyAccount()) return undefined;
  if (config.admin) {
    await createFirstAdmin({ email: config.admin.email, name: 'Administrator', password: config.admin.password });
    logger.info({ email: config.admin.email }, 'administrator account created from ADMIN_EMAIL');
    return undefined;
  }
  if (!config.isProduction) {
    await createFirstAdmin({ email: 'organizer@example.vn', name: 'Ban tổ chức (demo)', password: 'bridgepoint-demo' });
    logger.warn('development: demo organizer account organizer@example.vn / bridgepoint-demo created');
    return undefined;
  }
  const code = randomBytes(6).toString('hex');
  logger.warn(`no account exists yet: open /setup and enter the one-time setup code ${code}`);
  return code;
}

/** Development only: a random secret kept in the data directory so sessions survive restarts. */
async function developmentSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'session-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    await writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

await main();
