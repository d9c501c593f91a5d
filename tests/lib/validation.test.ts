import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput, describeField } from '../../server/lib/validation.js';
import { Invalid } from '../../server/lib/errors.js';
import { registerMessages } from '../../server/lib/i18n.js';

registerMessages({ vi: { 'test.name.required': 'Vui lòng nhập họ và tên.' }, en: { 'test.name.required': 'Please enter the full name.' } });

function messagesFor(schema: z.ZodType, input: unknown, locale: 'vi' | 'en' = 'vi'): Record<string, string> {
  try {
    parseInput(schema, input);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return Object.fromEntries(Object.entries(error.fields).map(([path, field]) => [path, describeField(locale, field)]));
  }
  throw new Error('expected Invalid');
}

const person = z.object({
  fullName: z.string({ error: 'test.name.required' }).min(1, 'test.name.required').max(200),
  email: z.email().optional(),
  seats: z.number().int().min(1).max(500).optional(),
});

describe('field messages a person can act on', () => {
  it('says "required" only when the value is missing', () => {
    expect(messagesFor(person, {})).toEqual({ fullName: 'Vui lòng nhập họ và tên.' });
    expect(messagesFor(person, { fullName: '' }, 'en')).toEqual({ fullName: 'Please enter the full name.' });
  });

  it('names the limit for a value that is too long, not "required"', () => {
    expect(messagesFor(person, { fullName: 'x'.repeat(300) })).toEqual({ fullName: 'Tối đa 200 ký tự.' });
    expect(messagesFor(person, { fullName: 'x'.repeat(300) }, 'en')).toEqual({ fullName: 'At most 200 characters.' });
  });

  it('uses plain words for numbers and e-mail addresses', () => {
    expect(messagesFor(person, { fullName: 'An', seats: 0, email: 'not-an-email' })).toEqual({
      seats: 'Giá trị tối thiểu là 1.',
      email: 'Địa chỉ email không hợp lệ.',
    });
  });
});
