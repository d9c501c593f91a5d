// Message catalogue (vi first, en second) and translation. Each domain part registers its own
// messages from its `messages.ts`, so a feature's words live next to the feature.
export const locales = ['vi', 'en'] as const;
export type Locale = (typeof locales)[number];
export const defaultLocale: Locale = 'vi';

export type MessageKey = string;
export type MessageParams = Record<string, string | number>;
export type Catalogue = Record<Locale, Record<MessageKey, string>>;

const catalogue: Catalogue = { vi: {}, en: {} };
/** Each part's catalogue as registered, so a test can check that vi and en stay in step. */
const registered: Catalogue[] = [];

export function registerMessages(messages: Catalogue): void {
  registered.push(messages);
  for (const locale of locales) Object.assign(catalogue[locale], messages[locale]);
}

export function registeredCatalogues(): readonly Catalogue[] {
  return registered;
}

export function hasMessage(key: string): boolean {
  return key in catalogue.vi || key in catalogue.en;
}

/** Translate `key`, filling `{name}` placeholders; falls back to vi, then to the key itself. */
export function t(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const template = catalogue[locale][key] ?? catalogue[defaultLocale][key] ?? key;
  // Most messages have no placeholder (table headers, buttons): pages call this many times per row.
  if (!template.includes('{')) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}

registerMessages({
  vi: {
    'app.name': 'Bridgepoint',
    'error.invalid': 'Dữ liệu chưa hợp lệ, vui lòng kiểm tra lại.',
    'error.unauthorized': 'Vui lòng đăng nhập để tiếp tục.',
    'error.forbidden': 'Bạn không có quyền thực hiện thao tác này.',
    'error.notFound': 'Không tìm thấy nội dung yêu cầu.',
    'error.csrf': 'Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và thử lại.',
    'error.tooManyRequests': 'Bạn thao tác quá nhiều lần. Vui lòng thử lại sau ít phút.',
    'error.tooLarge': 'Dữ liệu gửi lên quá lớn.',
    'error.tooManyLinkAttempts': 'Quá nhiều liên kết không hợp lệ được mở từ địa chỉ này. Vui lòng thử lại sau 15 phút.',
    'error.badJson': 'Nội dung gửi lên không phải JSON hợp lệ.',
    'error.internal': 'Đã có lỗi xảy ra ở máy chủ. Vui lòng thử lại.',
    'error.unavailable': 'Máy chủ tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau giây lát.',
    'error.invalidId': 'Mã định danh không hợp lệ.',
    'error.required': 'Vui lòng nhập thông tin này.',
    'error.tooLong': 'Tối đa {max} ký tự.',
    'error.tooShort': 'Cần ít nhất {min} ký tự.',
    'error.tooBig': 'Giá trị tối đa là {max}.',
    'error.tooSmall': 'Giá trị tối thiểu là {min}.',
    'error.tooMany': 'Tối đa {max} mục.',
    'error.email': 'Địa chỉ email không hợp lệ.',
    'error.changedMeanwhile': 'Nội dung này vừa được thay đổi ở nơi khác. Vui lòng tải lại trang và thử lại.',
    'layout.mainNav': 'Điều hướng chính',
    'layout.meetings': 'Hội nghị',
    'layout.mySite': 'Điểm cầu của tôi',
    'layout.myInvitation': 'Giấy mời của tôi',
    'layout.home': 'Về trang chủ',
    'layout.pagination': 'Phân trang',
    'layout.previous': 'Trang trước',
    'layout.next': 'Trang sau',
    'layout.pageOf': 'Trang {page}/{count}',
  },
  en: {
    'app.name': 'Bridgepoint',
    'error.invalid': 'Some of the data is not valid; please check it.',
    'error.unauthorized': 'Please sign in to continue.',
    'error.forbidden': 'You are not allowed to do this.',
    'error.notFound': 'Nothing was found here.',
    'error.csrf': 'Your session expired or the form is not valid. Please reload the page and try again.',
    'error.tooManyRequests': 'Too many attempts. Please try again in a few minutes.',
    'error.tooLarge': 'What you sent is too large.',
    'error.tooManyLinkAttempts': 'Too many invalid links were opened from this address. Please try again in 15 minutes.',
    'error.badJson': 'The request body is not valid JSON.',
    'error.internal': 'Something went wrong on the server. Please try again.',
    'error.unavailable': 'The server cannot reach its database for a moment. Please try again shortly.',
    'error.invalidId': 'The identifier is not valid.',
    'error.required': 'This field is required.',
    'error.tooLong': 'At most {max} characters.',
    'error.tooShort': 'At least {min} characters.',
    'error.tooBig': 'The largest allowed value is {max}.',
    'error.tooSmall': 'The smallest allowed value is {min}.',
    'error.tooMany': 'At most {max} items.',
    'error.email': 'The email address is not valid.',
    'error.changedMeanwhile': 'This was just changed elsewhere. Please reload the page and try again.',
    'layout.mainNav': 'Main navigation',
    'layout.meetings': 'Meetings',
    'layout.mySite': 'My bridge point',
    'layout.myInvitation': 'My invitation',
    'layout.home': 'Back to the start page',
    'layout.pagination': 'Pages',
    'layout.previous': 'Previous',
    'layout.next': 'Next',
    'layout.pageOf': 'Page {page} of {count}',
  },
});
