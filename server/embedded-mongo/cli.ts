// Standalone server: npm run embedded-mongo -- --port 27017 --dbpath ./data/db [--in-memory]
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    dbpath: { type: 'string', default: './data/db' },
    'in-memory': { type: 'boolean', default: false },
  },
});

const storage = values['in-memory'] ? ({ inMemory: true } as const) : { dbPath: values.dbpath! };
const mongo = await startEmbeddedMongo(storage, { port: Number(values.port), thread: 'main' });
console.log(`embedded-mongo listening on ${mongo.uri} (${'dbPath' in storage ? storage.dbPath : 'in memory'})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void mongo.stop().then(() => process.exit(0));
  });
}
