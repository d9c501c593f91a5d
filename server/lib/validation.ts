// zod at the edge of every action: parse the input or throw Invalid with one message per field.
import { z } from 'zod';
import { Types } from 'mongoose';
import { Invalid, type FieldMessages } from './errors.js';
import { hasMessage, t, type Locale } from './i18n.js';

/**
 * Parse `input` with `schema`, or throw Invalid. Custom messages in schemas are catalogue keys
 * (e.g. `z.string().min(1, 'meeting.title.required')`); zod's own messages are translated at the
 * edge by `describeIssue`, so actions never need to know the asker's language.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidFromZod(result.error);
}

export function invalidFromZod(error: z.ZodError): Invalid {
  const fields: FieldMessages = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.') || '_';
    if (!fields[path]) fields[path] = { key: issue.message, params: { zodIssue: JSON.stringify(stripInput(issue)) } };
  }
  return new Invalid(fields);
}

function stripInput(issue: z.core.$ZodIssue): Omit<z.core.$ZodIssue, 'input'> {
  const { input: _input, ...rest } = issue as z.core.$ZodIssue & { input?: unknown };
  return rest;
}

const zodLocales = { vi: z.locales.vi(), en: z.locales.en() } as const;

/** Render one field message in `locale`: catalogue keys are translated, zod issues re-rendered. */
export function describeField(locale: Locale, field: FieldMessages[string]): string {
  if (hasMessage(field.key)) return t(locale, field.key, field.params);
  const raw = field.params?.zodIssue;
  if (typeof raw === 'string') {
    const rendered = zodLocales[locale].localeError(JSON.parse(raw));
    if (typeof rendered === 'string') return rendered;
    if (rendered && typeof rendered === 'object' && 'message' in rendered) return String(rendered.message);
  }
  return field.key;
}

/** A 24-hex ObjectId string, validated. */
export const objectId = z.string().refine((value) => Types.ObjectId.isValid(value) && /^[a-f\d]{24}$/i.test(value), 'error.invalidId');

/** Trimmed text; empty strings become undefined so optional fields stay absent. */
export const optionalText = (max = 500) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value), z.string().max(max).optional());

export const requiredText = (max = 500, requiredKey = 'error.required') =>
  z.preprocess((value) => (typeof value === 'string' ? value.trim() : value), z.string({ error: requiredKey }).min(1, requiredKey).max(max));
