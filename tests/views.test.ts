// Templates are compiled once per language with plain {{t "key"}} labels inlined: the pages must
// read exactly as when the helper translated them at render time, in both languages, partials included.
import { describe, expect, it } from 'vitest';
import express from 'express';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { createViewEngine, viewHelpers, withTranslations } from '../server/views.js';
import { registerMessages, t } from '../server/lib/i18n.js';

registerMessages({
  vi: { 'test.views.hello': 'Xin chào <bạn> & "khách"', 'test.views.count': '{count} đại biểu', 'test.views.braces': 'a }} b' },
  en: { 'test.views.hello': 'Hello <friend> & "guest"', 'test.views.count': '{count} attendees', 'test.views.braces': 'a }} b' },
});

function viewsDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'views-test-'));
  mkdirSync(path.join(dir, 'layouts'));
  mkdirSync(path.join(dir, 'partials'));
  writeFileSync(path.join(dir, 'layouts', 'main.hbs'), '<title>{{t "test.views.hello"}}</title>{{{body}}}');
  writeFileSync(path.join(dir, 'partials', 'label.hbs'), '<b title="{{t \'test.views.hello\'}}">{{name}}</b>');
  writeFileSync(
    path.join(dir, 'page.hbs'),
    '{{#each rows}}<p>{{t "test.views.hello"}} {{> label name=this}} {{t "test.views.count" count=@index}} {{t "test.views.braces"}} {{t "test.views.missing"}}</p>{{/each}}',
  );
  return dir;
}

function render(app: express.Express, locale: string): Promise<string> {
  return new Promise((resolve, reject) => app.render('page', { locale, rows: ['An', 'Bình'] }, (error, html) => (error ? reject(error) : resolve(html!))));
}

describe('views compiled per language', () => {
  it('show the same text as the helper, escaped, in each language', async () => {
    const app = express();
    createViewEngine(app, viewsDir());
    app.set('view cache', true);
    for (const locale of ['vi', 'en'] as const) {
      const hello = Handlebars.escapeExpression(t(locale, 'test.views.hello'));
      const rows = ['An', 'Bình']
        .map((name, index) => `<p>${hello} <b title="${hello}">${name}</b> ${t(locale, 'test.views.count', { count: index })} a }} b test.views.missing</p>`)
        .join('');
      expect(await render(app, locale)).toBe(`<title>${hello}</title>${rows}`);
    }
  });

  it('leave parameterised or markup-like texts to the helper', () => {
    expect(withTranslations('{{t "test.views.count" count=2}}', 'vi')).toBe('{{t "test.views.count" count=2}}');
    expect(withTranslations('{{t "test.views.braces"}}', 'vi')).toBe('{{t "test.views.braces"}}');
    expect(withTranslations('{{t "test.views.hello"}}', 'en')).toBe('Hello &lt;friend&gt; &amp; &quot;guest&quot;');
    expect(Object.keys(viewHelpers)).toContain('t');
  });
});
