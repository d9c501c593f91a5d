// Server parameters (getParameter / setParameter) as mongod answers them. Only parameters whose
// meaning the store honours are listed; any other name is refused the way mongod refuses it.
import { MongoServerError, badValue } from './errors.js';
import type { Document } from './values.js';
import { isNumeric, toNumber } from './values.js';

type Kind = 'bool' | 'int';

interface Parameter {
  kind: Kind | 'document';
  value: unknown;
  /** setParameter may change it (otherwise: startup only). */
  runtime: boolean;
}

export class ServerParameters {
  private readonly values = new Map<string, Parameter>([
    ['featureCompatibilityVersion', { kind: 'document', value: { version: '7.0' }, runtime: false }],
    ['logLevel', { kind: 'int', value: 0, runtime: true }],
    ['quiet', { kind: 'bool', value: false, runtime: true }],
    // Queries that would scan a whole collection fail with NoQueryExecutionPlans while set.
    ['notablescan', { kind: 'bool', value: false, runtime: true }],
    // The TTL sweeper deletes expired documents only while this is true.
    ['ttlMonitorEnabled', { kind: 'bool', value: true, runtime: true }],
    ['ttlMonitorSleepSecs', { kind: 'int', value: 1, runtime: false }],
    // Aggregates decode only the fields their stages read (pipeline-deps.ts) and count $groups
    // natively (group-counts.ts); off: whole documents, everything through mingo.
    ['internalPipelineOptimizations', { kind: 'bool', value: true, runtime: true }],
    ['javascriptEnabled', { kind: 'bool', value: false, runtime: false }],
  ]);

  get(name: string): unknown {
    return this.values.get(name)?.value;
  }

  flag(name: string): boolean {
    return this.get(name) === true;
  }

  /** The getParameter reply (without ok). */
  read(command: Document): Document {
    const arg = command.getParameter;
    const showDetails = arg !== null && typeof arg === 'object' && (arg as Document).showDetails === true;
    const allParameters = arg === '*' || (arg !== null && typeof arg === 'object' && (arg as Document).allParameters === true);
    const names = allParameters ? [...this.values.keys()] : Object.keys(command).filter((k) => k !== 'getParameter' && !GENERIC_ARGUMENTS.has(k));
    const reply: Document = {};
    for (const name of names) {
      const parameter = this.values.get(name);
      if (!parameter) continue;
      reply[name] = showDetails ? { value: parameter.value, settableAtRuntime: parameter.runtime, settableAtStartup: true } : parameter.value;
    }
    if (Object.keys(reply).length === 0) throw new MongoServerError('InvalidOptions', 'no option found to get');
    return reply;
  }

  /** Applies a setParameter command; returns { was } (the previous value of the last one set). */
  write(command: Document): Document {
    const changes: [Parameter, unknown][] = [];
    for (const name of Object.keys(command)) {
      if (name === 'setParameter' || GENERIC_ARGUMENTS.has(name)) continue;
      const parameter = this.values.get(name);
      if (!parameter) {
        throw new MongoServerError('InvalidOptions', `attempted to set unrecognized parameter [${name}], use help:true to see options `);
      }
      if (!parameter.runtime) throw new MongoServerError('IllegalOperation', `not allowed to change [${name}] at runtime`);
      changes.push([parameter, coerce(name, parameter.kind as Kind, command[name])]);
    }
    if (changes.length === 0) throw new MongoServerError('InvalidOptions', 'no option found to set, use help:true to see options ');
    let was: unknown;
    for (const [parameter, value] of changes) {
      was = parameter.value;
      parameter.value = value;
    }
    return { was };
  }
}

function coerce(name: string, kind: Kind, value: unknown): unknown {
  if (kind === 'bool') {
    if (typeof value === 'boolean') return value;
    if (isNumeric(value)) return toNumber(value) !== 0;
    if (value === 'true' || value === 'false') return value === 'true';
    throw badValue(`Invalid value for ${name}: expected a boolean`);
  }
  const n = isNumeric(value) ? toNumber(value) : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw badValue(`Invalid value for ${name}: expected an integer`);
  if (name === 'logLevel' && (n < 0 || n > 5)) throw badValue(`Invalid value for logLevel: ${n} is not between 0 and 5`);
  return n;
}

/** Arguments every command may carry; they are not parameter names. */
const GENERIC_ARGUMENTS = new Set([
  '$db', 'lsid', '$clusterTime', 'comment', '$readPreference', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'maxTimeMS',
  'readConcern', 'writeConcern', 'txnNumber', 'autocommit', 'startTransaction', '$audit', '$client', 'help',
]);
