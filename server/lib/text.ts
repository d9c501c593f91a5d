// Text helpers for Vietnamese: search keys without diacritics, and random tokens for links.
import { randomBytes } from 'node:crypto';

/** "Nguyễn Văn Đức" -> "nguyen van duc": what a user types on a phone without a Vietnamese keyboard. */
export function searchKey(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An unguessable URL-safe token for personal and site links. */
export function newToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
