// Handlebars view engine with the helpers every page uses (translation, dates in the meeting's
// time zone, comparisons, JSON for client scripts).
import type express from 'express';
import { engine } from 'express-handlebars';
import type { HelperOptions } from 'handlebars';
import path from 'node:path';
import { t, defaultLocale, type Locale } from './lib/i18n.js';
import { defaultTimeZone, formatDate, formatDateTime, formatTime, toLocalInput } from './lib/time.js';

type Root = { locale?: Locale };

function localeFrom(options: HelperOptions): Locale {
  return (options.data?.root as Root | undefined)?.locale ?? defaultLocale;
}

function asDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/** Handlebars passes its options object last; a zone argument may be missing. */
function zoneArg(zone: unknown): string {
  return typeof zone === 'string' && zone ? zone : defaultTimeZone;
}

export const viewHelpers = {
  t(key: string, options: HelperOptions) {
    return t(localeFrom(options), key, options.hash ?? {});
  },
  eq: (a: unknown, b: unknown) => String(a) === String(b),
  ne: (a: unknown, b: unknown) => String(a) !== String(b),
  gt: (a: number, b: number) => a > b,
  lt: (a: number, b: number) => a < b,
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  not: (value: unknown) => !value,
  add: (a: number, b: number) => Number(a) + Number(b),
  /** JSON for <script type="application/json">: "<" escaped so the data cannot close the tag. */
  json: (value: unknown) => JSON.stringify(value ?? null).replace(/</g, '\\u003c'),
  dateTime(value: unknown, zone: unknown, options: HelperOptions) {
    const date = asDate(value);
    return date ? formatDateTime(date, zoneArg(zone), localeFrom(options)) : '';
  },
  date(value: unknown, zone: unknown, options: HelperOptions) {
    const date = asDate(value);
    return date ? formatDate(date, zoneArg(zone), localeFrom(options)) : '';
  },
  time(value: unknown, zone: unknown) {
    const date = asDate(value);
    return date ? formatTime(date, zoneArg(zone)) : '';
  },
  localInput(value: unknown, zone: unknown) {
    const date = asDate(value);
    return date ? toLocalInput(date, zoneArg(zone)) : '';
  },
  /** The current URL with ?lang= set, for the language switch. */
  langUrl(lang: string, options: HelperOptions) {
    const root = options.data?.root as { currentPath?: string } | undefined;
    return `${root?.currentPath ?? '/'}?lang=${lang}`;
  },
};

export function createViewEngine(app: express.Express, viewsDir: string): void {
  app.engine(
    'hbs',
    engine({
      extname: '.hbs',
      defaultLayout: 'main',
      layoutsDir: path.join(viewsDir, 'layouts'),
      partialsDir: path.join(viewsDir, 'partials'),
      helpers: viewHelpers,
      // Without this an indented `{{> field type="textarea"}}` indents every line of the value,
      // and each save of a multi-line note would add more leading spaces.
      // Every helper is one of ours or Handlebars' own: {{name}} then compiles to a property read
      // instead of a helper-or-property check (faster rows), and a misspelt helper fails to compile.
      compilerOptions: { preventIndent: true, knownHelpers: Object.fromEntries(Object.keys(viewHelpers).map((name) => [name, true])), knownHelpersOnly: true },
    }),
  );
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);
}
