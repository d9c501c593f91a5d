// The entity map of a unified test: clients (with command monitoring), databases, collections,
// and values saved from operation results.
import {
  AbstractCursor,
  MongoClient,
  ReadConcern,
  ReadPreference,
  WriteConcern,
  type Collection,
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Db,
  type Document,
} from 'mongodb';
import type { ClientEntity, CollectionEntity, DatabaseEntity, EntityDescription } from './spec.js';

export interface ObservedEvent {
  type: 'commandStartedEvent' | 'commandSucceededEvent' | 'commandFailedEvent';
  commandName: string;
  databaseName: string;
  command?: Document;
  reply?: Document;
  failure?: unknown;
}

export interface ClientHandle {
  kind: 'client';
  client: MongoClient;
  events: ObservedEvent[];
  listening: boolean;
}
export interface DbHandle { kind: 'database'; db: Db; client: string }
export interface CollHandle { kind: 'collection'; collection: Collection<Document>; db: Db; client: string }
export interface ValueHandle { kind: 'value'; value: unknown }
/** A FindCursor or CommandCursor saved by createFindCursor / createCommandCursor. */
export interface CursorHandle { kind: 'cursor'; cursor: AbstractCursor<Document> }
export type Entity = ClientHandle | DbHandle | CollHandle | ValueHandle | CursorHandle;

const SENSITIVE = new Set([
  'authenticate', 'saslstart', 'saslcontinue', 'getnonce', 'createuser', 'updateuser',
  'copydbgetnonce', 'copydbsaslstart', 'copydb',
]);

function isSensitive(name: string, command: Document | undefined): boolean {
  const n = name.toLowerCase();
  if (SENSITIVE.has(n)) return true;
  // hello / legacy hello are sensitive when they carried speculativeAuthenticate; the driver
  // redacts such a command to an empty document.
  if ((n === 'hello' || n === 'ismaster') && command && Object.keys(command).length === 0) return true;
  return false;
}

/** Turn a spec readPreference document into the driver's object. */
function readPreferenceOf(doc: Document): ReadPreference {
  const { mode, tagSets, maxStalenessSeconds, hedge } = doc as {
    mode: string; tagSets?: Document[]; maxStalenessSeconds?: number; hedge?: Document;
  };
  const m = (mode.charAt(0).toLowerCase() + mode.slice(1)) as ConstructorParameters<typeof ReadPreference>[0];
  return new ReadPreference(m, tagSets as never, { maxStalenessSeconds, hedge } as never);
}

/** Driver options for a database or collection from a spec's databaseOptions/collectionOptions. */
function scopedOptions(opts: Document | undefined): Document {
  if (!opts) return {};
  const out: Document = {};
  for (const [k, v] of Object.entries(opts)) {
    switch (k) {
      case 'readConcern': out.readConcern = new ReadConcern((v as Document).level); break;
      case 'writeConcern': out.writeConcern = WriteConcern.fromOptions({ writeConcern: v as Document }); break;
      case 'readPreference': out.readPreference = readPreferenceOf(v as Document); break;
      case 'timeoutMS': out.timeoutMS = v; break;
      default: throw new Error(`unsupported database/collection option ${k}`);
    }
  }
  return out;
}

export class EntityMap {
  private readonly entities = new Map<string, Entity>();

  constructor(private readonly uri: string) {}

  private put(id: string, e: Entity): void {
    if (this.entities.has(id)) throw new Error(`entity ${id} already exists`);
    this.entities.set(id, e);
  }

  get(id: string): Entity {
    const e = this.entities.get(id);
    if (!e) throw new Error(`no entity named ${id}`);
    return e;
  }

  client(id: string): ClientHandle {
    const e = this.get(id);
    if (e.kind !== 'client') throw new Error(`entity ${id} is a ${e.kind}, not a client`);
    return e;
  }

  save(id: string, value: unknown): void {
    if (value instanceof AbstractCursor) this.put(id, { kind: 'cursor', cursor: value as AbstractCursor<Document> });
    else this.put(id, { kind: 'value', value });
  }

  /** For $$matchesEntity / $$sessionLsid. */
  valueOf(id: string): unknown {
    const e = this.get(id);
    if (e.kind === 'value') return e.value;
    throw new Error(`entity ${id} is a ${e.kind}, it has no value to match`);
  }

  async create(descriptions: EntityDescription[]): Promise<void> {
    for (const d of descriptions) {
      const [type, spec] = Object.entries(d)[0] as [string, unknown];
      switch (type) {
        case 'client': await this.createClient(spec as ClientEntity); break;
        case 'database': {
          const s = spec as DatabaseEntity;
          const c = this.client(s.client);
          this.put(s.id, { kind: 'database', db: c.client.db(s.databaseName, scopedOptions(s.databaseOptions)), client: s.client });
          break;
        }
        case 'collection': {
          const s = spec as CollectionEntity;
          const dbe = this.get(s.database);
          if (dbe.kind !== 'database') throw new Error(`entity ${s.database} is not a database`);
          this.put(s.id, {
            kind: 'collection',
            collection: dbe.db.collection(s.collectionName, scopedOptions(s.collectionOptions)),
            db: dbe.db,
            client: dbe.client,
          });
          break;
        }
        default:
          throw new Error(`unsupported entity type ${type}`);
      }
    }
  }

  private async createClient(spec: ClientEntity): Promise<void> {
    for (const k of ['storeEventsAsEntities', 'observeLogMessages', 'serverApi'] as const) {
      if (spec[k] !== undefined) throw new Error(`unsupported client option ${k}`);
    }
    const url = new URL(this.uri);
    for (const [k, v] of Object.entries(spec.uriOptions ?? {})) url.searchParams.set(k, String(v));
    const observe = new Set(spec.observeEvents ?? []);
    for (const t of observe) {
      if (!['commandStartedEvent', 'commandSucceededEvent', 'commandFailedEvent'].includes(t)) {
        throw new Error(`unsupported observed event type ${t}`);
      }
    }
    const ignore = new Set(['configureFailPoint', ...(spec.ignoreCommandMonitoringEvents ?? [])]);
    const client = new MongoClient(url.toString(), {
      monitorCommands: observe.size > 0,
      serverSelectionTimeoutMS: 5000,
    });
    const handle: ClientHandle = { kind: 'client', client, events: [], listening: true };
    const keep = (name: string, command?: Document) =>
      handle.listening && !ignore.has(name) && (spec.observeSensitiveCommands || !isSensitive(name, command));
    if (observe.has('commandStartedEvent')) {
      client.on('commandStarted', (e: CommandStartedEvent) => {
        if (keep(e.commandName, e.command)) {
          handle.events.push({ type: 'commandStartedEvent', commandName: e.commandName, databaseName: e.databaseName, command: e.command });
        }
      });
    }
    if (observe.has('commandSucceededEvent')) {
      client.on('commandSucceeded', (e: CommandSucceededEvent) => {
        if (keep(e.commandName, e.reply as Document)) {
          handle.events.push({ type: 'commandSucceededEvent', commandName: e.commandName, databaseName: e.databaseName, reply: e.reply as Document });
        }
      });
    }
    if (observe.has('commandFailedEvent')) {
      client.on('commandFailed', (e: CommandFailedEvent) => {
        if (keep(e.commandName)) {
          handle.events.push({ type: 'commandFailedEvent', commandName: e.commandName, databaseName: e.databaseName, failure: e.failure });
        }
      });
    }
    await client.connect();
    this.put(spec.id, handle);
  }

  stopListening(): void {
    for (const e of this.entities.values()) if (e.kind === 'client') e.listening = false;
  }

  async close(): Promise<void> {
    this.stopListening();
    const cursors = [...this.entities.values()].filter((e): e is CursorHandle => e.kind === 'cursor');
    await Promise.all(cursors.map((c) => c.cursor.close().catch(() => undefined)));
    const clients = [...this.entities.values()].filter((e): e is ClientHandle => e.kind === 'client');
    this.entities.clear();
    await Promise.all(clients.map((c) => c.client.close().catch(() => undefined)));
  }
}
