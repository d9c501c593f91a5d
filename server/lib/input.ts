// Cleaning what people and programs send, in one place: ids, text, integers and query parameters.
// Actions' zod schemas and routes use these instead of writing the patterns again.

const objectIdPattern = /^[a-f\d]{24}$/i;

/** A 24-hex ObjectId string (what a URL or form may name a document by). */
export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && objectIdPattern.test(value);
}

/** NFC-normalized and trimmed; anything not a string is passed through for zod to refuse. */
export function cleanText(value: unknown): unknown {
  return typeof value === 'string' ? value.normalize('NFC').trim() : value;
}

// Letters, numbers, punctuation and symbols are visible; spaces, controls, format characters
// (zero-width space/joiners, BOM, bidi marks), the default-ignorable fillers that render as
// nothing (Hangul fillers U+3164/U+115F, the combining grapheme joiner, variation selectors), the
// blank Braille pattern U+2800 and combining marks with no letter to sit on are not.
const visibleCharacter = /[\p{L}\p{N}\p{P}\p{S}]/u;
const invisibleCharacters = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/gu;
/** Bidi embeddings, overrides and isolates: in a name they only reorder what follows it on screen. */
const bidiControls = /[\u202A-\u202E\u2066-\u2069]/g;
// At the ends: blanks, format characters and the fillers (not variation selectors: an emoji keeps
// its style). The combining fillers (U+034F, U+17B4-5) stand outside the class, as marks do.
const edgeInvisible = '(?:[\\s\\p{Cf}\\u115F\\u1160\\u2800\\u3164\\uFFA0]|\\u034F|\\u17B4|\\u17B5)';
const invisibleEdges = new RegExp(`^${edgeInvisible}+|${edgeInvisible}+$`, 'gu');

/** True when a person could read something in `text` (a name of zero-width spaces is no name). */
export function hasVisibleCharacter(text: string): boolean {
  return visibleCharacter.test(text.replace(invisibleCharacters, ''));
}

/**
 * Text cleaned for a name: NFC, without bidi overrides, trimmed of blanks and invisible
 * characters at both ends, and empty when nothing in it is visible.
 */
export function cleanName(value: unknown): unknown {
  const cleaned = cleanText(value);
  if (typeof cleaned !== 'string') return cleaned;
  return hasVisibleCharacter(cleaned) ? cleaned.replace(bidiControls, '').replace(invisibleEdges, '') : '';
}

const decimalInteger = /^[+-]?\d+$/;

/**
 * A whole number from a form or JSON: a number as is, a string only when it is decimal digits
 * ("0x10", "1e3", "12abc" and " " are not numbers). Anything else becomes NaN for zod to refuse;
 * '' and null become undefined (an empty optional field).
 */
export function decimalIntegerInput(value: unknown): unknown {
  if (value === '' || value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return undefined;
    return decimalInteger.test(trimmed) ? Number(trimmed) : Number.NaN;
  }
  return value;
}

/**
 * One value of a query parameter: the first of a repeated one (`?q=a&q=b`), undefined for nested
 * objects. A number (a caller in code, a JSON body) reads as its decimal text.
 */
export function singleParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return singleParam(value[0]);
  return undefined;
}

/** Longest search text read; anything longer is cut, not refused (a pasted paragraph still searches). */
export const searchTextMax = 200;

/** Search text from a query string: one value, trimmed, cut to `searchTextMax` characters. */
export function searchParam(value: unknown): string | undefined {
  const text = singleParam(value)?.normalize('NFC').trim();
  if (!text) return undefined;
  return Array.from(text).slice(0, searchTextMax).join('').trim();
}
