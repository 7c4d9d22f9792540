declare module 'unix-dgram' {
  import { EventEmitter } from 'node:events';
  /** A unix datagram socket (socket(2) with AF_UNIX, SOCK_DGRAM); events fire synchronously. */
  export class Socket extends EventEmitter {
    bind(path: string): void;
    connect(path: string): void;
    /** On a connected socket: send(buf, callback). */
    send(buf: Buffer, callback?: (err?: Error) => void): void;
    /** Unconnected: sendto. */
    send(
      buf: Buffer,
      offset: number,
      length: number,
      path: string,
      callback?: (err?: Error) => void,
    ): void;
    close(): void;
  }
  export function createSocket(
    type: 'unix_dgram',
    listener?: (msg: Buffer, rinfo: { size: number; path?: string }) => void,
  ): Socket;
  const unixDgram: { createSocket: typeof createSocket };
  export default unixDgram;
}
