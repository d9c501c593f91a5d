export const expectedHttp: Record<string, string> = {};
export const expectedSocket: Record<string, string> = {};
export function renderMatrix(): string {
  return '';
}
