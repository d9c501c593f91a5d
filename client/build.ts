// Bundles each client entry (client/*.ts not starting with "_") and the stylesheet into
// public/build/ under content-hashed names, served at /assets/ with a year-long immutable cache.
// manifest.json maps each entry ("attendees-table.js", "styles.css") to its hashed file, which is
// how templates find them; every file also gets .br and .gz copies made once here, so the server
// never compresses a static file per request. Run by `npm start` and before the tests; `--watch`
// for development.
import { build, context, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

const clientDir = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(clientDir, '..', 'public', 'build');
export const manifestPath = path.join(outdir, 'manifest.json');

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Entry name ("coordinator.js") -> hashed file name ("coordinator-5TQ2WZ3K.js"). */
export type Manifest = Record<string, string>;

export function manifestFrom(metafile: Metafile): Manifest {
  const manifest: Manifest = {};
  for (const [output, info] of Object.entries(metafile.outputs)) {
    if (!info.entryPoint || output.endsWith('.map')) continue;
    const extension = path.extname(output);
    const entryName = path.basename(info.entryPoint).replace(/\.(ts|css)$/, '') + extension;
    manifest[entryName] = path.basename(output);
  }
  return manifest;
}

async function precompress(files: string[]): Promise<void> {
  await Promise.all(
    files.map(async (file) => {
      const content = await readFile(file);
      const [br, gz] = await Promise.all([
        brotli(content, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: content.length } }),
        gzipped(content, { level: 9 }),
      ]);
      await Promise.all([writeFile(`${file}.br`, br), writeFile(`${file}.gz`, gz)]);
    }),
  );
}

/** After every build (also in --watch): write the manifest and the compressed copies. */
const writeManifest: Plugin = {
  name: 'manifest',
  setup(builder) {
    builder.onEnd(async (result) => {
      if (!result.metafile || result.errors.length > 0) return;
      const outputs = Object.keys(result.metafile.outputs).filter((output) => !output.endsWith('.map'));
      await precompress(outputs.map((output) => path.resolve(output)));
      await writeFile(manifestPath, `${JSON.stringify(manifestFrom(result.metafile), null, 2)}\n`);
    });
  },
};

async function buildOptions(): Promise<BuildOptions> {
  const entries = (await readdir(clientDir))
    .filter((name) => (name.endsWith('.ts') && !name.startsWith('_') && name !== 'build.ts') || name === 'styles.css')
    .map((name) => path.join(clientDir, name));
  return {
    entryPoints: entries,
    outdir,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [writeManifest],
  };
}

export async function buildClient(): Promise<void> {
  // Hashed names change with every edit: start from an empty folder so old bundles do not pile up.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build(await buildOptions());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--watch')) {
    await mkdir(outdir, { recursive: true });
    const watcher = await context(await buildOptions());
    await watcher.watch();
    console.log(`watching client entries -> ${outdir}`);
  } else {
    await buildClient();
    console.log(`built client entries -> ${path.relative(process.cwd(), outdir)}`);
  }
}
