// Text indexes and $text as mongod (textIndexVersion 3) defines them: the indexed string fields
// are tokenised, case- and diacritic-folded ("Nguyễn" and "nguyen" are one term), English stop
// words dropped and English terms stemmed; a search is terms (any may match), "phrases" (all
// must appear) and -negations (none may); each match has a score, read with $meta: "textScore".
import { MAX_QUERY_TREE_DEPTH, MongoServerError, badValue, queryTreeTooDeep } from './errors.js';
import { foldDiacritics } from './mingo-bridge.js';
import type { Document } from './values.js';
import { formatValue, isNumeric, isPlainDocument, toNumber } from './values.js';

export interface TextIndexInfo {
  /** Field path -> weight; '$**' indexes every string in the document. */
  weights: Map<string, number>;
  defaultLanguage: string;
  languageOverride: string;
}

/** Whether an index key pattern declares a text index ({ a: 'text' } or mongod's stored { _fts: 'text' }). */
export function isTextKey(key: Document): boolean {
  return Object.values(key).some((v) => v === 'text');
}

const LANGUAGES = new Set(['none', 'english', 'en', 'danish', 'dutch', 'finnish', 'french', 'german', 'hungarian', 'italian', 'norwegian', 'portuguese', 'romanian', 'russian', 'spanish', 'swedish', 'turkish']);

/**
 * The spec mongod stores (and listIndexes shows) for a text index: key { _fts: 'text', _ftsx: 1 }
 * plus weights, default_language, language_override and textIndexVersion.
 */
export function normalizeTextIndexSpec(spec: Document): Document {
  const key = spec.key as Document;
  const weights: Document = {};
  const given = isPlainDocument(spec.weights) ? spec.weights : {};
  const storedKey: Document = {};
  let textSeen = false;
  for (const [field, kind] of Object.entries(key)) {
    if (field === '_fts' || field === '_ftsx') {
      storedKey[field] = kind;
      continue;
    }
    if (kind === 'text') {
      textSeen = true;
      weights[field] = 1;
    } else {
      if (textSeen) throw badValue('text index fields must be contiguous; compound text indexes with trailing fields are not supported here');
      storedKey[field] = kind;
    }
  }
  for (const [field, weight] of Object.entries(given)) {
    if (!isNumeric(weight) || toNumber(weight) <= 0 || toNumber(weight) >= 100_000) {
      throw badValue(`text index weights must be numbers between 1 and 99999, got ${field}: ${String(weight)}`);
    }
    weights[field] = Math.trunc(toNumber(weight));
  }
  const language = typeof spec.default_language === 'string' ? spec.default_language : 'english';
  if (!LANGUAGES.has(language)) {
    throw new MongoServerError('BadValue', `default_language "${language}" is not a supported language`);
  }
  const sortedWeights: Document = {};
  for (const field of Object.keys(weights).sort()) sortedWeights[field] = weights[field];
  const out: Document = { v: spec.v ?? 2, key: Object.keys(storedKey).length ? { ...storedKey, _fts: 'text', _ftsx: 1 } : { _fts: 'text', _ftsx: 1 }, name: spec.name };
  for (const [k, v] of Object.entries(spec)) if (!['v', 'key', 'name', 'weights', 'default_language', 'language_override', 'textIndexVersion'].includes(k)) out[k] = v;
  out.weights = sortedWeights;
  out.default_language = language;
  out.language_override = typeof spec.language_override === 'string' ? spec.language_override : 'language';
  out.textIndexVersion = 3;
  return out;
}

export function textIndexInfo(spec: Document): TextIndexInfo {
  const weights = new Map<string, number>();
  for (const [field, weight] of Object.entries(isPlainDocument(spec.weights) ? spec.weights : {})) weights.set(field, toNumber(weight));
  return {
    weights,
    defaultLanguage: typeof spec.default_language === 'string' ? spec.default_language : 'english',
    languageOverride: typeof spec.language_override === 'string' ? spec.language_override : 'language',
  };
}

// ---- tokenising

const ENGLISH_STOP_WORDS = new Set(
  ('a about above after again against all am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each few for from further had has have having he her here hers herself him himself his ' +
    'how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves ' +
    'out over own same she should so some such than that the their theirs them themselves then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with would you your yours ' +
    'yourself yourselves').split(' '),
);

function isEnglish(language: string): boolean {
  return language === 'english' || language === 'en';
}

/** A light English stemmer (plurals, -ed, -ing, -ly): "speakers" and "speaking" both give "speak". */
function stemEnglish(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith("'s")) w = w.slice(0, -2);
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}i`;
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  for (const suffix of ['ingly', 'edly', 'ing', 'ed']) {
    if (w.endsWith(suffix) && /[aeiouy]/.test(w.slice(0, -suffix.length)) && w.length - suffix.length >= 3) {
      w = w.slice(0, -suffix.length);
      if (/([bdfgmnprt])\1$/.test(w)) w = w.slice(0, -1);
      break;
    }
  }
  if (w.endsWith('ly') && w.length > 5) w = w.slice(0, -2);
  if (w.endsWith('y') && w.length > 3 && !/[aeiou]y$/.test(w)) w = `${w.slice(0, -1)}i`;
  return w;
}

/** Case- and diacritic-folded form used for terms and phrases. */
export function foldText(text: string, caseSensitive = false, diacriticSensitive = false): string {
  const d = diacriticSensitive ? text.normalize('NFC') : foldDiacritics(text);
  return caseSensitive ? d : d.toLowerCase();
}

/** Index terms of a string, in order (stop words removed, stemmed). */
export function tokenize(text: string, language: string, caseSensitive = false, diacriticSensitive = false): string[] {
  const english = isEnglish(language);
  const out: string[] = [];
  for (const raw of foldText(text, caseSensitive, diacriticSensitive).split(/[^\p{L}\p{N}_']+/u)) {
    const word = raw.replace(/^'+|'+$/g, '');
    if (!word) continue;
    const lower = word.toLowerCase();
    if (english && ENGLISH_STOP_WORDS.has(lower)) continue;
    out.push(english ? (caseSensitive ? stemEnglish(word) : stemEnglish(lower)) : word);
  }
  return out;
}

// ---- searching

export interface TextSearch {
  terms: string[];
  negatedTerms: string[];
  phrases: string[];
  negatedPhrases: string[];
  language: string;
  caseSensitive: boolean;
  diacriticSensitive: boolean;
}

export function parseTextSearch(arg: unknown, info: TextIndexInfo): TextSearch {
  if (!isPlainDocument(arg)) throw badValue('$text expects an object');
  for (const key of Object.keys(arg)) {
    if (!['$search', '$language', '$caseSensitive', '$diacriticSensitive'].includes(key)) throw badValue(`extra fields in $text: ${key}`);
  }
  if (typeof arg.$search !== 'string') throw badValue('$search required to be a string');
  const language = typeof arg.$language === 'string' ? arg.$language : info.defaultLanguage;
  if (!LANGUAGES.has(language)) throw badValue(`language "${language}" is not supported`);
  const caseSensitive = arg.$caseSensitive === true;
  const diacriticSensitive = arg.$diacriticSensitive === true;
  const search: TextSearch = { terms: [], negatedTerms: [], phrases: [], negatedPhrases: [], language, caseSensitive, diacriticSensitive };
  const source = arg.$search;
  const phrase = /(-?)"([^"]*)"?/g;
  let rest = '';
  let last = 0;
  for (let m = phrase.exec(source); m; m = phrase.exec(source)) {
    rest += ` ${source.slice(last, m.index)} `;
    last = phrase.lastIndex;
    const text = m[2].trim();
    if (!text) continue;
    (m[1] ? search.negatedPhrases : search.phrases).push(foldText(text, caseSensitive, diacriticSensitive));
    // The words of a phrase are also search terms (they give the score).
    if (!m[1]) search.terms.push(...tokenize(text, language, caseSensitive, diacriticSensitive));
  }
  rest += source.slice(last);
  for (const word of rest.split(/\s+/)) {
    if (!word) continue;
    const negated = word.startsWith('-') && word.length > 1;
    const terms = tokenize(negated ? word.slice(1) : word, language, caseSensitive, diacriticSensitive);
    (negated ? search.negatedTerms : search.terms).push(...terms);
  }
  search.terms = [...new Set(search.terms)];
  return search;
}

/** Each indexed string value of a document with its weight. */
function indexedStrings(doc: Document, info: TextIndexInfo): Array<{ text: string; weight: number }> {
  const out: Array<{ text: string; weight: number }> = [];
  const collect = (value: unknown, weight: number) => {
    if (typeof value === 'string') out.push({ text: value, weight });
    else if (Array.isArray(value)) value.forEach((v) => collect(v, weight));
    else if (isPlainDocument(value) && info.weights.has('$**')) for (const v of Object.values(value)) collect(v, weight);
  };
  for (const [path, weight] of info.weights) {
    if (path === '$**') {
      for (const [key, value] of Object.entries(doc)) if (key !== '_id' && !info.weights.has(key)) collect(value, weight);
      continue;
    }
    let values: unknown[] = [doc];
    for (const part of path.split('.')) {
      values = values.flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => (isPlainDocument(v) ? v[part] : undefined));
    }
    for (const v of values) collect(v, weight);
  }
  return out;
}

/**
 * The document's text score for the search, or undefined when it does not match. Score per
 * field as mongod computes it: repeated occurrences count 1, 1/2, 1/4...; scaled by
 * (0.5 * occurrences / tokens in the field + 0.5) and the field's weight; summed over terms.
 */
export function scoreDocument(doc: Document, search: TextSearch, info: TextIndexInfo): number | undefined {
  const language = typeof doc[info.languageOverride] === 'string' ? (doc[info.languageOverride] as string) : search.language;
  const fields = indexedStrings(doc, info);
  const wanted = new Set(search.terms);
  const negated = new Set(search.negatedTerms);
  let score = 0;
  let matchedTerm = false;
  for (const { text, weight } of fields) {
    const tokens = tokenize(text, LANGUAGES.has(language) ? language : search.language, search.caseSensitive, search.diacriticSensitive);
    if (tokens.some((t) => negated.has(t))) return undefined;
    const counts = new Map<string, { freq: number; count: number }>();
    for (const token of tokens) {
      if (!wanted.has(token)) continue;
      const data = counts.get(token) ?? { freq: 0, count: 0 };
      data.freq += 1 / 2 ** data.count;
      data.count++;
      counts.set(token, data);
    }
    for (const data of counts.values()) {
      matchedTerm = true;
      score += weight * data.freq * (0.5 * (data.count / tokens.length) + 0.5);
    }
  }
  if (search.phrases.length > 0 || search.negatedPhrases.length > 0) {
    const folded = fields.map((f) => foldText(f.text, search.caseSensitive, search.diacriticSensitive));
    if (!search.phrases.every((p) => folded.some((t) => t.includes(p)))) return undefined;
    if (search.negatedPhrases.some((p) => folded.some((t) => t.includes(p)))) return undefined;
  }
  return matchedTerm ? score : undefined;
}

/** Scores of the documents the current $text query matched (commands run one at a time). */
const scores = new WeakMap<Document, number>();

export function recordTextScore(doc: Document, score: number): void {
  scores.set(doc, score);
}

export function textScoreOf(doc: Document): number | undefined {
  return scores.get(doc);
}

export function textIndexRequired(): MongoServerError {
  return new MongoServerError('IndexNotFound', 'text index required for $text query');
}

/** Whether a filter uses $text at its top level or inside $and/$or/$nor. */
export function hasText(filter: unknown, depth = 0): boolean {
  if (!isPlainDocument(filter)) return false;
  // Refused here as compileFilter refuses it: this walk comes first and must not run out of stack.
  if (depth > MAX_QUERY_TREE_DEPTH) throw queryTreeTooDeep(() => formatValue(filter));
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$text') return true;
    if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value) && value.some((f) => hasText(f, depth + 1))) return true;
  }
  return false;
}
