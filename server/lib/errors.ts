// The project's typed errors. Actions throw these; the Express error handler and the Socket.IO
// ack shape (see toErrorBody) turn them into `{ error: { code, message, fields } }` in the
// asker's language.
import type { MessageKey, MessageParams } from './i18n.js';

export type FieldMessages = Record<string, { key: MessageKey | string; params?: MessageParams }>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  constructor(
    readonly messageKey: MessageKey | string,
    readonly params: MessageParams = {},
    readonly fields: FieldMessages = {},
  ) {
    super(messageKey);
    this.name = new.target.name;
  }
}

export class Invalid extends AppError {
  readonly status = 422;
  readonly code = 'invalid';
  constructor(fields: FieldMessages, messageKey: MessageKey | string = 'error.invalid', params: MessageParams = {}) {
    super(messageKey, params, fields);
  }
}

export class BadRequest extends AppError {
  readonly status = 400;
  readonly code = 'bad_request';
}

export class Unauthorized extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(messageKey: MessageKey | string = 'error.unauthorized', params: MessageParams = {}) {
    super(messageKey, params);
  }
}

export class Forbidden extends AppError {
  readonly status = 403;
  readonly code = 'forbidden';
  constructor(messageKey: MessageKey | string = 'error.forbidden', params: MessageParams = {}) {
    super(messageKey, params);
  }
}

export class NotFound extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(messageKey: MessageKey | string = 'error.notFound', params: MessageParams = {}) {
    super(messageKey, params);
  }
}

export class Conflict extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class TooLarge extends AppError {
  readonly status = 413;
  readonly code = 'too_large';
}

export class TooManyRequests extends AppError {
  readonly status = 429;
  readonly code = 'too_many_requests';
  /** When to try again, if known: answered as `retryAfterMs`. */
  retryAfterMs?: number;
}

/** The database cannot be reached for a moment (restarting, network): nothing was refused, try again. */
export class Unavailable extends AppError {
  readonly status = 503;
  readonly code = 'unavailable';
  /** When to try again: answered as `retryAfterMs`. */
  retryAfterMs = 2_000;
}

/** The driver's (and mongoose's) errors for a database it cannot reach right now. */
const unreachable = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoPoolClearedError', 'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoServerClosedError']);

const socketGone = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);

/** An error that says the database is out of reach for now, not that the request was wrong. */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  return (
    (typeof name === 'string' && unreachable.has(name)) ||
    // mongoose queues commands while disconnected and gives up with this message.
    (name === 'MongooseError' && typeof message === 'string' && message.includes('buffering timed out')) ||
    // The store's socket closed under a write the driver was sending (it passes these on unwrapped).
    (typeof code === 'string' && socketGone.has(code))
  );
}

/** True for MongoDB's duplicate-key error (E11000), from a real server or the embedded store. */
export function isDuplicateKeyError(error: unknown): error is { code: 11000; keyPattern?: Record<string, unknown>; keyValue?: Record<string, unknown> } {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
