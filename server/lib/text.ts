// Text helpers for Vietnamese: search keys without diacritics, and random tokens for links.
import { randomBytes } from 'node:crypto';

/** "Nguyễn Văn Đức" -> "nguyen van duc": what a user types on a phone without a Vietnamese keyboard. */
export function searchKey(text: string): string {
  return text
    // Invisible characters (zero-width spaces and joiners, soft hyphens, bidi marks) that a name or
    // a search pasted from a chat or a document carries: "nguyen\u200b" must still find "Nguyễn".
    .replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The words of a search key, for an index of word prefixes: each word, and each tail of it that
 * starts after punctuation ("dai-bieu-5@example.vn" also gives "bieu-5@example.vn", "5@example.vn",
 * "example.vn", "vn"), so any word or part of an e-mail address can be typed from its start.
 */
export function searchTokens(key: string): string[] {
  const tokens = new Set<string>();
  for (const word of key.split(' ')) {
    if (!word) continue;
    tokens.add(word);
    for (const part of word.matchAll(/[^a-z0-9]+(?=[a-z0-9])/g)) tokens.add(word.slice(part.index + part[0].length));
  }
  return [...tokens];
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An unguessable URL-safe token for personal and site links. */
export function newToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Text as HTML text: the five characters that could start markup or end an attribute, escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
