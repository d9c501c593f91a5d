// Types for the parts of MongoDB's unified test format that the CRUD tests use, and the loader.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EJSON, type Document } from 'bson';

export interface RunOnRequirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: 'require' | 'forbid' | 'allow';
  auth?: boolean;
  authMechanism?: string;
  csfle?: boolean;
  serverParameters?: Record<string, unknown>;
}

export interface ClientEntity {
  id: string;
  uriOptions?: Record<string, unknown>;
  useMultipleMongoses?: boolean;
  observeEvents?: string[];
  ignoreCommandMonitoringEvents?: string[];
  observeSensitiveCommands?: boolean;
  storeEventsAsEntities?: unknown;
  observeLogMessages?: unknown;
  serverApi?: unknown;
}
export interface DatabaseEntity { id: string; client: string; databaseName: string; databaseOptions?: Document }
export interface CollectionEntity { id: string; database: string; collectionName: string; collectionOptions?: Document }
export type EntityDescription =
  | { client: ClientEntity }
  | { database: DatabaseEntity }
  | { collection: CollectionEntity }
  | Record<string, { id: string }>;

export interface CollectionData {
  collectionName: string;
  databaseName: string;
  createOptions?: Document;
  documents: Document[];
}

export interface ExpectedError {
  isError?: true;
  isClientError?: boolean;
  isTimeoutError?: boolean;
  errorContains?: string;
  errorCode?: number;
  errorCodeName?: string;
  errorLabelsContain?: string[];
  errorLabelsOmit?: string[];
  writeErrors?: Document;
  writeConcernErrors?: Document[];
  errorResponse?: Document;
  expectResult?: unknown;
}

export interface Operation {
  name: string;
  object: string;
  arguments?: Document;
  expectResult?: unknown;
  expectError?: ExpectedError;
  ignoreResultAndError?: boolean;
  saveResultAsEntity?: string;
}

export interface ExpectedEventsForClient {
  client: string;
  eventType?: 'command' | 'cmap' | 'sdam';
  events: Document[];
  ignoreExtraEvents?: boolean;
}

export interface UnifiedTest {
  description: string;
  runOnRequirements?: RunOnRequirement[];
  skipReason?: string;
  operations: Operation[];
  expectEvents?: ExpectedEventsForClient[];
  outcome?: CollectionData[];
}

export interface UnifiedFile {
  description: string;
  schemaVersion: string;
  runOnRequirements?: RunOnRequirement[];
  createEntities?: EntityDescription[];
  initialData?: CollectionData[];
  tests: UnifiedTest[];
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/**
 * Shared, read-only spec data, never copied into the project: MONGODB_SPECS_DIR if set, else the
 * workplace's shared folder beside the checkout (../shared/mongodb-specs/crud-unified).
 */
export const crudSpecCandidates = [
  process.env.MONGODB_SPECS_DIR,
  path.resolve(repoRoot, '../shared/mongodb-specs/crud-unified'),
  '/work/shared/mongodb-specs/crud-unified',
].filter((dir): dir is string => Boolean(dir));
export const crudSpecDir: string | undefined = crudSpecCandidates.find((dir) => existsSync(dir));

/** Highest schema version of the unified test format this runner implements (1.x). */
export const SUPPORTED_SCHEMA = '1.21';

/** The spec files, or none when the shared data is not on this machine (see crudSpecCandidates). */
export function loadSpecFiles(dir = crudSpecDir): Array<{ file: string; spec: UnifiedFile }> {
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      // Relaxed parsing keeps plain numbers native; canonical wrappers ($numberLong...) still decode.
      spec: EJSON.parse(readFileSync(path.join(dir, file), 'utf8'), { relaxed: true }) as UnifiedFile,
    }));
}
