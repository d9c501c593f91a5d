// A real redis-server on a free port for tests of several app instances (Debian's redis-server;
// .ci/run installs it). Missing, it fails loudly: nothing is skipped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './ports.js';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed: these tests need a real Redis (apt-get install redis-server; .ci/run installs it)');
  }
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface HeldLink {
  /** The address to give the app instead of Redis's. */
  url: string;
  /** Holds what the app sends (its commands wait in the network, as on a stalled link) until release(). */
  hold(): void;
  release(): void;
  stop(): Promise<void>;
}

/** A TCP relay to `redis` whose app-to-Redis direction can be held: one instance's link stalls, the others' do not. */
export async function holdableLinkTo(redis: RedisServer): Promise<HeldLink> {
  const target = new URL(redis.url);
  const links: Array<{ client: Socket; upstream: Socket; waiting: Buffer[] }> = [];
  let held = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const link = { client, upstream, waiting: [] as Buffer[] };
    links.push(link);
    client.on('data', (chunk: Buffer) => (held ? link.waiting.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    hold() {
      held = true;
    },
    release() {
      held = false;
      for (const link of links) for (const chunk of link.waiting.splice(0)) link.upstream.write(chunk);
    },
    async stop() {
      for (const { client, upstream } of links) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
