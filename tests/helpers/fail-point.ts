// The store's `failCommand` fail point (mongod's test command, which the embedded store keeps):
// set for a test and always switched off again, even when the failures it caused made the driver
// clear its connection pool under the switching-off command.
import mongoose from 'mongoose';

export type FailPointMode = 'alwaysOn' | 'off' | { times: number; skip?: number };

export interface FailCommandData {
  failCommands: string[];
  errorCode?: number;
  closeConnection?: boolean;
  blockConnection?: boolean;
  blockTimeMS?: number;
}

function admin() {
  return mongoose.connection.db!.admin();
}

export async function setFailPoint(mode: FailPointMode, data: FailCommandData): Promise<void> {
  await admin().command({ configureFailPoint: 'failCommand', mode, data });
}

/**
 * Switches the fail point off. An error with the ResetPool label (91, a store shutting down) or a
 * closed connection makes the driver clear its pool, failing every command in flight with
 * MongoPoolClearedError, this one included when it was sent just then: it is sent again, so a
 * test never leaves the fail point on for the tests after it.
 */
export async function clearFailPoint(): Promise<void> {
  if (!mongoose.connection.db) return;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin().command({ configureFailPoint: 'failCommand', mode: 'off' });
      return;
    } catch (error) {
      const retryable = error instanceof Error && (error.name === 'MongoPoolClearedError' || error.name === 'MongoNetworkError');
      if (!retryable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
