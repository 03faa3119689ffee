/**
 * Docker's multiplexed stream (attach/exec without a TTY): frames of an 8-byte header
 * [stream, 0, 0, 0, size (uint32 big-endian)] and `size` bytes. Pure and incremental: frames may
 * be split anywhere across chunks; payload bytes are handed out as they arrive, never buffered
 * whole, so a huge frame costs nothing.
 */

export type StreamId = 'stdin' | 'stdout' | 'stderr';

export interface Piece {
  stream: StreamId;
  data: Uint8Array;
}

export class DemuxError extends Error {}

const IDS: Record<number, StreamId> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };

export class Demuxer {
  private header = new Uint8Array(8);
  private headerFill = 0;
  private remaining = 0;
  private current: StreamId = 'stdout';

  /** Feed a chunk; returns the payload pieces it completes or continues. Throws DemuxError on a bad header. */
  push(chunk: Uint8Array): Piece[] {
    const out: Piece[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        out.push({ stream: this.current, data: chunk.subarray(i, i + n) });
        this.remaining -= n;
        i += n;
        continue;
      }
      const n = Math.min(8 - this.headerFill, chunk.length - i);
      this.header.set(chunk.subarray(i, i + n), this.headerFill);
      this.headerFill += n;
      i += n;
      if (this.headerFill === 8) {
        const id = IDS[this.header[0]!];
        if (!id || this.header[1] !== 0 || this.header[2] !== 0 || this.header[3] !== 0) {
          throw new DemuxError(`not a multiplexed stream (header ${Array.from(this.header, (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
        }
        this.current = id;
        this.remaining = ((this.header[4]! << 24) >>> 0) + (this.header[5]! << 16) + (this.header[6]! << 8) + this.header[7]!;
        this.headerFill = 0;
      }
    }
    return out;
  }

  /** True when the stream stopped in the middle of a frame. */
  get partial(): boolean {
    return this.headerFill > 0 || this.remaining > 0;
  }
}
