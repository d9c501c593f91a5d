// The article's plain text (markdown-ish: "# " heading, "## " subheading, "- " list items,
// **bold**, blank lines between paragraphs) as HTML. Everything the organizer wrote is escaped
// first, so markup in the text shows as text: the only tags are the ones made here.
import { escapeHtml } from '../lib/text.js';

function inline(line: string): string {
  return escapeHtml(line).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

export function renderArticle(text: string): string {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n\s*\n/).map((block) => block.trim()).filter((block) => block.length > 0);
  const html: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n').map((line) => line.trim());
    if (lines.length === 1 && lines[0].startsWith('## ')) html.push(`<h3>${inline(lines[0].slice(3))}</h3>`);
    else if (lines.length === 1 && lines[0].startsWith('# ')) html.push(`<h2>${inline(lines[0].slice(2))}</h2>`);
    else if (lines.every((line) => /^[-*] /.test(line))) html.push(`<ul>${lines.map((line) => `<li>${inline(line.slice(2))}</li>`).join('')}</ul>`);
    else {
      // A paragraph may end in a list ("... đề nghị:" then "- ..." lines).
      const first = lines.findIndex((line) => /^[-*] /.test(line));
      const listed = first > 0 && lines.slice(first).every((line) => /^[-*] /.test(line));
      const prose = listed ? lines.slice(0, first) : lines;
      html.push(`<p>${prose.map(inline).join('<br>')}</p>`);
      if (listed) html.push(`<ul>${lines.slice(first).map((line) => `<li>${inline(line.slice(2))}</li>`).join('')}</ul>`);
    }
  }
  return html.join('\n');
}

/** The snippet for the department's website: the article in one <article>, no scripts, no styles. */
export function articleSnippet(text: string, options: { locale: string; source: string; sourceLabel: string }): string {
  return [`<article class="bridgepoint-summary" lang="${escapeHtml(options.locale)}">`, renderArticle(text), `<p><small><a href="${escapeHtml(options.source)}">${escapeHtml(options.sourceLabel)}</a></small></p>`, '</article>'].join('\n');
}
