// MongoDB server errors as the driver and mongoose expect them: numeric code, codeName, errmsg.

export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  Unauthorized: 13,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  QueryPlanKilled: 175,
  InvalidLength: 16,
  NotAReplicaSet: 123,
  NoReplicationEnabled: 76,
  DocumentValidationFailure: 121,
  CommandNotSupportedOnView: 166,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  EmptyFieldName: 56,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NotImplemented: 238,
  InvalidPipelineOperator: 168,
  NoQueryExecutionPlans: 291,
  BSONObjectTooLarge: 10334,
  Overflow: 15,
  ConversionFailure: 241,
  OptionNotSupportedOnView: 167,
  CommandNotSupported: 115,
  OperationFailed: 96,
  DBPathInUse: 98,
  ExceededMemoryLimit: 146,
  UnsatisfiableWriteConcern: 100,
  OutOfDiskSpace: 14031,
  Location: 0,
  DuplicateKey: 11000,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

const codeNames = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

export class MongoServerError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Extra fields copied into the reply, e.g. keyPattern/keyValue for duplicate keys. */
  readonly extra: Record<string, unknown>;

  constructor(codeName: ErrorCodeName, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.code = ErrorCodes[codeName];
    this.codeName = codeName;
    this.extra = extra;
  }

  /** Shape used both as a top-level command error and inside writeErrors. */
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

/** Some server errors have numeric "location" codes with no codeName. */
export class MongoLocationError extends MongoServerError {
  constructor(code: number, message: string) {
    super('Location', message);
    (this as { code: number }).code = code;
    (this as { codeName: string }).codeName = codeNames.get(code) ?? `Location${code}`;
  }
}

export function errorReply(err: unknown): Record<string, unknown> {
  return asServerError(err).toReply();
}

/**
 * Any error as the client may see it. A MongoServerError is already in mongod's terms; anything
 * else is a fault of the store itself: its text (a JS exception's, naming internals) stays in the
 * store's log and the client gets InternalError, as mongod answers an internal failure.
 */
export function asServerError(err: unknown): MongoServerError {
  if (err instanceof MongoServerError) return err;
  console.error('[embedded-mongo] internal error:', err);
  return new MongoServerError('InternalError', 'An internal error occurred in the embedded store; the operation did not complete');
}

/** mongod parses a filter at most this many levels deep ($and/$or/$nor/$elemMatch/$not nesting). */
export const MAX_QUERY_TREE_DEPTH = 100;

/** mongod's refusal of a filter nested deeper than MAX_QUERY_TREE_DEPTH; `at` is the part too deep. */
export function queryTreeTooDeep(at: () => string): MongoServerError {
  let text: string;
  try {
    text = at();
  } catch {
    text = '{ ... }'; // too deep to print without running out of stack
  }
  return badValue(`exceeded maximum query tree depth of ${MAX_QUERY_TREE_DEPTH} at ${text}`);
}

export function badValue(message: string): MongoServerError {
  return new MongoServerError('BadValue', message);
}

export function failedToParse(message: string): MongoServerError {
  return new MongoServerError('FailedToParse', message);
}

export function typeMismatch(message: string): MongoServerError {
  return new MongoServerError('TypeMismatch', message);
}
