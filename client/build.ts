// Bundles each client entry (client/*.ts not starting with "_") and the stylesheet into
// public/build/, served at /assets/. Run by `npm start` and before the tests; `--watch` for development.
import { build, context, type BuildOptions } from 'esbuild';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const clientDir = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(clientDir, '..', 'public', 'build');

async function buildOptions(): Promise<BuildOptions> {
  const entries = (await readdir(clientDir))
    .filter((name) => (name.endsWith('.ts') && !name.startsWith('_') && name !== 'build.ts') || name === 'styles.css')
    .map((name) => path.join(clientDir, name));
  return { entryPoints: entries, outdir, bundle: true, format: 'esm', target: 'es2020', minify: true, sourcemap: true, logLevel: 'warning' };
}

export async function buildClient(): Promise<void> {
  await build(await buildOptions());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--watch')) {
    const watcher = await context(await buildOptions());
    await watcher.watch();
    console.log(`watching client entries -> ${outdir}`);
  } else {
    await buildClient();
    console.log(`built client entries -> ${path.relative(process.cwd(), outdir)}`);
  }
}
