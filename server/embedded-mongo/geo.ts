// Geospatial queries over 2dsphere-indexed fields: GeoJSON (and legacy [lng, lat]) geometries,
// $geoWithin ($geometry polygons, $centerSphere, $box, $polygon, $center), $geoIntersects,
// $near/$nearSphere ordered by distance, and the distances $geoNear reports. Distances on the
// sphere use mongod's earth radius (6378.1 km); edges are compared on the lng/lat plane, which
// matches mongod's great-circle edges closely for venue-sized shapes.
import { MongoLocationError, MongoServerError, badValue } from './errors.js';
import type { Document } from './values.js';
import { formatValue, isNumeric, isPlainDocument, toNumber } from './values.js';

export const EARTH_RADIUS_METERS = 6378100;

type Position = [number, number];
type Ring = Position[];

export interface Geometry {
  points: Position[];
  lines: Position[][];
  polygons: Ring[][];
}

function position(value: unknown): Position | undefined {
  let pair: unknown[] | undefined;
  if (Array.isArray(value)) pair = value;
  else if (isPlainDocument(value)) pair = Object.values(value);
  if (!pair || pair.length < 2 || !isNumeric(pair[0]) || !isNumeric(pair[1])) return undefined;
  return [toNumber(pair[0]), toNumber(pair[1])];
}

function checkedPosition(value: unknown): Position {
  const p = position(value);
  if (!p) throw new Error('Point must only contain numeric elements');
  if (Math.abs(p[0]) > 180 || Math.abs(p[1]) > 90) throw new Error(`longitude/latitude is out of bounds, lng: ${p[0]} lat: ${p[1]}`);
  return p;
}

function ring(value: unknown): Ring {
  if (!Array.isArray(value) || value.length < 4) throw new Error('Loop must have at least 4 vertices');
  const r = value.map(checkedPosition);
  const [first, last] = [r[0], r[r.length - 1]];
  if (first[0] !== last[0] || first[1] !== last[1]) throw new Error('Loop is not closed, first vertex does not equal last vertex');
  return r;
}

/** A GeoJSON geometry or a legacy coordinate pair; throws an Error saying why not. */
export function parseGeometry(value: unknown): Geometry {
  const g: Geometry = { points: [], lines: [], polygons: [] };
  if (Array.isArray(value) || (isPlainDocument(value) && !('type' in value))) {
    g.points.push(checkedPosition(value));
    return g;
  }
  if (!isPlainDocument(value)) throw new Error('geometry must be an object or a coordinate pair');
  const coordinates = value.coordinates as unknown;
  const list = (v: unknown): unknown[] => {
    if (!Array.isArray(v)) throw new Error(`coordinates must be an array`);
    return v;
  };
  switch (value.type) {
    case 'Point':
      g.points.push(checkedPosition(coordinates));
      break;
    case 'MultiPoint':
      g.points.push(...list(coordinates).map(checkedPosition));
      break;
    case 'LineString':
      g.lines.push(list(coordinates).map(checkedPosition));
      break;
    case 'MultiLineString':
      g.lines.push(...list(coordinates).map((l) => list(l).map(checkedPosition)));
      break;
    case 'Polygon':
      g.polygons.push(list(coordinates).map(ring));
      break;
    case 'MultiPolygon':
      g.polygons.push(...list(coordinates).map((p) => list(p).map(ring)));
      break;
    case 'GeometryCollection':
      for (const member of list(value.geometries)) {
        const m = parseGeometry(member);
        g.points.push(...m.points);
        g.lines.push(...m.lines);
        g.polygons.push(...m.polygons);
      }
      break;
    default:
      throw new Error(`unknown GeoJSON type: ${formatValue(value)}`);
  }
  return g;
}

/** What a 2dsphere index checks on insert/update: the field holds a geometry (or nothing). */
export function checkGeoField(doc: Document, path: string[], _indexName: string): void {
  let values: unknown[] = [doc];
  for (const part of path) values = values.flatMap((v) => (isPlainDocument(v) ? [v[part]] : Array.isArray(v) ? v.map((e) => (isPlainDocument(e) ? e[part] : undefined)) : []));
  for (const value of values) {
    if (value === undefined || value === null) continue;
    try {
      parseGeometry(value);
    } catch (err) {
      throw new MongoLocationError(16755, `Can't extract geo keys: ${formatValue(doc)}  ${(err as Error).message}`);
    }
  }
}

// ---- predicates

function pointInRing(p: Position, r: Ring): boolean {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i];
    const [xj, yj] = r[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function onSegment(p: Position, a: Position, b: Position): boolean {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  if (Math.abs(cross) > 1e-12) return false;
  return Math.min(a[0], b[0]) - 1e-12 <= p[0] && p[0] <= Math.max(a[0], b[0]) + 1e-12 && Math.min(a[1], b[1]) - 1e-12 <= p[1] && p[1] <= Math.max(a[1], b[1]) + 1e-12;
}

function pointInPolygon(p: Position, polygon: Ring[]): boolean {
  const [outer, ...holes] = polygon;
  if (outer.some((_, i) => i > 0 && onSegment(p, outer[i - 1], outer[i]))) return true;
  return pointInRing(p, outer) && !holes.some((h) => pointInRing(p, h));
}

function segmentsCross(a: Position, b: Position, c: Position, d: Position): boolean {
  const orient = (p: Position, q: Position, r: Position) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return onSegment(c, a, b) || onSegment(d, a, b) || onSegment(a, c, d) || onSegment(b, c, d);
}

function segments(g: Geometry): Array<[Position, Position]> {
  const out: Array<[Position, Position]> = [];
  for (const line of [...g.lines, ...g.polygons.flat()]) for (let i = 1; i < line.length; i++) out.push([line[i - 1], line[i]]);
  return out;
}

function vertices(g: Geometry): Position[] {
  return [...g.points, ...g.lines.flat(), ...g.polygons.flat(2)];
}

export function intersects(a: Geometry, b: Geometry): boolean {
  for (const p of vertices(a)) if (b.polygons.some((poly) => pointInPolygon(p, poly)) || vertices(b).some((q) => q[0] === p[0] && q[1] === p[1])) return true;
  for (const p of vertices(b)) if (a.polygons.some((poly) => pointInPolygon(p, poly))) return true;
  const sb = segments(b);
  for (const [p, q] of segments(a)) if (sb.some(([r, s]) => segmentsCross(p, q, r, s))) return true;
  for (const p of a.points) if (sb.some(([r, s]) => onSegment(p, r, s))) return true;
  for (const p of b.points) if (segments(a).some(([r, s]) => onSegment(p, r, s))) return true;
  return false;
}

/** Great-circle distance in radians. */
export function sphereDistance(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const [lng1, lat1, lng2, lat2] = [a[0] * rad, a[1] * rad, b[0] * rad, b[1] * rad];
  const h = Math.sin((lat2 - lat1) / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin((lng2 - lng1) / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance from a point to the nearest part of a geometry, in radians. */
export function distanceTo(from: Position, g: Geometry): number {
  if (g.polygons.some((poly) => pointInPolygon(from, poly))) return 0;
  let best = Number.POSITIVE_INFINITY;
  for (const p of vertices(g)) best = Math.min(best, sphereDistance(from, p));
  return best;
}

type Within = (g: Geometry) => boolean;

function withinPredicate(arg: unknown): Within {
  if (!isPlainDocument(arg)) throw badValue('$geoWithin not an object');
  const [shape] = Object.keys(arg);
  const value = arg[shape];
  const everyVertex = (test: (p: Position) => boolean): Within => (g) => vertices(g).length > 0 && vertices(g).every(test);
  switch (shape) {
    case '$geometry': {
      const target = geometryArg(value, '$geoWithin');
      if (target.polygons.length === 0) throw badValue('$geoWithin not supported with provided geometry: ' + formatValue(value));
      return everyVertex((p) => target.polygons.some((poly) => pointInPolygon(p, poly)));
    }
    case '$centerSphere': {
      if (!Array.isArray(value) || value.length !== 2 || !isNumeric(value[1])) throw badValue('malformed query, expected $centerSphere: [[lng, lat], radius]');
      const center = checkedArgPosition(value[0]);
      const radius = toNumber(value[1]);
      return everyVertex((p) => sphereDistance(center, p) <= radius);
    }
    case '$center': {
      if (!Array.isArray(value) || value.length !== 2 || !isNumeric(value[1])) throw badValue('malformed query, expected $center: [[x, y], radius]');
      const c = checkedArgPosition(value[0]);
      const r = toNumber(value[1]);
      return everyVertex((p) => Math.hypot(p[0] - c[0], p[1] - c[1]) <= r);
    }
    case '$box': {
      if (!Array.isArray(value) || value.length !== 2) throw badValue('malformed query, expected $box: [[x1, y1], [x2, y2]]');
      const [a, b] = value.map(checkedArgPosition);
      return everyVertex((p) => p[0] >= Math.min(a[0], b[0]) && p[0] <= Math.max(a[0], b[0]) && p[1] >= Math.min(a[1], b[1]) && p[1] <= Math.max(a[1], b[1]));
    }
    case '$polygon': {
      if (!Array.isArray(value) || value.length < 3) throw badValue('Polygon must have at least 3 points');
      const r = value.map(checkedArgPosition);
      const closed = [...r, r[0]];
      return everyVertex((p) => pointInPolygon(p, [closed]));
    }
    default:
      throw badValue(`unknown geo specifier: ${shape}: ${formatValue(value)}`);
  }
}

function checkedArgPosition(value: unknown): Position {
  const p = position(value);
  if (!p) throw badValue(`Point must only contain numeric elements`);
  return p;
}

function geometryArg(value: unknown, op: string): Geometry {
  try {
    return parseGeometry(value);
  } catch (err) {
    throw badValue(`${op}: ${(err as Error).message}`);
  }
}

/** Distance recorded for each document a $near query matched (commands run one at a time). */
const distances = new WeakMap<Document, number>();

export function nearDistanceOf(doc: Document): number | undefined {
  return distances.get(doc);
}

export function forgetNearDistance(doc: Document): void {
  distances.delete(doc);
}

/** A predicate over the value at a path for $geoWithin / $geoIntersects / $near / $nearSphere. */
export function geoPredicate(op: string, arg: unknown, all: Document): ((value: unknown, doc?: Document) => boolean) | undefined {
  const asGeometry = (v: unknown): Geometry | undefined => {
    if (v === undefined || v === null) return undefined;
    try {
      return parseGeometry(v);
    } catch {
      return undefined;
    }
  };
  if (op === '$geoWithin' || op === '$within') {
    const within = withinPredicate(arg);
    return (v) => {
      const g = asGeometry(v);
      return g !== undefined && within(g);
    };
  }
  if (op === '$geoIntersects') {
    if (!isPlainDocument(arg) || !('$geometry' in arg)) throw badValue('$geoIntersects requires a $geometry');
    const target = geometryArg(arg.$geometry, '$geoIntersects');
    return (v) => {
      const g = asGeometry(v);
      return g !== undefined && intersects(g, target);
    };
  }
  if (op === '$near' || op === '$nearSphere') return nearPredicate(op, arg, all);
  if (op === '$maxDistance' || op === '$minDistance') return () => true; // read by $near
  return undefined;
}

export interface NearSpec {
  point: Position;
  /** Distances in meters (GeoJSON point) or radians (legacy pair). */
  unit: 'meters' | 'radians';
  min: number;
  max: number;
}

export function parseNear(op: string, arg: unknown, all: Document): NearSpec {
  const spec = isPlainDocument(arg) && '$geometry' in arg ? arg : undefined;
  const source = spec ?? all;
  let point: Position | undefined;
  let unit: NearSpec['unit'] = 'radians';
  if (spec) {
    const g = geometryArg(spec.$geometry, op);
    if (g.points.length !== 1 || !isPlainDocument(spec.$geometry)) throw badValue(`invalid point in geo near query $geometry argument: ${formatValue(spec.$geometry)}`);
    point = g.points[0];
    unit = 'meters';
  } else {
    point = position(arg);
  }
  if (!point) throw badValue(`invalid argument in geo near query: ${formatValue(arg)}`);
  const read = (name: string, fallback: number) => {
    const v = source[name];
    if (v === undefined) return fallback;
    if (!isNumeric(v) || toNumber(v) < 0) throw badValue(`${name} must be non-negative`);
    return toNumber(v);
  };
  return { point, unit, min: read('$minDistance', 0), max: read('$maxDistance', Number.POSITIVE_INFINITY) };
}

function nearPredicate(op: string, arg: unknown, all: Document): (value: unknown, doc?: Document) => boolean {
  const near = parseNear(op, arg, all);
  return (v, doc) => {
    if (v === undefined || v === null) return false;
    let g: Geometry;
    try {
      g = parseGeometry(v);
    } catch {
      return false;
    }
    const radians = distanceTo(near.point, g);
    const distance = near.unit === 'meters' ? radians * EARTH_RADIUS_METERS : radians;
    if (distance < near.min || distance > near.max) return false;
    if (doc) distances.set(doc, Math.min(distance, distances.get(doc) ?? Number.POSITIVE_INFINITY));
    return true;
  };
}

export function noGeoIndex(namespace: string, what = '$geoNear'): MongoServerError {
  return new MongoServerError('NoQueryExecutionPlans', `error processing query: ns=${namespace} planner returned error :: caused by :: unable to find index for ${what} query`);
}

/** The $near/$nearSphere clause of a filter (top level only, as mongod requires). */
export function nearClause(filter: unknown): { path: string; op: string } | undefined {
  if (!isPlainDocument(filter)) return undefined;
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) continue;
    if (isPlainDocument(value)) for (const op of ['$near', '$nearSphere']) if (op in value) return { path: key, op };
  }
  return undefined;
}
