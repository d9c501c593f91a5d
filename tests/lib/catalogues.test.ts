// Every text the user reads exists in Vietnamese and English, with the same placeholders: a key
// missing in one language shows the raw key (or the other language), a placeholder missing in a
// translation drops the name or number it should show.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { locales, registeredCatalogues, type Catalogue } from '../../server/lib/i18n.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every source file that registers a catalogue (each part's messages.ts, and any other). */
async function catalogueFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await catalogueFiles(full)));
    else if (/\.ts$/.test(entry.name) && /\bregisterMessages\(\{/.test(await readFile(full, 'utf8'))) files.push(full);
  }
  return files;
}

const placeholders = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]))].sort();

let files: string[];
let catalogues: readonly Catalogue[];

beforeAll(async () => {
  files = [...(await catalogueFiles(path.join(root, 'server'))), ...(await catalogueFiles(path.join(root, 'client')))];
  for (const file of files) await import(pathToFileURL(file).href);
  catalogues = registeredCatalogues();
});

describe('the vi and en catalogues', () => {
  it('are found: every part registers its messages', () => {
    const names = files.map((file) => path.relative(root, file));
    expect(names).toEqual(expect.arrayContaining(['server/lib/i18n.ts', 'server/accounts/messages.ts', 'server/meetings/messages.ts', 'server/sites/messages.ts', 'server/attendees/messages.ts', 'server/agenda/messages.ts']));
    expect(catalogues.length).toBeGreaterThanOrEqual(files.length);
  });

  it('have the same keys in both languages', () => {
    const problems: string[] = [];
    for (const catalogue of catalogues) {
      for (const locale of locales) {
        const other = locales.find((candidate) => candidate !== locale)!;
        for (const key of Object.keys(catalogue[locale])) if (!(key in catalogue[other])) problems.push(`${key}: in ${locale}, missing in ${other}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('use the same placeholders in both languages', () => {
    const problems: string[] = [];
    for (const catalogue of catalogues) {
      for (const [key, vi] of Object.entries(catalogue.vi)) {
        const en = catalogue.en[key];
        if (en === undefined) continue;
        if (placeholders(vi).join(',') !== placeholders(en).join(',')) problems.push(`${key}: vi {${placeholders(vi).join(', ')}} / en {${placeholders(en).join(', ')}}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('have no empty text and no key defined twice by different parts', () => {
    const problems: string[] = [];
    const owner = new Map<string, number>();
    catalogues.forEach((catalogue, index) => {
      for (const locale of locales) {
        for (const [key, text] of Object.entries(catalogue[locale])) {
          if (!text.trim()) problems.push(`${key}: empty in ${locale}`);
          if (locale === 'vi') {
            if (owner.has(key) && owner.get(key) !== index) problems.push(`${key}: defined by two catalogues`);
            owner.set(key, index);
          }
        }
      }
    });
    expect(problems).toEqual([]);
  });
});
