// Command dispatch: name -> handler, plus the checks every command shares.
import { MongoLocationError, MongoServerError, errorReply } from '../errors.js';
import { isPlainDocument, type Document } from '../values.js';
import type { Reply } from '../wire.js';
import * as admin from './admin.js';
import { sessionName, type CommandContext, type CommandHandler } from './context.js';
import * as ddl from './ddl.js';
import { explain } from './explain.js';
import * as read from './read.js';
import * as write from './write.js';

const handlers = new Map<string, CommandHandler>([
  ['hello', admin.hello],
  ['isMaster', admin.isMaster],
  ['ismaster', admin.isMaster],
  ['ping', admin.ping],
  ['buildInfo', admin.buildInfo],
  ['buildinfo', admin.buildInfo],
  ['serverStatus', admin.serverStatus],
  ['hostInfo', admin.hostInfo],
  ['fsync', admin.fsync],
  ['getParameter', admin.getParameter],
  ['setParameter', admin.setParameter],
  ['getCmdLineOpts', admin.getCmdLineOpts],
  ['getLog', admin.getLog],
  ['listDatabases', admin.listDatabases],
  ['connectionStatus', admin.connectionStatus],
  ['whatsmyuri', admin.whatsmyuri],
  ['endSessions', admin.sessionNoop],
  ['killSessions', admin.sessionNoop],
  ['killAllSessions', admin.sessionNoop],
  ['refreshSessions', admin.sessionNoop],
  ['dbStats', admin.dbStats],
  ['dbstats', admin.dbStats],
  ['collStats', admin.collStats],
  ['validate', admin.validate],
  ['dataSize', admin.dataSize],
  ['datasize', admin.dataSize],
  ['currentOp', admin.currentOp],
  ['killOp', admin.killOp],
  ['profile', admin.profile],
  ['replSetGetStatus', admin.replSetGetStatus],
  ['listCommands', listCommands],
  ['create', ddl.create],
  ['drop', ddl.drop],
  ['dropDatabase', ddl.dropDatabase],
  ['renameCollection', ddl.renameCollection],
  ['listCollections', ddl.listCollections],
  ['createIndexes', ddl.createIndexes],
  ['listIndexes', ddl.listIndexes],
  ['dropIndexes', ddl.dropIndexes],
  ['deleteIndexes', ddl.dropIndexes],
  ['collMod', ddl.collMod],
  ['insert', write.insert],
  ['update', write.update],
  ['delete', write.deleteCommand],
  ['findAndModify', write.findAndModify],
  ['findandmodify', write.findAndModify],
  ['find', read.find],
  ['getMore', read.getMore],
  ['killCursors', read.killCursors],
  ['count', read.count],
  ['distinct', read.distinct],
  ['aggregate', read.aggregate],
  ['explain', explain],
  // A standalone mongod knows these commands but refuses them: there are no transactions.
  ['commitTransaction', noTransactions],
  ['abortTransaction', noTransactions],
]);

/** listCommands: every command this store answers (mongod's shape, without per-command help). */
function listCommands(): Document {
  const commands: Document = {};
  for (const name of [...handlers.keys()].sort()) {
    commands[name] = { help: '', requiresAuth: false, secondaryOk: true, adminOnly: adminOnly.has(name), apiVersions: [], deprecatedApiVersions: [] };
  }
  return { commands, ok: 1 };
}

const adminOnly = new Set(['fsync', 'getCmdLineOpts', 'getLog', 'getParameter', 'setParameter', 'hostInfo', 'listDatabases', 'currentOp', 'killOp', 'replSetGetStatus']);

function noTransactions(): never {
  throw new MongoServerError('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
}

/** Runs one command and returns its reply; errors become { ok: 0, code, codeName, errmsg }. */
export function runCommand(body: Document, ctx: CommandContext): Reply {
  const name = Object.keys(body)[0];
  try {
    if (name === undefined) throw new MongoServerError('CommandNotFound', 'no such command: \'\'');
    const handler = handlers.get(name);
    if (!handler) throw new MongoServerError('CommandNotFound', `no such command: '${name}'`);
    if (body.startTransaction !== undefined || body.autocommit !== undefined || body.txnNumber !== undefined) {
      // A standalone mongod answers exactly this way, to transactions and to retryable writes
      // (a txnNumber) alike; the driver then says "does not support retryable writes".
      throw new MongoServerError('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    if (ctx.db === '') throw new MongoLocationError(40571, 'OP_MSG requests require a $db argument');
    if (isPlainDocument(body.readConcern) && body.readConcern.level === 'linearizable') {
      // A standalone mongod cannot give linearizable reads and says so.
      throw new MongoServerError('NotAReplicaSet', 'node needs to be a replica set member to use read concern');
    }
    ctx.session = sessionName(body.lsid);
    return handler(body, ctx);
  } catch (err) {
    return errorReply(err);
  }
}
