// writeConcern as a standalone mongod reads it: which commands wait for the journal to reach
// the disk (j:true, w:"majority", fsync:true), and the errors for what one node cannot give.
import { MongoServerError, failedToParse } from './errors.js';
import type { Document } from './values.js';
import { bsonTypeName, isNumeric, isPlainDocument, isTruthy, toNumber } from './values.js';

export interface WriteConcernNeeds {
  /** Reply only after an fdatasync covering this command's writes. */
  sync: boolean;
}

const MAX_VOTING_MEMBERS = 50;

/**
 * Reads a command's writeConcern. `syncByDefault` (the store's syncEveryWrite option) makes
 * every write wait for the disk unless it asks for w:0. Throws mongod's errors for a
 * writeConcern a standalone cannot satisfy; the command is then not run.
 */
export function readWriteConcern(command: Document, syncByDefault: boolean): WriteConcernNeeds {
  const concern = command.writeConcern;
  if (concern === undefined || concern === null) return { sync: syncByDefault && isWriteCommand(command) };
  if (!isPlainDocument(concern)) {
    throw new MongoServerError('TypeMismatch', `BSON field 'writeConcern' is the wrong type '${bsonTypeName(concern)}', expected type 'object'`);
  }
  const { w, j, fsync, wtimeout } = concern;
  if (wtimeout !== undefined && wtimeout !== null && !isNumeric(wtimeout)) {
    throw failedToParse(`wtimeout must be a number, not ${bsonTypeName(wtimeout)}`);
  }
  let acknowledged = true;
  let majority = false;
  if (isNumeric(w)) {
    const n = toNumber(w);
    if (!Number.isInteger(n) || n < 0 || n > MAX_VOTING_MEMBERS) {
      throw failedToParse(`w has to be a non-negative number and not greater than ${MAX_VOTING_MEMBERS}; found: ${n}`);
    }
    if (n > 1) throw new MongoServerError('BadValue', "cannot use 'w' > 1 on a standalone");
    acknowledged = n > 0;
  } else if (typeof w === 'string') {
    if (w !== 'majority') throw new MongoServerError('BadValue', "cannot use non-majority 'w' mode on a standalone");
    majority = true;
  } else if (w !== undefined) {
    throw failedToParse('w has to be a number or a string');
  }
  if (j !== undefined && typeof j !== 'boolean' && !isNumeric(j)) throw failedToParse('j must be numeric or a boolean value');
  if (fsync !== undefined && typeof fsync !== 'boolean' && !isNumeric(fsync)) throw failedToParse('fsync must be numeric or a boolean value');
  // On a single node "majority" is this node's journal, as mongod does with
  // writeConcernMajorityJournalDefault.
  const asked = isTruthy(j) || isTruthy(fsync) || majority;
  return { sync: acknowledged && (asked || (syncByDefault && j === undefined && isWriteCommand(command))) };
}

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);

function isWriteCommand(command: Document): boolean {
  return WRITE_COMMANDS.has(Object.keys(command)[0] ?? '');
}
