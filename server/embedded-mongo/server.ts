// TCP front end: per-connection framing, one command at a time per connection. A malformed
// frame closes only the connection that sent it.
import net from 'node:net';
import { runCommand } from './commands/index.js';
import type { CommandContext, ServerInfo } from './commands/context.js';
import { CursorRegistry } from './cursors.js';
import { MongoServerError, errorReply } from './errors.js';
import { FailPoints, type FailAction } from './failpoints.js';
import { readWriteConcern } from './write-concern.js';
import type { Document } from './values.js';
import { isPlainDocument } from './values.js';
import type { Store } from './store.js';
import { HEADER_SIZE, MAX_MESSAGE_SIZE, OP_QUERY, ProtocolError, RawReply, encodeOpMsgReply, encodeOpReply, parseMessage, type Reply } from './wire.js';

export interface WireServerOptions {
  store: Store;
  info: ServerInfo;
  /** Called when a connection breaks the protocol; defaults to silence. */
  onProtocolError?: (err: Error) => void;
}

export class WireServer {
  readonly cursors = new CursorRegistry();
  readonly failPoints = new FailPoints();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private nextConnectionId = 1;

  constructor(private readonly options: WireServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address() as net.AddressInfo;
        this.options.info.port = address.port;
        resolve(address.port);
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    this.options.info.connections = this.sockets.size;
    socket.setNoDelay(true);
    const ctx: CommandContext = {
      store: this.options.store,
      cursors: this.cursors,
      db: 'admin',
      connectionId: this.nextConnectionId++,
      clientAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      server: this.options.info,
    };
    const connection = { appName: undefined as string | undefined };
    this.appNames.set(ctx, connection);
    const frames = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(chunk);
        for (let message = frames.next(); message && !socket.destroyed; message = frames.next()) this.handle(socket, message, ctx);
      } catch (err) {
        this.options.onProtocolError?.(err as Error);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.options.info.connections = this.sockets.size;
    });
  }

  private readonly appNames = new WeakMap<CommandContext, { appName: string | undefined }>();

  /**
   * Runs a command, honouring the test fail point; undefined means the connection was dropped.
   * A fail point that blocks the connection answers { blockMs, resume }: the command runs (or
   * fails) when resumed, after the wait.
   */
  private run(body: Document, ctx: CommandContext, socket: net.Socket): Reply | undefined | Blocked {
    const name = Object.keys(body)[0] ?? '';
    const connection = this.appNames.get(ctx)!;
    if ((name === 'hello' || name === 'isMaster' || name === 'ismaster') && isPlainDocument(body.client)) {
      const application = body.client.application;
      if (isPlainDocument(application) && typeof application.name === 'string') connection.appName = application.name;
    }
    if (name === 'configureFailPoint') {
      try {
        return this.failPoints.configure(body);
      } catch (err) {
        return errorReply(err);
      }
    }
    const action = this.failPoints.check(name, connection.appName);
    if (action?.blockMs !== undefined) return { blockMs: action.blockMs, resume: () => this.carryOut(body, ctx, socket, name, action) };
    return this.carryOut(body, ctx, socket, name, action);
  }

  private carryOut(body: Document, ctx: CommandContext, socket: net.Socket, name: string, action: FailAction | undefined): Reply | undefined {
    if (action?.kind === 'closeConnection') {
      socket.destroy();
      return undefined;
    }
    if (action?.kind === 'error') return action.reply;
    let concern;
    try {
      concern = readWriteConcern(body, this.options.store.options.syncEveryWrite === true);
    } catch (err) {
      return errorReply(err);
    }
    const reply = runCommand(body, ctx);
    if (concern.sync || name === 'fsync') this.durableReplies.add(reply);
    if (action?.kind === 'writeConcernError' && !(reply instanceof RawReply)) {
      reply.writeConcernError = action.writeConcernError;
      if (action.errorLabels !== undefined) reply.errorLabels = action.errorLabels;
    }
    return reply;
  }

  /** Replies that may only be sent once the journal is on disk (j:true, w:"majority", fsync). */
  private readonly durableReplies = new WeakSet<object>();
  /** A connection's replies leave in the order of its requests, even when one waits for the disk. */
  private readonly replyQueues = new WeakMap<net.Socket, Promise<void>>();

  /** A connection a fail point blocks: its next messages are handled once the wait is over, in order. */
  private readonly blockedConnections = new WeakMap<net.Socket, Promise<void>>();

  private handle(socket: net.Socket, message: Buffer, ctx: CommandContext): void {
    const blocked = this.blockedConnections.get(socket);
    // A connection closed while held (by the fail point, the client or close()) carries out nothing
    // it sent behind the held command: mongod would not have read it.
    if (blocked) return this.blockUntil(socket, blocked.then(() => (socket.destroyed ? undefined : this.handleMessage(socket, message, ctx))));
    const waiting = this.handleMessage(socket, message, ctx);
    if (waiting) this.blockUntil(socket, waiting);
  }

  private blockUntil(socket: net.Socket, done: Promise<void>): void {
    const next = done.catch(() => {
      socket.destroy();
    });
    this.blockedConnections.set(socket, next);
    void next.then(() => this.blockedConnections.get(socket) === next && this.blockedConnections.delete(socket));
  }

  /** Handles one message; a promise when the fail point blocks the connection (settled once answered). */
  private handleMessage(socket: net.Socket, message: Buffer, ctx: CommandContext): Promise<void> | undefined {
    let command;
    try {
      command = parseMessage(message);
    } catch (err) {
      // Bad BSON or framing: the stream can no longer be trusted.
      throw err instanceof ProtocolError ? err : new ProtocolError((err as Error).message);
    }
    ctx.db = command.db;
    // mongod refuses a message holding a document over 16 MiB + 16 KiB before running anything.
    const outcome = command.oversized !== undefined ? errorReply(new MongoServerError('BSONObjectTooLarge', command.oversized)) : this.run(command.body, ctx, socket);
    if (isBlocked(outcome)) {
      return new Promise<void>((resolve) => setTimeout(resolve, outcome.blockMs)).then(() => {
        if (!socket.destroyed) this.answer(socket, command, ctx, outcome.resume());
      });
    }
    this.answer(socket, command, ctx, outcome);
    return undefined;
  }

  private answer(socket: net.Socket, command: ReturnType<typeof parseMessage>, ctx: CommandContext, reply: Reply | undefined): void {
    if (!reply || command.moreToCome) return;
    const encode = command.opCode === OP_QUERY ? encodeOpReply : encodeOpMsgReply;
    const send = (answer: Reply) => {
      if (socket.destroyed) return;
      let bytes: Buffer;
      try {
        bytes = encode(command.requestId, answer);
      } catch (err) {
        // A reply BSON cannot hold (e.g. over 16MB) is still this command's error, not the stream's.
        bytes = encode(command.requestId, errorReply(err));
      }
      socket.write(bytes);
    };
    const queued = this.replyQueues.get(socket);
    const durable = this.durableReplies.has(reply) ? this.options.store.waitDurable() : undefined;
    if (!durable && !queued) return send(reply);
    const next = (queued ?? Promise.resolve())
      .then(() => durable)
      .then(
        () => send(reply),
        // The write is applied but its fdatasync failed: mongod's shape for "done, durability unknown".
        (err: unknown) => send(reply instanceof RawReply ? errorReply(err) : { ...reply, writeConcernError: writeConcernErrorOf(err) }),
      );
    this.replyQueues.set(socket, next);
    void next.then(() => this.replyQueues.get(socket) === next && this.replyQueues.delete(socket));
  }
}

function writeConcernErrorOf(err: unknown): Document {
  const { code, codeName, errmsg } = errorReply(err) as { code: number; codeName: string; errmsg: string };
  return { code, codeName, errmsg };
}

/**
 * Splits a TCP byte stream into messages. Chunks are only joined once a whole message has
 * arrived, so a 48MB message in 64KB chunks is copied once, not once per chunk.
 */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete message, or undefined until more bytes arrive. Throws on a bad length. */
  next(): Buffer | undefined {
    if (this.buffered < 4) return undefined;
    if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    const length = this.chunks[0].readInt32LE(0);
    if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) throw new ProtocolError(`invalid message length ${length}`);
    if (this.buffered < length) return undefined;
    const head = this.chunks[0].length >= length ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const message = head.subarray(0, length);
    const rest = head.subarray(length);
    if (head === this.chunks[0] && this.chunks.length > 1) this.chunks.splice(0, 1, rest);
    else this.chunks = rest.length ? [rest] : [];
    if (this.chunks.length && this.chunks[0].length === 0) this.chunks.shift();
    this.buffered -= length;
    return message;
  }
}

interface Blocked {
  blockMs: number;
  resume: () => Reply | undefined;
}

function isBlocked(outcome: Reply | undefined | Blocked): outcome is Blocked {
  return typeof outcome === 'object' && outcome !== null && typeof (outcome as Partial<Blocked>).resume === 'function' && typeof (outcome as Partial<Blocked>).blockMs === 'number';
}
