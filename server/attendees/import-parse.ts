// Parsing an uploaded attendee file without stalling anyone: the cheap checks here (size, type,
// what the zip says it unpacks to), the parsing itself in a worker thread with its own memory cap
// and time limit, at most two at once (the other uploads wait their turn).
import { BadRequest, TooLarge } from '../lib/errors.js';
import { startWorker } from '../lib/worker.js';
import { maxUnpackedBytes, precheckImportFile, type ParsedImport, type UploadedFile } from './import-file.js';
import type { WorkerReply } from './import-worker.js';

const workerLimits = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 };
const parseTimeoutMs = 30_000;
const parallelParses = 2;

let running = 0;
const waiting: Array<() => void> = [];

async function turn(): Promise<() => void> {
  if (running >= parallelParses) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

export async function parseImportOffThread(file: UploadedFile): Promise<ParsedImport> {
  precheckImportFile(file);
  const done = await turn();
  try {
    return await parseInWorker(file);
  } finally {
    done();
  }
}

function parseInWorker(file: UploadedFile): Promise<ParsedImport> {
  return new Promise((resolve, reject) => {
    const bytes = new Uint8Array(file.buffer);
    const worker = startWorker(new URL('./import-worker.js', import.meta.url), { workerData: { name: file.originalname, bytes }, resourceLimits: workerLimits });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => settle(() => reject(new TooLarge('attendees.import.tooSlow'))), parseTimeoutMs);
    worker.once('message', (reply: WorkerReply) =>
      settle(() => {
        if (reply.ok) resolve(reply.parsed);
        else reject(reply.status === 413 ? new TooLarge(reply.messageKey, reply.params) : new BadRequest(reply.messageKey, reply.params));
      }),
    );
    // Out of memory (a file that lied about its size) or a crash: the file is refused, the server lives on.
    worker.once('error', (error: NodeJS.ErrnoException) =>
      settle(() => reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new TooLarge('attendees.import.unpackedTooLarge', { maxMb: maxUnpackedBytes / 2 ** 20 }) : new BadRequest('attendees.import.unreadable', { reason: error.message.slice(0, 200) }))),
    );
    worker.once('exit', (code) => settle(() => reject(new BadRequest('attendees.import.unreadable', { reason: `parser stopped (${code})` }))));
  });
}
