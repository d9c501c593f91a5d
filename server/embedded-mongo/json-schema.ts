// MongoDB's $jsonSchema (JSON Schema draft 4 with `bsonType`), as a query operator and in a
// collection's validator. mongod's dialect, not plain JSON Schema: a keyword that constrains one
// kind of value (minimum, minLength, properties, items...) passes any value of another kind;
// `type: 'number'` is every numeric BSON type and `integer` is refused; `$ref`, `$schema`,
// `default`, `definitions`, `format` and `id` are refused as mongod refuses them.
import { MongoServerError } from './errors.js';
import { toJsRegExp } from './query.js';
import type { Document } from './values.js';
import { bsonType, bsonTypeName, isNumeric, isPlainDocument, toNumber, valuesEqual } from './values.js';

/** Why a value failed, in the shape of mongod's `errInfo.details.schemaRulesNotSatisfied`. */
export interface RuleFailure {
  operatorName: string;
  specifiedAs?: Document;
  reason?: string;
  missingProperties?: string[];
  propertiesNotSatisfied?: Array<{ propertyName: string; details: RuleFailure[] }>;
  additionalProperties?: string[];
}

type Check = (value: unknown) => RuleFailure[];

const parseError = (message: string) => new MongoServerError('FailedToParse', message);
const typeMismatch = (message: string) => new MongoServerError('TypeMismatch', message);

/** mongod refuses a command nested deeper than this (BSONDepth's default): a schema is never deeper. */
const MAX_SCHEMA_DEPTH = 200;

/** A document's own field, never one inherited from Object.prototype ('constructor', 'toString'...). */
const field = (doc: Document, name: string): unknown => (Object.prototype.hasOwnProperty.call(doc, name) ? doc[name] : undefined);

/**
 * Equality as mongod's enum and uniqueItems compare (UnorderedFieldsBSONElementComparator): the
 * order of an object's fields does not count, at any depth; numbers of any type compare by value.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (isPlainDocument(a) && isPlainDocument(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && sameValue(a[key], b[key]));
  }
  return valuesEqual(a, b);
}

/**
 * A `pattern` as mongod's PCRE reads it: with code points (the 'u' flag) where JavaScript allows,
 * else as $regex compiles it (PCRE escapes such as `\@` are not errors there); one that is invalid
 * in both is refused with a reply, as mongod refuses it.
 */
function schemaRegExp(source: string): RegExp {
  try {
    return new RegExp(source, 'u');
  } catch {
    return toJsRegExp({ pattern: source, options: '' });
  }
}

const unsupported = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);
const ignored = new Set(['title', 'description']);

const jsonTypes: Record<string, string[]> = {
  object: ['object'],
  array: ['array'],
  number: ['double', 'int', 'long', 'decimal'],
  boolean: ['bool'],
  string: ['string'],
  null: ['null'],
};
const bsonTypes: Record<string, string[]> = {
  ...Object.fromEntries(['double', 'string', 'object', 'array', 'binData', 'undefined', 'objectId', 'bool', 'date', 'null', 'regex', 'javascript', 'int', 'timestamp', 'long', 'decimal', 'minKey', 'maxKey', 'symbol'].map((name) => [name, [name]])),
  number: ['double', 'int', 'long', 'decimal'],
};

/** A compiled schema: `check` lists the rules the value breaks (none: it passes). */
export function compileJsonSchema(schema: unknown): Check {
  if (!isPlainDocument(schema)) throw typeMismatch('$jsonSchema must be an object');
  return compile(schema, true, 0);
}

function compile(schema: Document, topLevel: boolean, depth: number): Check {
  if (depth > MAX_SCHEMA_DEPTH) throw new MongoServerError('Overflow', `BSONObj exceeded maximum nested object depth: ${MAX_SCHEMA_DEPTH}`);
  const checks: Check[] = [];
  if ('type' in schema && 'bsonType' in schema) throw parseError("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
  for (const keyword of Object.keys(schema)) {
    const arg = schema[keyword];
    if (unsupported.has(keyword)) throw parseError(`$jsonSchema keyword '${keyword}' is not currently supported`);
    if (ignored.has(keyword)) {
      if (typeof arg !== 'string') throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a string`);
      continue;
    }
    const check = keywordCheck(keyword, arg, schema, topLevel, depth);
    if (check) checks.push(check);
  }
  return (value) => checks.flatMap((check) => check(value));
}

const rule = (operatorName: string, arg: unknown, extra: Omit<RuleFailure, 'operatorName' | 'specifiedAs'> = {}): RuleFailure => ({ operatorName, specifiedAs: { [operatorName]: arg }, ...extra });

function subSchema(keyword: string, arg: unknown, depth: number): Check {
  if (!isPlainDocument(arg)) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be an object`);
  return compile(arg, false, depth + 1);
}

function schemaList(keyword: string, arg: unknown, depth: number): Check[] {
  if (!Array.isArray(arg) || arg.length === 0) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a nonempty array`);
  return arg.map((entry) => subSchema(keyword, entry, depth));
}

function nonNegativeInteger(keyword: string, arg: unknown): number {
  const n = isNumeric(arg) ? toNumber(arg) : NaN;
  if (!Number.isInteger(n) || n < 0) throw parseError(`$jsonSchema keyword '${keyword}' must be a representable nonnegative integer`);
  return n;
}

function typeNames(keyword: 'type' | 'bsonType', arg: unknown, topLevel: boolean): Set<string> {
  const names = Array.isArray(arg) ? arg : [arg];
  if (names.length === 0 || names.some((name) => typeof name !== 'string')) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be either a string or an array of strings`);
  const table = keyword === 'type' ? jsonTypes : bsonTypes;
  const wanted = new Set<string>();
  for (const name of names as string[]) {
    if (keyword === 'type' && name === 'integer') throw parseError("$jsonSchema type 'integer' is not currently supported.");
    const aliases = table[name];
    if (!aliases) throw new MongoServerError('BadValue', `Unknown type name alias: ${name}`);
    aliases.forEach((alias) => wanted.add(alias));
  }
  // A top level that is not an object matches nothing (mongod: AlwaysFalse), as stored documents are objects.
  if (topLevel && !wanted.has('object')) wanted.clear();
  return wanted;
}

const kindOf = (value: unknown) => bsonTypeName(value);
const isObject = (value: unknown): value is Document => isPlainDocument(value);

function keywordCheck(keyword: string, arg: unknown, schema: Document, topLevel: boolean, depth: number): Check | undefined {
  switch (keyword) {
    case 'type':
    case 'bsonType': {
      const wanted = typeNames(keyword, arg, topLevel);
      return (value) => (wanted.has(kindOf(value)) ? [] : [rule(keyword, arg, { reason: 'type did not match' })]);
    }
    case 'enum': {
      if (!Array.isArray(arg) || arg.length === 0) throw typeMismatch("$jsonSchema keyword 'enum' must be a nonempty array");
      return (value) => (arg.some((choice) => sameValue(choice, value)) ? [] : [rule('enum', arg, { reason: 'value was not found in enum' })]);
    }
    case 'allOf': {
      const subs = schemaList(keyword, arg, depth);
      return (value) => (subs.every((sub) => sub(value).length === 0) ? [] : [rule('allOf', arg, { reason: 'at least one of the subschemas did not match' })]);
    }
    case 'anyOf': {
      const subs = schemaList(keyword, arg, depth);
      return (value) => (subs.some((sub) => sub(value).length === 0) ? [] : [rule('anyOf', arg, { reason: 'no subschema matched' })]);
    }
    case 'oneOf': {
      const subs = schemaList(keyword, arg, depth);
      return (value) => (subs.filter((sub) => sub(value).length === 0).length === 1 ? [] : [rule('oneOf', arg, { reason: 'not exactly one subschema matched' })]);
    }
    case 'not': {
      const sub = subSchema(keyword, arg, depth);
      return (value) => (sub(value).length > 0 ? [] : [rule('not', arg, { reason: 'child expression matched' })]);
    }
    // Numbers
    case 'minimum':
    case 'maximum': {
      if (!isNumeric(arg)) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a number`);
      const exclusive = schema[keyword === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true;
      const bound = toNumber(arg);
      const within = keyword === 'minimum' ? (n: number) => (exclusive ? n > bound : n >= bound) : (n: number) => (exclusive ? n < bound : n <= bound);
      return (value) => (!isNumeric(value) || within(toNumber(value)) ? [] : [rule(keyword, arg, { reason: `comparison failed` })]);
    }
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      if (typeof arg !== 'boolean') throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a boolean`);
      const bound = keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (!(bound in schema)) throw parseError(`$jsonSchema keyword '${bound}' must be a present if ${keyword} is present`);
      return undefined; // Read with minimum/maximum.
    }
    case 'multipleOf': {
      if (!isNumeric(arg) || !(toNumber(arg) > 0)) throw parseError("$jsonSchema keyword 'multipleOf' must have a positive value");
      const divisor = toNumber(arg);
      return (value) => (!isNumeric(value) || Math.abs(toNumber(value) % divisor) < 1e-12 ? [] : [rule('multipleOf', arg, { reason: 'considered value is not a multiple of the specified value' })]);
    }
    // Strings
    case 'minLength':
    case 'maxLength': {
      const n = nonNegativeInteger(keyword, arg);
      const ok = keyword === 'minLength' ? (length: number) => length >= n : (length: number) => length <= n;
      // Lengths in code points, as mongod counts them (a Vietnamese letter with its marks is one or more).
      return (value) => (typeof value !== 'string' || ok([...value].length) ? [] : [rule(keyword, arg, { reason: 'specified string length was not satisfied' })]);
    }
    case 'pattern': {
      if (typeof arg !== 'string') throw typeMismatch("$jsonSchema keyword 'pattern' must be a string");
      const pattern = schemaRegExp(arg);
      return (value) => (typeof value !== 'string' || pattern.test(value) ? [] : [rule('pattern', arg, { reason: 'regular expression did not match' })]);
    }
    // Objects
    case 'required': {
      if (!Array.isArray(arg) || arg.length === 0 || arg.some((name) => typeof name !== 'string')) throw typeMismatch("$jsonSchema keyword 'required' must be a nonempty array of strings");
      return (value) => {
        if (!isObject(value)) return [];
        const missing = (arg as string[]).filter((name) => field(value, name) === undefined);
        return missing.length === 0 ? [] : [rule('required', arg, { missingProperties: missing })];
      };
    }
    case 'minProperties':
    case 'maxProperties': {
      const n = nonNegativeInteger(keyword, arg);
      const ok = keyword === 'minProperties' ? (count: number) => count >= n : (count: number) => count <= n;
      return (value) => (!isObject(value) || ok(Object.keys(value).length) ? [] : [rule(keyword, arg, { reason: 'specified number of properties was not satisfied' })]);
    }
    case 'properties': {
      if (!isObject(arg)) throw typeMismatch("$jsonSchema keyword 'properties' must be an object");
      const subs = Object.entries(arg).map(([name, sub]) => [name, subSchema(`properties.${name}`, sub, depth)] as const);
      return (value) => {
        if (!isObject(value)) return [];
        const failed = subs.flatMap(([name, sub]) => {
          if (field(value, name) === undefined) return [];
          const details = sub(field(value, name));
          return details.length === 0 ? [] : [{ propertyName: name, details }];
        });
        return failed.length === 0 ? [] : [{ operatorName: 'properties', propertiesNotSatisfied: failed }];
      };
    }
    case 'patternProperties': {
      if (!isObject(arg)) throw typeMismatch("$jsonSchema keyword 'patternProperties' must be an object");
      const subs = Object.entries(arg).map(([source, sub]) => [schemaRegExp(source), subSchema(`patternProperties.${source}`, sub, depth)] as const);
      return (value) => {
        if (!isObject(value)) return [];
        const broken = Object.keys(value).some((name) => subs.some(([pattern, sub]) => pattern.test(name) && sub(value[name]).length > 0));
        return broken ? [rule('patternProperties', arg, { reason: 'a property matching a pattern did not match its schema' })] : [];
      };
    }
    case 'additionalProperties': {
      const declared = new Set(isObject(schema.properties) ? Object.keys(schema.properties) : []);
      const patterns = isObject(schema.patternProperties) ? Object.keys(schema.patternProperties).map((source) => schemaRegExp(source)) : [];
      const additional = (value: Document) => Object.keys(value).filter((name) => !declared.has(name) && !patterns.some((pattern) => pattern.test(name)));
      if (typeof arg === 'boolean') {
        if (arg) return undefined;
        return (value) => {
          if (!isObject(value)) return [];
          const extra = additional(value);
          return extra.length === 0 ? [] : [rule('additionalProperties', arg, { additionalProperties: extra })];
        };
      }
      const sub = subSchema(keyword, arg, depth);
      return (value) => (!isObject(value) || additional(value).every((name) => sub(value[name]).length === 0) ? [] : [rule('additionalProperties', arg, { reason: 'at least one additional property did not match the subschema' })]);
    }
    case 'dependencies': {
      if (!isObject(arg)) throw typeMismatch("$jsonSchema keyword 'dependencies' must be an object");
      const deps = Object.entries(arg).map(([name, dependency]) => {
        if (Array.isArray(dependency)) {
          if (dependency.some((entry) => typeof entry !== 'string')) throw typeMismatch(`property '${name}' in $jsonSchema keyword 'dependencies' must be an array of strings`);
          return [name, (value: Document) => (dependency as string[]).every((other) => field(value, other) !== undefined)] as const;
        }
        const sub = subSchema(`dependencies.${name}`, dependency, depth);
        return [name, (value: Document) => sub(value).length === 0] as const;
      });
      return (value) => (!isObject(value) || deps.every(([name, holds]) => field(value, name) === undefined || holds(value)) ? [] : [rule('dependencies', arg, { reason: 'a dependency was not satisfied' })]);
    }
    // Arrays
    case 'minItems':
    case 'maxItems': {
      const n = nonNegativeInteger(keyword, arg);
      const ok = keyword === 'minItems' ? (count: number) => count >= n : (count: number) => count <= n;
      return (value) => (!Array.isArray(value) || ok(value.length) ? [] : [rule(keyword, arg, { reason: 'array did not match specified length' })]);
    }
    case 'uniqueItems': {
      if (typeof arg !== 'boolean') throw typeMismatch("$jsonSchema keyword 'uniqueItems' must be a boolean");
      if (!arg) return undefined;
      return (value) => (!Array.isArray(value) || value.every((item, i) => value.findIndex((other) => sameValue(other, item)) === i) ? [] : [rule('uniqueItems', arg, { reason: 'found a duplicate item' })]);
    }
    case 'items': {
      if (Array.isArray(arg)) {
        const subs = arg.map((entry) => subSchema(keyword, entry, depth));
        return (value) => (!Array.isArray(value) || subs.every((sub, i) => i >= value.length || sub(value[i]).length === 0) ? [] : [rule('items', arg, { reason: 'At least one item did not match the sub-schema' })]);
      }
      const sub = subSchema(keyword, arg, depth);
      return (value) => (!Array.isArray(value) || value.every((item) => sub(item).length === 0) ? [] : [rule('items', arg, { reason: 'At least one item did not match the sub-schema' })]);
    }
    case 'additionalItems': {
      // Only meaningful with an array of `items`: the items past those.
      if (!Array.isArray(schema.items)) {
        if (typeof arg !== 'boolean' && !isObject(arg)) throw typeMismatch("$jsonSchema keyword 'additionalItems' must be either an object or a boolean");
        return undefined;
      }
      const first = schema.items.length;
      if (typeof arg === 'boolean') return arg ? undefined : (value) => (!Array.isArray(value) || value.length <= first ? [] : [rule('additionalItems', arg, { reason: 'found additional items' })]);
      const sub = subSchema(keyword, arg, depth);
      return (value) => (!Array.isArray(value) || value.slice(first).every((item) => sub(item).length === 0) ? [] : [rule('additionalItems', arg, { reason: 'At least one additional item did not match the sub-schema' })]);
    }
    // Client-side field level encryption: the field, when present, holds ciphertext (BinData subtype 6).
    case 'encrypt':
      if (!isObject(arg)) throw typeMismatch("$jsonSchema keyword 'encrypt' must be an object");
      return (value) => (bsonType(value) === 'Binary' && (value as { sub_type: number }).sub_type === 6 ? [] : [rule('encrypt', arg, { reason: 'value was not encrypted' })]);
    case 'encryptMetadata':
      if (!isObject(arg)) throw typeMismatch("$jsonSchema keyword 'encryptMetadata' must be an object");
      return undefined;
    default:
      throw parseError(`Unknown $jsonSchema keyword: ${keyword}`);
  }
}
