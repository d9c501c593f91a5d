// Service worker of the check-in page: a coordinator whose phone reloads the page without a
// connection still gets it (the copy from the last time it loaded, with its bundle), so the
// outbox of check-ins waiting in IndexedDB is never out of reach. Pages: network first, the
// cached copy when offline. Hashed bundles: cache first (their names change with their content).
// Nothing else passes through here.
const cacheName = 'bridgepoint-checkin-v1';
const checkInPage = /^\/meetings\/[0-9a-f]{24}\/sites\/[0-9a-f]{24}\/checkin$/;
const hashedAsset = /^\/assets\/[\w.-]+-[A-Z0-9]{8}\.(js|css)$/;

interface FetchEventLike extends Event {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
  addEventListener(type: 'install' | 'activate', listener: (event: Event & { waitUntil(work: Promise<unknown>): void }) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
}
const worker = self as unknown as WorkerScope;

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (request.mode === 'navigate' && checkInPage.test(url.pathname)) event.respondWith(networkFirst(request, url));
  else if (hashedAsset.test(url.pathname)) event.respondWith(cacheFirst(request));
});

async function networkFirst(request: Request, url: URL): Promise<Response> {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(url.pathname, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(url.pathname);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
