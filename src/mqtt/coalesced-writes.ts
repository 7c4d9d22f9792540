import { Buffer } from 'node:buffer';
import type { Writable } from 'node:stream';

/** A slab's size: one is held per connection, and replaced only once full. */
const SLAB_BYTES = 16 * 1024;
/** Chunks past this size are written as they are (after what is pending): copying gains nothing. */
const DIRECT_BYTES = 4 * 1024;

/**
 * Makes `stream` gather the small writes of one turn of the event loop into one chunk.
 *
 * mqtt-packet writes a PUBLISH as about a dozen `stream.write` calls (header, length,
 * topic length, topic, packet id, each MQTT 5 property and its strings, payload), corking
 * the socket until the next tick. Each call costs the stream a buffered-write record, each
 * string a Buffer of its own, and all of it is held until the tick ends. With a thousand
 * QoS 1 messages in flight that is most of what a 1 MiB young generation (bin/outpost)
 * must copy and promote: the uplink drained a backlog at ~0.6 × the speed it reaches with
 * the bytes copied into a slab here (issue 15, BENCHMARKS.md `uplink-replay`).
 *
 * The bytes go out unchanged and in order: a write with a callback, a large chunk, a
 * string in another encoding or a write to a stream that no longer takes writes first
 * sends what is pending, then goes to the stream as it came. `end()` sends what is pending
 * first. A slab is never written over: the bytes handed to the stream stay where they
 * are until the stream has sent them, and a full slab is replaced by a new one.
 */
export function coalesceWrites<S extends Writable>(stream: S, slabBytes = SLAB_BYTES): S {
  // The stream's own methods, with their overloads as one loose signature each.
  const target = stream as unknown as { write: WriteFn; end: (...args: unknown[]) => unknown };
  const write = target.write;
  const end = target.end;
  let slab = Buffer.allocUnsafeSlow(slabBytes);
  /** Bytes [sent, used) of the slab are pending; before `sent`, handed to the stream. */
  let sent = 0;
  let used = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    if (used === sent) return;
    const out = slab.subarray(sent, used);
    sent = used;
    // A destroyed stream would only report the write as an error it has already had.
    if (!stream.destroyed) write.call(stream, out, undefined, undefined);
  };
  const room = (bytes: number): void => {
    if (used + bytes <= slab.length) return;
    flush();
    slab = Buffer.allocUnsafeSlow(Math.max(slabBytes, bytes));
    sent = used = 0;
  };
  const pending = (): void => {
    if (scheduled) return;
    scheduled = true;
    process.nextTick(flush);
  };

  // No closure per call: this runs a dozen times per packet.
  const direct: WriteFn = (chunk, encoding, cb) => {
    flush();
    return write.call(stream, chunk, encoding, cb);
  };
  target.write = (chunk, encoding, cb) => {
    if (typeof encoding === 'function' || cb !== undefined || !stream.writable) {
      return direct(chunk, encoding, cb);
    }
    if (typeof chunk === 'string') {
      if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'utf-8') {
        return direct(chunk, encoding, cb);
      }
      // UTF-8 takes at most 3 bytes per UTF-16 unit: measured only when that bound is not
      // enough to decide.
      let bytes = chunk.length * 3;
      if (bytes > DIRECT_BYTES || bytes > slab.length - used) bytes = Buffer.byteLength(chunk);
      if (bytes > DIRECT_BYTES) return direct(chunk, encoding, cb);
      room(bytes);
      used += slab.write(chunk, used);
    } else if (chunk instanceof Uint8Array) {
      if (chunk.length > DIRECT_BYTES) return direct(chunk, encoding, cb);
      room(chunk.length);
      slab.set(chunk, used);
      used += chunk.length;
    } else {
      return direct(chunk, encoding, cb);
    }
    pending();
    return !stream.writableNeedDrain;
  };
  target.end = (...args) => {
    flush();
    return end.apply(stream, args);
  };
  return stream;
}

type WriteFn = (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;
