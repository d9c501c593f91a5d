// find/findAndModify projections: inclusion, exclusion, $slice and $elemMatch on BSON documents.
// Projections using aggregation expressions are evaluated by mingo.
import { MongoLocationError, badValue } from './errors.js';
import { promote, runPipeline } from './mingo-bridge.js';
import { compileFilter, type Matcher } from './query.js';
import type { Document } from './values.js';
import { isNumeric, isPlainDocument, isTruthy, toInteger } from './values.js';

type Projector = (doc: Document) => Document;

interface Node {
  children: Map<string, Node>;
  /** Leaf action for this path. */
  leaf?: { kind: 'include' } | { kind: 'exclude' } | { kind: 'slice'; skip: number; limit: number | undefined } | { kind: 'elemMatch'; matcher: Matcher };
}

const identity: Projector = (doc) => doc;

/** `filter` is the query the projection goes with: the positional `field.$` projection needs it. */
export function compileProjection(rawProjection: unknown, filter?: unknown, meta?: ProjectionMeta): Projector {
  if (rawProjection === undefined || rawProjection === null) return identity;
  if (!isPlainDocument(rawProjection)) throw badValue('projection must be an object');
  const projection = flattenProjection(rawProjection);
  const metaFields = Object.keys(projection).filter((key) => isMetaValue(projection[key]));
  if (metaFields.length > 0) return withMeta(projection, metaFields, filter, meta);
  const keys = Object.keys(projection);
  if (keys.length === 0) return identity;
  let inclusion: boolean | undefined;
  let excludeId = false;
  const root: Node = { children: new Map() };
  let positional: string | undefined;
  for (const key of keys) {
    const value = projection[key];
    let leaf: Node['leaf'];
    if (isPlainDocument(value)) {
      const op = Object.keys(value)[0];
      if (op === '$slice') {
        const arg = value.$slice;
        if (Array.isArray(arg)) {
          if (arg.length !== 2) throw badValue('$slice array argument must be of the form [skip, limit]');
          leaf = { kind: 'slice', skip: toInteger(arg[0]), limit: toInteger(arg[1]) };
        } else if (isNumeric(arg)) {
          const n = toInteger(arg);
          leaf = n >= 0 ? { kind: 'slice', skip: 0, limit: n } : { kind: 'slice', skip: n, limit: undefined };
        } else {
          return expressionProjector(projection);
        }
      } else if (op === '$elemMatch') {
        const matcher = compileFilter(value.$elemMatch);
        leaf = { kind: 'elemMatch', matcher };
        if (inclusion === false) throw new MongoLocationError(31253, `Cannot do inclusion on field ${key} in exclusion projection`);
        inclusion = true;
      } else {
        return expressionProjector(projection);
      }
    } else if (typeof value === 'boolean' || isNumeric(value)) {
      const include = isTruthy(value);
      if (key === '_id') {
        excludeId = !include;
        if (include) leaf = { kind: 'include' };
        else continue;
      } else {
        if (inclusion !== undefined && inclusion !== include) {
          throw new MongoLocationError(
            include ? 31253 : 31254,
            include ? `Cannot do inclusion on field ${key} in exclusion projection` : `Cannot do exclusion on field ${key} in inclusion projection`,
          );
        }
        inclusion = include;
        leaf = include ? { kind: 'include' } : { kind: 'exclude' };
      }
    } else {
      return expressionProjector(projection);
    }
    if (key.endsWith('.$')) {
      // Positional projection: the array is included, then cut to the element the query matched.
      if (positional !== undefined) throw badValue('Cannot specify more than one positional projection per query.');
      positional = key.slice(0, -2);
      addPath(root, positional.split('.'), { kind: 'include' });
      inclusion = true;
      continue;
    }
    addPath(root, key.split('.'), leaf);
  }
  // { _id: 1 } alone is an inclusion projection; { a: { $slice: 2 } } alone is an exclusion one.
  if (inclusion === undefined) inclusion = root.children.get('_id')?.leaf?.kind === 'include';
  if (inclusion) {
    if (!excludeId && !root.children.has('_id')) root.children.set('_id', { children: new Map(), leaf: { kind: 'include' } });
    if (excludeId) root.children.delete('_id');
    const include: Projector = (doc) => includeFields(doc, root);
    return positional === undefined ? include : withPositional(include, positional, filter);
  }
  if (excludeId) addPath(root, ['_id'], { kind: 'exclude' });
  return (doc) => excludeFields(doc, root);
}

/** What `{ $meta: ... }` projections can ask for (the text score of each document). */
export interface ProjectionMeta {
  textScore?: (doc: Document) => number | undefined;
}

function isMetaValue(value: unknown): value is { $meta: unknown } {
  return isPlainDocument(value) && Object.keys(value).length === 1 && '$meta' in value;
}

/** `{ score: { $meta: 'textScore' } }` next to an ordinary projection: project, then add the score. */
function withMeta(projection: Document, metaFields: string[], filter: unknown, meta: ProjectionMeta | undefined): Projector {
  for (const field of metaFields) {
    const kind = (projection[field] as Document).$meta;
    if (kind !== 'textScore' && kind !== 'searchScore' && kind !== 'indexKey' && kind !== 'recordId' && kind !== 'sortKey' && kind !== 'searchHighlights') {
      throw new MongoLocationError(17308, `Unsupported argument to $meta: ${String(kind)}`);
    }
    if (kind === 'textScore' && !meta?.textScore) {
      throw new MongoLocationError(40218, 'query requires text score metadata, but it is not available');
    }
  }
  const rest: Document = {};
  for (const key of Object.keys(projection)) if (!metaFields.includes(key)) rest[key] = projection[key];
  // {_id: 0, score: {$meta}} and {score: {$meta}} alone are exclusion projections in find.
  // A copy even then: the score is set on it, and the stored document (and the reply bytes cached
  // for it) must stay as they are.
  const base = Object.keys(rest).length === 0 ? (doc: Document) => ({ ...doc }) : compileProjection(rest, filter);
  return (doc) => {
    const out = base(doc);
    for (const field of metaFields) {
      const kind = (projection[field] as Document).$meta;
      const value = kind === 'textScore' ? meta?.textScore?.(doc) : undefined;
      if (value !== undefined) setDotted(out, field, value);
    }
    return out;
  };
}

function setDotted(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let container = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainDocument(container[part])) container[part] = {};
    container = container[part] as Document;
  }
  container[parts[parts.length - 1]] = value;
}

/**
 * mongod reads `{ nested: { a: 1, b: 1 } }` as `{ 'nested.a': 1, 'nested.b': 1 }`: sub-objects
 * that are not expressions are sub-projections. Flattened here, with mongod's checks for two
 * entries naming the same path (31250) or a path below a leaf (31249).
 */
export function flattenProjection(projection: Document): Document {
  const out: Document = {};
  const tree: PathTree = new Map();
  const visit = (prefix: string, spec: Document) => {
    for (const key of Object.keys(spec)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const value = spec[key];
      if (isPlainDocument(value)) {
        const keys = Object.keys(value);
        if (keys.length === 0) throw new MongoLocationError(51270, `An empty sub-projection is not a valid value. Found empty object at path`);
        const isExpression = keys.length === 1 && keys[0].startsWith('$');
        if (!isExpression) {
          if (path.includes('$')) throw new MongoLocationError(31271, 'positional projection cannot be used with an expression or sub object');
          visit(path, value);
          continue;
        }
      }
      checkFieldPath(path);
      claimPath(tree, path.replace(/\.\$$/, ''));
      out[path] = value;
    }
  };
  visit('', projection);
  return out;
}

type PathTree = Map<string, PathTree | true>;

/**
 * mongod's FieldPath rules for a projected path: not empty, no empty part, no trailing dot, and
 * no part starting with '$' except a final positional `$` (`{ '': 0 }` and `{ $x: 0 }` are
 * refused, not ignored).
 */
function checkFieldPath(path: string): void {
  if (path === '') throw new MongoLocationError(40352, 'FieldPath cannot be constructed with empty string');
  if (path.endsWith('.')) throw new MongoLocationError(40353, "FieldPath must not end with a '.'.");
  const parts = path.split('.');
  parts.forEach((part, i) => {
    if (part === '') throw new MongoLocationError(15998, 'FieldPath field names may not be empty strings.');
    if (part.startsWith('$') && !(part === '$' && i === parts.length - 1 && i > 0)) {
      throw new MongoLocationError(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    }
  });
}

function claimPath(tree: PathTree, path: string): void {
  const parts = path.split('.');
  let node = tree;
  for (let i = 0; i < parts.length; i++) {
    const existing = node.get(parts[i]);
    if (i === parts.length - 1) {
      if (existing !== undefined) throw new MongoLocationError(31250, `Path collision at ${path}`);
      node.set(parts[i], true);
      return;
    }
    if (existing === true) {
      throw new MongoLocationError(31249, `Path collision at ${path} remaining portion ${parts.slice(i + 1).join('.')}`);
    }
    let child = existing;
    if (!child) {
      child = new Map();
      node.set(parts[i], child);
    }
    node = child;
  }
}

function addPath(root: Node, parts: string[], leaf: Node['leaf']): void {
  let node = root;
  for (const part of parts) {
    let child = node.children.get(part);
    if (!child) {
      child = { children: new Map() };
      node.children.set(part, child);
    }
    node = child;
  }
  node.leaf = leaf;
}

function applyLeafToValue(value: unknown, leaf: NonNullable<Node['leaf']>): unknown {
  if (leaf.kind === 'slice') {
    if (!Array.isArray(value)) return value;
    const start = leaf.skip < 0 ? Math.max(0, value.length + leaf.skip) : leaf.skip;
    return leaf.limit === undefined ? value.slice(start) : value.slice(start, start + Math.max(0, leaf.limit));
  }
  if (leaf.kind === 'elemMatch') {
    if (!Array.isArray(value)) return undefined;
    const match = value.find((e) => isPlainDocument(e) && leaf.matcher(e));
    return match === undefined ? undefined : [match];
  }
  return value;
}

function includeFields(doc: Document, node: Node): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const child = node.children.get(key);
    if (!child) continue;
    const value = doc[key];
    let projected: unknown;
    if (child.leaf) projected = applyLeafToValue(value, child.leaf);
    else projected = includeNested(value, child);
    if (projected !== undefined) out[key] = projected;
  }
  // $slice-only children in an inclusion projection still mean "include with slice".
  return out;
}

function includeNested(value: unknown, node: Node): unknown {
  if (isPlainDocument(value)) return includeFields(value, node);
  if (Array.isArray(value)) return value.filter((e) => isPlainDocument(e) || Array.isArray(e)).map((e) => includeNested(e, node));
  return undefined;
}

function excludeFields(doc: Document, node: Node): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const child = node.children.get(key);
    const value = doc[key];
    if (!child) {
      out[key] = value;
      continue;
    }
    if (child.leaf?.kind === 'exclude') continue;
    if (child.leaf) {
      const projected = applyLeafToValue(value, child.leaf);
      if (projected !== undefined) out[key] = projected;
      continue;
    }
    out[key] = excludeNested(value, child);
  }
  return out;
}

function excludeNested(value: unknown, node: Node): unknown {
  if (isPlainDocument(value)) return excludeFields(value, node);
  if (Array.isArray(value)) return value.map((e) => excludeNested(e, node));
  return value;
}

/**
 * `arr.$`: keep only the first element of `arr` that satisfies the query's conditions on `arr`
 * (or on paths below it), as mongod does.
 */
function withPositional(project: Projector, arrayPath: string, filter: unknown): Projector {
  const predicates: Array<(element: unknown) => boolean> = [];
  const collect = (f: unknown) => {
    if (!isPlainDocument(f)) return;
    for (const [key, cond] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(cond)) cond.forEach(collect);
      else if (key === arrayPath) predicates.push(elementPredicate(cond));
      else if (key.startsWith(`${arrayPath}.`)) {
        const below = compileFilter({ [key.slice(arrayPath.length + 1)]: cond });
        predicates.push((e) => isPlainDocument(e) && below(e));
      }
    }
  };
  collect(filter);
  if (predicates.length === 0) {
    throw badValue(`positional operator '${arrayPath}.$' requires corresponding field in query specifier`);
  }
  const parts = arrayPath.split('.');
  return (doc) => {
    const out = project(doc);
    let array: unknown = doc;
    for (const part of parts) array = isPlainDocument(array) ? array[part] : undefined;
    if (!Array.isArray(array)) return out;
    const match = array.find((e) => predicates.every((p) => p(e)));
    if (match === undefined) {
      throw new MongoLocationError(51246, "Executor error during find command :: caused by :: positional operator '.$' couldn't find a matching element in the array");
    }
    let target: unknown = out;
    for (const part of parts.slice(0, -1)) target = isPlainDocument(target) ? target[part] : undefined;
    if (isPlainDocument(target)) target[parts[parts.length - 1]] = [match];
    return out;
  };
}

/** A condition on the array field itself, applied to one element. */
function elementPredicate(cond: unknown): (element: unknown) => boolean {
  if (isPlainDocument(cond) && Object.keys(cond).length === 1 && isPlainDocument(cond.$elemMatch)) {
    const onDocument = compileFilter(cond.$elemMatch);
    const onValue = compileFilter({ v: cond.$elemMatch });
    return (e) => (isPlainDocument(e) ? onDocument(e) : onValue({ v: e }));
  }
  const onValue = compileFilter({ v: cond });
  return (e) => onValue({ v: e });
}

/** Projections with expressions ({ total: { $add: [...] } }) go through mingo's $project. */
function expressionProjector(projection: Document): Projector {
  const stage = [{ $project: promote(projection) as Document }];
  return (doc) => runPipeline([doc], stage, () => [])[0] ?? {};
}
