// Bundles each client entry (client/*.ts not starting with "_") and the stylesheet into
// public/build/, served at /assets/. Run by `npm start` and `npm test`; `--watch` for development.
import { build, context, type BuildOptions } from 'esbuild';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const clientDir = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(clientDir, '..', 'public', 'build');

const entries = (await readdir(clientDir))
  .filter((name) => (name.endsWith('.ts') && !name.startsWith('_') && name !== 'build.ts') || name === 'styles.css')
  .map((name) => path.join(clientDir, name));

const options: BuildOptions = {
  entryPoints: entries,
  outdir,
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
};

if (process.argv.includes('--watch')) {
  const watcher = await context(options);
  await watcher.watch();
  console.log(`watching ${entries.length} client entries -> ${outdir}`);
} else {
  await build(options);
  console.log(`built ${entries.length} client entries -> ${path.relative(process.cwd(), outdir)}`);
}
