export const expectedHttp: Record<string, string> = {};
