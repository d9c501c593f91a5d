// Request bodies: the parsers the app accepts (JSON, urlencoded forms; multipart only on upload
// routes), and every way a body can be malformed turned into a 400 in the asker's language
// instead of a 500 (truncated, nested too deep, too many fields, bad JSON, wrong charset or type).
import express, { type RequestHandler } from 'express';
import { BadRequest, TooLarge, type AppError } from './errors.js';
import { registerMessages } from './i18n.js';

export const maxBodyBytes = 1024 * 1024;
export const maxFormDepth = 32;
export const maxFormFields = 1000;

/** The body parsers, then a check that a body which none of them read has a type we take. */
export function bodyParsers(): RequestHandler[] {
  return [
    // body-parser's own limits (its typings predate `depth`, whose default is maxFormDepth).
    express.urlencoded({ extended: true, limit: maxBodyBytes, parameterLimit: maxFormFields }),
    express.json({ limit: maxBodyBytes }),
    refuseUnreadableBodies,
  ];
}

const acceptedTypes = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];

/**
 * A body nobody reads (text/plain, XML, a JSON body sent without its type) would reach the
 * action as "no input" and come back as a confusing field error; say what is wrong instead.
 */
const refuseUnreadableBodies: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (!hasBody || req.method === 'GET' || req.method === 'HEAD') return next();
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (acceptedTypes.includes(type) || type.endsWith('+json')) return next();
  next(new BadRequest('error.unsupportedBody'));
};

/** The body parsers' errors (http-errors with a `type`), in the project's terms. */
export function bodyError(error: unknown): AppError | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.too.large':
      return new TooLarge('error.tooLarge');
    case 'entity.parse.failed':
      return new BadRequest(isJsonError(error) ? 'error.badJson' : 'error.badForm');
    case 'querystring.parse.rangeError':
      return new BadRequest('error.formTooDeep', { max: maxFormDepth });
    case 'parameters.too.many':
      return new BadRequest('error.tooManyFields', { max: maxFormFields });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new BadRequest('error.badCharset');
    case 'request.aborted':
    case 'request.size.invalid':
      return new BadRequest('error.bodyIncomplete');
    default:
      return undefined;
  }
}

/** JSON.parse's SyntaxError; the form parser's failures are other errors. */
function isJsonError(error: unknown): boolean {
  return error instanceof SyntaxError;
}

/** Multipart (busboy/multer) errors that are not limits: a truncated or garbled upload. */
export function multipartError(): AppError {
  return new BadRequest('error.badMultipart');
}

registerMessages({
  vi: {
    'error.badForm': 'Không đọc được biểu mẫu gửi lên.',
    'error.formTooDeep': 'Biểu mẫu gửi lên lồng nhau quá sâu (tối đa {max} cấp).',
    'error.tooManyFields': 'Biểu mẫu gửi lên có quá nhiều trường (tối đa {max}).',
    'error.badCharset': 'Dữ liệu gửi lên phải được mã hóa UTF-8, không nén.',
    'error.bodyIncomplete': 'Dữ liệu gửi lên bị ngắt giữa chừng. Vui lòng gửi lại.',
    'error.badMultipart': 'Tệp tải lên bị hỏng hoặc chưa gửi hết. Vui lòng chọn tệp và gửi lại.',
    'error.unsupportedBody': 'Định dạng dữ liệu gửi lên không được hỗ trợ: hãy gửi JSON (application/json), biểu mẫu hoặc tệp tải lên.',
  },
  en: {
    'error.badForm': 'The submitted form could not be read.',
    'error.formTooDeep': 'The submitted form is nested too deeply (at most {max} levels).',
    'error.tooManyFields': 'The submitted form has too many fields (at most {max}).',
    'error.badCharset': 'What you send must be UTF-8 text, not compressed.',
    'error.bodyIncomplete': 'What you sent was cut off. Please send it again.',
    'error.badMultipart': 'The upload is damaged or incomplete. Please choose the file and send it again.',
    'error.unsupportedBody': 'This kind of content is not accepted: send JSON (application/json), a form or a file upload.',
  },
});
