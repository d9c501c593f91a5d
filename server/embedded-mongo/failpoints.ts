// mongod's `failCommand` fail point (configureFailPoint), used by drivers' conformance tests to
// make the next N commands fail, drop the connection, or wait first (blockConnection).
import { badValue } from './errors.js';
import type { Document } from './values.js';
import { isNumeric, isPlainDocument, isTruthy, toInteger } from './values.js';

export type FailAction = (
  | { kind: 'closeConnection' }
  | { kind: 'error'; reply: Document }
  | { kind: 'writeConcernError'; writeConcernError: Document; errorLabels?: unknown }
  | { kind: 'run' }
) & {
  /** `blockConnection` with `blockTimeMS`: the connection waits this long before the command runs (or fails). */
  blockMs?: number;
};

interface ActiveFailPoint {
  commands: Set<string>;
  remaining: number; // Infinity for alwaysOn
  skip: number;
  appName?: string;
  data: Document;
}

export class FailPoints {
  private failCommand: ActiveFailPoint | undefined;

  configure(command: Document): Document {
    if (command.configureFailPoint !== 'failCommand') throw badValue(`unknown fail point: ${String(command.configureFailPoint)}`);
    const mode = command.mode;
    const data = isPlainDocument(command.data) ? command.data : {};
    if (mode === 'off') {
      this.failCommand = undefined;
      return { count: 0, ok: 1 };
    }
    let remaining = Number.POSITIVE_INFINITY;
    let skip = 0;
    if (isPlainDocument(mode)) {
      if (mode.times !== undefined) remaining = toInteger(mode.times);
      if (mode.skip !== undefined) skip = toInteger(mode.skip);
    } else if (mode !== 'alwaysOn') {
      throw badValue(`unknown fail point mode: ${JSON.stringify(mode)}`);
    }
    this.failCommand = {
      commands: new Set(Array.isArray(data.failCommands) ? data.failCommands.map(String) : []),
      remaining,
      skip,
      appName: typeof data.appName === 'string' ? data.appName : undefined,
      data,
    };
    return { count: 0, ok: 1 };
  }

  /** What to do instead of (or on top of) running this command, if the fail point triggers. */
  check(commandName: string, appName: string | undefined): FailAction | undefined {
    const fp = this.failCommand;
    if (!fp || !fp.commands.has(commandName)) return undefined;
    if (fp.appName !== undefined && fp.appName !== appName) return undefined;
    if (fp.skip > 0) {
      fp.skip--;
      return undefined;
    }
    if (--fp.remaining <= 0) this.failCommand = undefined;
    const { data } = fp;
    let block: { blockMs?: number } = {};
    if (isTruthy(data.blockConnection)) {
      // As mongod: the command fails (the fail point still counts as entered) without a usable wait.
      if (!isNumeric(data.blockTimeMS)) return invalidOptions("must specify 'blockTimeMS' when 'blockConnection' is true");
      const ms = toInteger(data.blockTimeMS);
      if (ms < 0) return invalidOptions("'blockTimeMS' must be non-negative");
      // setTimeout fires at once past 2^31-1 ms: the longest wait it can hold (24.8 days).
      block = { blockMs: Math.min(ms, 2 ** 31 - 1) };
    }
    if (isTruthy(data.closeConnection)) return { kind: 'closeConnection', ...block };
    if (data.errorCode !== undefined) {
      const reply: Document = { ok: 0, errmsg: "Failing command via 'failCommand' failpoint", code: toInteger(data.errorCode) };
      if (data.errorLabels !== undefined) reply.errorLabels = data.errorLabels;
      if (isPlainDocument(data.errInfo)) reply.errInfo = data.errInfo;
      return { kind: 'error', reply, ...block };
    }
    if (isPlainDocument(data.writeConcernError)) {
      return { kind: 'writeConcernError', writeConcernError: data.writeConcernError, errorLabels: data.errorLabels, ...block };
    }
    return block.blockMs !== undefined ? { kind: 'run', ...block } : undefined;
  }
}

function invalidOptions(errmsg: string): FailAction {
  return { kind: 'error', reply: { ok: 0, errmsg, code: 72, codeName: 'InvalidOptions' } };
}
