// docs/api/live.md is what a site's own kiosk or a script in another language is written from:
// it must name every command with exactly the inputs the server reads, every error code an ack
// can carry, who may send each command, and every event type the server pushes.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { liveCommands } from '../../server/live/contract.js';

const root = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/api/live.md'), 'utf8');
const commandNames = Object.keys(liveCommands).sort();

function section(title: string): string {
  const start = doc.indexOf(`## ${title}`);
  expect(start, `live.md has a section "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** Every `name` `{ a, b? }` the document gives, as name -> "a, b?". */
function documentedInputs(): Map<string, string[]> {
  const inputs = new Map<string, string[]>();
  for (const match of doc.matchAll(/((?:`[a-z]+:[a-zA-Z]+`\s*(?:\/\s*)?)+)`\{([^}`]*)\}`/g)) {
    const fields = match[2].split(',').map((field) => field.trim()).filter(Boolean).sort();
    for (const name of match[1].matchAll(/`([a-z]+:[a-zA-Z]+)`/g)) inputs.set(name[1], fields);
  }
  return inputs;
}

function schemaFields(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
  return Object.entries(shape)
    .map(([key, field]) => (field.safeParse(undefined).success ? `${key}?` : key))
    .sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'embedded-mongo' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/api/live.md against the server', () => {
  it('documents every command with exactly the inputs its schema reads (optional ones marked ?), and no command that does not exist', () => {
    const documented = documentedInputs();
    expect([...documented.keys()].sort()).toEqual(commandNames);
    for (const name of commandNames) expect(documented.get(name), name).toEqual(schemaFields(liveCommands[name as keyof typeof liveCommands]));
  });

  it("says who may send every command (the 'Who may send what' table)", () => {
    const table = section('Who may send what');
    const listed: string[] = [];
    for (const row of table.split('\n').filter((line) => line.startsWith('| `'))) {
      let prefix = '';
      for (const [, token] of row.split('|')[1].matchAll(/`([^`]+)`/g)) {
        if (token.includes(':')) prefix = token.split(':')[0];
        listed.push(token.includes(':') ? token : `${prefix}:${token}`);
      }
    }
    expect(listed.sort()).toEqual(commandNames);
  });

  it('lists the error codes an ack can carry: the ones of the contract, which are every typed error of the server plus internal', () => {
    const contract = readFileSync(join(root, 'server/live/contract.ts'), 'utf8');
    const union = contract.match(/error: \{ code: ((?:'[a-z_]+'(?: \| )?)+);/)![1];
    const contractCodes = [...union.matchAll(/'([a-z_]+)'/g)].map((match) => match[1]).sort();
    const errors = readFileSync(join(root, 'server/lib/errors.ts'), 'utf8');
    const typedCodes = [...errors.matchAll(/readonly code = '([a-z_]+)'/g)].map((match) => match[1]);
    expect(contractCodes).toEqual([...new Set([...typedCodes, 'internal'])].sort());
    const acks = section('Acknowledgements');
    const documentedCodes = [...acks.slice(acks.indexOf('`code` is one of')).split('\n\n')[0].matchAll(/`([a-z_]+)`/g)].map((match) => match[1]).filter((code) => code !== 'code' && code !== 'fields' && code !== 'retryAfterMs' && code !== 'message');
    expect(documentedCodes.sort()).toEqual(contractCodes);
  });

  it('names every event type the server pushes (live events in the table, table edits in the sentence after it)', () => {
    const pushed = section('Pushed events');
    const emitted = new Set<string>();
    for (const file of sourceFiles(join(root, 'server'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:type: |[a-zA-Z]+Event\()'([a-z]+\.[a-zA-Z]+)'/g)) emitted.add(match[1]);
    }
    expect(emitted.size).toBeGreaterThan(10);
    const named = new Set([...pushed.matchAll(/`([a-z]+\.[a-zA-Z]+)`/g)].map((match) => match[1]));
    expect([...emitted].filter((type) => !named.has(type)).sort()).toEqual([]);
    expect([...named].filter((type) => !emitted.has(type)).sort()).toEqual([]);
  });
});
