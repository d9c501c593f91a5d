// Handlebars view engine with the helpers every page uses (translation, dates in the meeting's
// time zone, comparisons, JSON for client scripts).
import type express from 'express';
import { create } from 'express-handlebars';
import Handlebars, { type HelperOptions, type RuntimeOptions, type TemplateDelegate } from 'handlebars';

type CompileOptions = Parameters<typeof Handlebars.compile>[1];
import path from 'node:path';
import { t, defaultLocale, isLocale, locales, type Locale } from './lib/i18n.js';
import { assetUrl, inlineAsset, inlineScript } from './assets.js';
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
  concat: (...args: unknown[]) => args.slice(0, -1).join(''),
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
  /** The instant for machines (<time datetime>): UTC ISO 8601, unambiguous in any zone. */
  isoInstant(value: unknown) {
    return asDate(value)?.toISOString() ?? '';
  },
  localInput(value: unknown, zone: unknown) {
    const date = asDate(value);
    return date ? toLocalInput(date, zoneArg(zone)) : '';
  },
  /** URL of a built client bundle by entry name ("styles.css", "coordinator.js"): hashed, cached for a year. */
  asset: (entry: string) => assetUrl(entry),
  /** A built stylesheet's text for an inline <style> (pages that must show on the first round trip). */
  inlineAsset: (entry: string) => inlineAsset(entry),
  /** A built page script's text for an inline module script (allowed by its hash in the CSP). */
  inlineScript: (entry: string) => inlineScript(entry),
  /** The current URL with ?lang= set, for the language switch. */
  langUrl(lang: string, options: HelperOptions) {
    const root = options.data?.root as { currentPath?: string } | undefined;
    // Always a path on this site, even for a request like //other.example/x.
    const path = `/${(root?.currentPath ?? '/').replace(/^[/\\]+/, '')}`;
    return `${path}?lang=${lang}`;
  },
};

/**
 * Templates are compiled once per language: a plain `{{t "key"}}` (no parameters) becomes its
 * escaped text at compile time, so a table row does not call the helper for every label. What
 * each page shows is unchanged; `{{t}}` with parameters, and texts Handlebars would read as
 * markup, still go through the helper at render time.
 */
const plainTranslation = /\{\{t\s+(?:"([\w.-]+)"|'([\w.-]+)')\s*\}\}/g;

export function withTranslations(source: string, locale: Locale): string {
  return source.replace(plainTranslation, (whole, double?: string, single?: string) => {
    const text = t(locale, double ?? single ?? '');
    if (text.includes('{{') || text.includes('\\') || text.includes('}}')) return whole;
    return Handlebars.escapeExpression(text);
  });
}

export function createViewEngine(app: express.Express, viewsDir: string): void {
  const instance = create({
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
  });
  const compile = instance.handlebars.compile.bind(instance.handlebars);
  // express-handlebars compiles views, layouts and partials through this hook.
  (instance as unknown as { _compileTemplate: (template: string, options?: CompileOptions) => TemplateDelegate })._compileTemplate = (template, options = {}) => {
    const source = template.trim();
    const byLocale = Object.fromEntries(locales.map((locale) => [locale, compile(withTranslations(source, locale), options)])) as Record<Locale, TemplateDelegate>;
    return (context: unknown, runtimeOptions?: RuntimeOptions) => {
      // Views and layouts get the page context; partials find it as @root.
      const root = ((runtimeOptions?.data as { root?: Root } | undefined)?.root ?? context) as Root | undefined;
      return byLocale[isLocale(root?.locale) ? root.locale : defaultLocale](context, runtimeOptions);
    };
  };
  // express-handlebars trims each rendered view and layout, which copies a 100 KB page twice
  // (the body, then the page around it). Sources are trimmed when compiled instead; what is left
  // is at most a line break inside <main>.
  (instance as unknown as { _renderTemplate: (template: TemplateDelegate, context: unknown, options: RuntimeOptions) => string })._renderTemplate = (template, context, options) =>
    template(context, options);
  app.engine('hbs', instance.engine);
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);
}
