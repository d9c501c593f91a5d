// Environment -> one typed, validated configuration object. Every variable is documented in the
// README; a bad value stops the start with a message naming the variable.
import { z } from 'zod';
import { isIP } from 'node:net';
import path from 'node:path';
import { durabilityFromEnvironment } from './embedded-mongo/index.js';

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((value) => ['1', 'true', 'yes'].includes(value));

/**
 * What Express's `trust proxy` accepts: true/false, a number of proxies, or addresses and subnets
 * (and the names loopback, linklocal, uniquelocal) separated by commas. Checked here: Express
 * would only refuse a bad one when the first request came, without naming the variable.
 */
function isTrustProxy(value: string): boolean {
  if (/^(true|false|\d+)$/.test(value)) return true;
  return value.split(',').every((part) => {
    const [address, prefix, ...rest] = part.trim().split('/');
    if (rest.length > 0) return false;
    if (['loopback', 'linklocal', 'uniquelocal'].includes(address) && prefix === undefined) return true;
    const family = isIP(address);
    if (family === 0) return false;
    if (prefix === undefined) return true;
    if (family === 4 && isIP(prefix) === 4) return isContiguousNetmask(prefix); // a netmask: 10.0.0.0/255.0.0.0
    return /^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  });
}

/** 255.255.0.0, not 255.0.255.0: proxy-addr turns a netmask into a prefix length and refuses one it cannot. */
function isContiguousNetmask(mask: string): boolean {
  const bits = mask.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const hosts = 2 ** 32 - 1 - bits;
  return (hosts & (hosts + 1)) === 0;
}

/** EMBEDDED_MONGO_FSYNC as the store reads it (its own rule: embedded-mongo/index.ts). */
function readsAsDurability(value: string): boolean {
  try {
    durabilityFromEnvironment(value);
    return true;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** A real MongoDB (or replica set). Unset: the embedded store in DATA_DIR/db. */
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /** Signs session cookies. Required in production; development generates one per data dir. */
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** First administrator, created at start when no account exists. */
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  /** Several app instances share live state through Redis Streams. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  SEED_DEMO: booleanFlag.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Failed sign-ins allowed per IP and e-mail in 15 minutes. */
  LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
  /** Set behind a reverse proxy (e.g. "1" or "loopback") so client IPs and https are seen right. */
  TRUST_PROXY: z
    .string()
    .trim()
    .refine(isTrustProxy, 'must be true, false, a number of proxies (e.g. 1) or addresses and subnets separated by commas (e.g. loopback, 10.0.0.0/8)')
    .optional(),
  /** Read by the embedded store itself (embedded-mongo/index.ts, memory.ts): checked here so a bad value stops the start like any other. */
  EMBEDDED_MONGO_FSYNC: z.string().refine(readsAsDurability, 'must be "always", "off" or a number of milliseconds from 1 to 500').optional(),
  EMBEDDED_MONGO_MEMORY_MB: z.coerce.number('must be a positive number of MiB').positive('must be a positive number of MiB').optional(),
  /** Public base URL used in links sent out (calendar invites, coordinator links). */
  PUBLIC_URL: z.url().optional(),
  /** Mail server for calendar invitations, e.g. smtps://user:pass@mail.example.vn:465. Unset: no e-mail. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s/?#]+(:\d+)?\/?(\?\S*)?$/, 'must look like smtp://[user:password@]host[:port] or smtps://…')
    .refine((value) => URL.canParse(value), 'must be a valid smtp:// or smtps:// URL')
    .optional(),
  /** Sender of invitations, and the ORGANIZER address calendars require (RFC 5545). */
  MAIL_FROM: z.email().optional(),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  mongodbUri?: string;
  dataDir: string;
  sessionSecret?: string;
  admin?: { email: string; password: string };
  redisUrl?: string;
  seedDemo: boolean;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  loginRateLimit: number;
  trustProxy?: string;
  publicUrl?: string;
  smtpUrl?: string;
  /** Always set: MAIL_FROM, or no-reply@ the PUBLIC_URL host (calendar invites need an ORGANIZER mailto). */
  mailFrom: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables count as unset: `MONGODB_URI= npm start` should mean "no MongoDB".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const values = parsed.data;
  const problems: string[] = [];
  const isProduction = values.NODE_ENV === 'production';
  if (isProduction && !values.SESSION_SECRET) problems.push('SESSION_SECRET: required in production (at least 32 random characters)');
  if (Boolean(values.ADMIN_EMAIL) !== Boolean(values.ADMIN_PASSWORD)) problems.push('ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither');
  if (values.SMTP_URL && !values.MAIL_FROM) problems.push('MAIL_FROM: required with SMTP_URL (the sender address of calendar invitations)');
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: values.NODE_ENV,
    isProduction,
    port: values.PORT,
    host: values.HOST,
    mongodbUri: values.MONGODB_URI,
    dataDir: path.resolve(values.DATA_DIR),
    sessionSecret: values.SESSION_SECRET,
    admin: values.ADMIN_EMAIL && values.ADMIN_PASSWORD ? { email: values.ADMIN_EMAIL, password: values.ADMIN_PASSWORD } : undefined,
    redisUrl: values.REDIS_URL,
    seedDemo: values.SEED_DEMO ?? !isProduction,
    logLevel: values.LOG_LEVEL,
    loginRateLimit: values.LOGIN_RATE_LIMIT,
    trustProxy: values.TRUST_PROXY,
    publicUrl: values.PUBLIC_URL,
    smtpUrl: values.SMTP_URL,
    mailFrom: values.MAIL_FROM ?? defaultMailFrom(values.PUBLIC_URL),
  };
}

/** Without MAIL_FROM (no e-mail is sent then) calendar files still need an ORGANIZER mailto. */
function defaultMailFrom(publicUrl: string | undefined): string {
  const host = publicUrl ? new URL(publicUrl).hostname : '';
  return `no-reply@${host && host.includes('.') ? host : 'bridgepoint.invalid'}`;
}
