// runOnRequirements: decides, from what the server says about itself, whether a test applies.
import type { MongoClient } from 'mongodb';
import type { RunOnRequirement } from './spec.js';

export interface ServerFacts {
  version: string;
  topology: 'single' | 'replicaset' | 'sharded' | 'load-balanced';
  serverless: boolean;
  auth: boolean;
  csfle: boolean;
  parameters: (name: string) => Promise<unknown>;
}

export async function discoverServer(client: MongoClient): Promise<ServerFacts> {
  const admin = client.db('admin');
  const build = await admin.command({ buildInfo: 1 });
  const hello = await admin.command({ hello: 1 });
  let topology: ServerFacts['topology'] = 'single';
  if (hello.msg === 'isdbgrid') topology = 'sharded';
  else if (typeof hello.setName === 'string') topology = 'replicaset';
  else if (hello.serviceId !== undefined) topology = 'load-balanced';
  const cache = new Map<string, unknown>();
  return {
    version: String(build.version),
    topology,
    serverless: false,
    auth: false,
    csfle: false, // the runner does not load libmongocrypt
    parameters: async (name) => {
      if (!cache.has(name)) {
        try {
          const r = await admin.command({ getParameter: 1, [name]: 1 });
          cache.set(name, r[name]);
        } catch {
          cache.set(name, undefined);
        }
      }
      return cache.get(name);
    },
  };
}

/** Compare dotted version strings numerically; missing components count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('-')[0]!.split('.').map(Number);
  const pb = b.split('-')[0]!.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Why one requirement is not met, or undefined if it is. */
async function unmetReason(req: RunOnRequirement, server: ServerFacts): Promise<string | undefined> {
  if (req.minServerVersion && compareVersions(server.version, req.minServerVersion) < 0)
    return `needs server >= ${req.minServerVersion} (store reports ${server.version})`;
  if (req.maxServerVersion && compareVersions(server.version, req.maxServerVersion) > 0)
    return `needs server <= ${req.maxServerVersion} (store reports ${server.version})`;
  if (req.topologies) {
    const ok = req.topologies.some(
      (t) => t === server.topology || (t === 'sharded-replicaset' && server.topology === 'sharded'),
    );
    if (!ok) return `needs topology ${req.topologies.join('|')} (store is ${server.topology})`;
  }
  if (req.serverless === 'require' && !server.serverless) return 'needs Atlas Serverless';
  if (req.serverless === 'forbid' && server.serverless) return 'forbidden on Atlas Serverless';
  if (req.auth === true && !server.auth) return 'needs authentication enabled';
  if (req.auth === false && server.auth) return 'needs authentication disabled';
  if (req.authMechanism) return `needs auth mechanism ${req.authMechanism}`;
  if (req.csfle === true && !server.csfle) return 'needs client-side field level encryption';
  if (req.serverParameters) {
    for (const [name, want] of Object.entries(req.serverParameters)) {
      const have = await server.parameters(name);
      const eq = typeof want === 'number' || typeof have === 'number' ? Number(have) === Number(want) : have === want;
      if (!eq) return `needs server parameter ${name}=${JSON.stringify(want)}`;
    }
  }
  return undefined;
}

/** undefined when at least one requirement is met (or none given), else the reasons none is. */
export async function requirementsSkipReason(
  reqs: RunOnRequirement[] | undefined,
  server: ServerFacts,
): Promise<string | undefined> {
  if (!reqs || reqs.length === 0) return undefined;
  const reasons: string[] = [];
  for (const r of reqs) {
    const why = await unmetReason(r, server);
    if (why === undefined) return undefined;
    reasons.push(why);
  }
  return [...new Set(reasons)].join('; or ');
}
