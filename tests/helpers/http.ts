// A tiny browser-like HTTP client for tests: a cookie jar, the CSRF token, forms and JSON.
export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, when the response is JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON shapes
  location?: string;
}

export class HttpClient {
  private readonly cookies = new Map<string, string>();
  private csrf?: string;

  constructor(
    readonly baseUrl: string,
    private readonly defaultHeaders: Record<string, string> = {},
  ) {}

  /** The same client with `Authorization: Bearer <token>` (attendee or site link). */
  static withBearer(baseUrl: string, token: string): HttpClient {
    return new HttpClient(baseUrl, { authorization: `Bearer ${token}` });
  }

  /** The cookies as a `cookie` header, e.g. for a Socket.IO handshake from the same "browser". */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...this.defaultHeaders, ...init.headers };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    const send = () => fetch(new URL(path, this.baseUrl), { method, headers, body: init.body, redirect: 'manual' });
    // A kept-alive connection the server closed (its 5 s keep-alive timeout) just as it was
    // reused resets: browsers send an idempotent request again on a new one, and so do we.
    const response = await send().catch((error: unknown) => {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if ((method === 'GET' || method === 'HEAD') && code === 'ECONNRESET') return send();
      throw error;
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('json');
    return { status: response.status, headers: response.headers, text, json: isJson && text ? JSON.parse(text) : undefined, location: response.headers.get('location') ?? undefined };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
    return this.request('GET', path, { headers: { accept: 'text/html', ...headers } });
  }

  getJson(path: string): Promise<TestResponse> {
    return this.request('GET', path, { headers: { accept: 'application/json' } });
  }

  /** The CSRF token of this client's session (fetched once, refreshed after sign-in). */
  async csrfToken(): Promise<string> {
    if (!this.csrf) this.csrf = (await this.getJson('/api/v1/session')).json.csrfToken as string;
    return this.csrf;
  }

  forgetCsrfToken(): void {
    this.csrf = undefined;
  }

  /** Submit a form as a browser would, with the hidden _csrf field. */
  async postForm(path: string, fields: Record<string, string | number | boolean | string[]>, { csrf = true } = {}): Promise<TestResponse> {
    const body = new URLSearchParams();
    if (csrf) body.set('_csrf', await this.csrfToken());
    for (const [name, value] of Object.entries(fields)) {
      for (const item of Array.isArray(value) ? value : [value]) body.append(name, String(item));
    }
    return this.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
  }

  /** A JSON API call, with the CSRF header unless the client uses a bearer token. */
  async json(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    const csrfHeader: Record<string, string> = this.defaultHeaders.authorization ? {} : { 'x-csrf-token': await this.csrfToken() };
    return this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...csrfHeader, ...headers },
    });
  }

  /** Upload a file as multipart/form-data (CSRF token in the query, as our multipart forms do). */
  async upload(path: string, field: string, file: { name: string; type: string; content: Uint8Array | string }, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<TestResponse> {
    const form = new FormData();
    for (const [name, value] of Object.entries(extra)) form.set(name, value);
    form.set(field, new Blob([typeof file.content === "string" ? file.content : new Uint8Array(file.content)], { type: file.type }), file.name);
    const separator = path.includes('?') ? '&' : '?';
    const url = this.defaultHeaders.authorization ? path : `${path}${separator}_csrf=${encodeURIComponent(await this.csrfToken())}`;
    return this.request('POST', url, { body: form, headers: { accept: 'application/json', ...headers } });
  }

  async signIn(email: string, password: string): Promise<TestResponse> {
    const response = await this.postForm('/login', { email, password });
    this.forgetCsrfToken();
    return response;
  }

  /** Follow a capability link (/s/:token or /a/:token), as clicking it in an e-mail would. */
  async openLink(path: string): Promise<TestResponse> {
    const response = await this.get(path);
    this.forgetCsrfToken();
    return response;
  }
}
