// zod at the edge of every action: parse the input or throw Invalid with one message per field.
import { z } from 'zod';
import { Invalid, type FieldMessages } from './errors.js';
import { hasMessage, t, type Locale } from './i18n.js';
import { cleanName, isObjectIdString } from './input.js';

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
  const raw = field.params?.zodIssue;
  const issue = typeof raw === 'string' ? (JSON.parse(raw) as z.core.$ZodIssue) : undefined;
  // A schema-wide message such as `z.string({ error: 'x.required' })` is also attached to its
  // length issues; "required" under a too-long name would mislead, so limits get their own words.
  const keyFits = hasMessage(field.key) && !(issue && isLimitIssue(issue) && field.key.endsWith('.required'));
  if (keyFits) return t(locale, field.key, field.params);
  const friendly = issue && friendlyMessage(issue);
  if (friendly) return t(locale, friendly.key, friendly.params);
  if (issue) {
    const rendered = zodLocales[locale].localeError(issue as Parameters<(typeof zodLocales)[Locale]['localeError']>[0]);
    if (typeof rendered === 'string') return rendered;
    if (rendered && typeof rendered === 'object' && 'message' in rendered) return String(rendered.message);
  }
  return hasMessage(field.key) ? t(locale, field.key, field.params) : field.key;
}

function isLimitIssue(issue: z.core.$ZodIssue): boolean {
  return (issue.code === 'too_big' || issue.code === 'too_small') && !(issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) <= 1);
}

/** Plain words for zod's common issues, instead of its technical "expected string to have <=200". */
function friendlyMessage(issue: z.core.$ZodIssue): { key: string; params: Record<string, string | number> } | undefined {
  switch (issue.code) {
    case 'too_big':
      if (issue.origin === 'string') return { key: 'error.tooLong', params: { max: Number(issue.maximum) } };
      if (issue.origin === 'number') return { key: 'error.tooBig', params: { max: Number(issue.maximum) } };
      if (issue.origin === 'array') return { key: 'error.tooMany', params: { max: Number(issue.maximum) } };
      return undefined;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? { key: 'error.required', params: {} } : { key: 'error.tooShort', params: { min: Number(issue.minimum) } };
      if (issue.origin === 'number') return { key: 'error.tooSmall', params: { min: Number(issue.minimum) } };
      return undefined;
    case 'invalid_format':
      return issue.format === 'email' ? { key: 'error.email', params: {} } : undefined;
    default:
      return undefined;
  }
}

/**
 * A 24-hex ObjectId string, validated and lower-cased: the store finds `6B16…` as `6b16…`, so an
 * id in capitals must also compare equal to the stored one in the actions' own checks (oneself,
 * the site being removed) and name the same rooms when credentials are revoked.
 */
export const objectId = z
  .string()
  .refine(isObjectIdString, 'error.invalidId')
  .transform((id) => id.toLowerCase());

/** Trimmed text; empty strings become undefined so optional fields stay absent. */
export const optionalText = (max = 500) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value), z.string().max(max).optional());

export const requiredText = (max = 500, requiredKey = 'error.required') =>
  z.preprocess(cleanName, z.string({ error: requiredKey }).min(1, requiredKey).max(max));
