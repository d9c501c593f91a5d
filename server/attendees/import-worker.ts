// Worker-thread entry: parse one uploaded attendee file (import-file.ts) off the server's event
// loop and post back its rows, or the typed error it was refused with.
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../lib/errors.js';
import { parseImportFile, type ParsedImport } from './import-file.js';

export type WorkerReply = { ok: true; parsed: ParsedImport } | { ok: false; status: number; messageKey: string; params: Record<string, string | number> };

const { name, bytes } = workerData as { name: string; bytes: Uint8Array };
const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

let reply: WorkerReply;
try {
  reply = { ok: true, parsed: await parseImportFile({ originalname: name, buffer, size: buffer.length }) };
} catch (error) {
  reply =
    error instanceof AppError
      ? { ok: false, status: error.status, messageKey: error.messageKey, params: error.params }
      : { ok: false, status: 400, messageKey: 'attendees.import.unreadable', params: { reason: String((error as Error)?.message ?? error).slice(0, 200) } };
}
parentPort!.postMessage(reply);
