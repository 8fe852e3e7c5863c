/**
 * A streaming check that bytes form a well-made tar archive: it walks the 512-byte
 * headers (ustar, GNU or old v7 style), verifies each header checksum and size field,
 * skips the data blocks without keeping them, and expects the archive to end with two
 * zero blocks or at a block boundary. It holds at most one header and one pax record
 * set in memory, whatever the archive size. No tar package is installed; this is the
 * small part of the format an integrity check needs.
 */
const BLOCK = 512;
/** pax extended headers are tiny in practice; a larger one is skipped rather than buffered. */
const MAX_PAX_BYTES = 1 << 20;
/** Types whose size field does not announce data blocks (links, devices, dirs, fifos). */
const NO_DATA_TYPES = new Set(['1', '2', '3', '4', '5', '6']);

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

type Phase = 'header' | 'sparse-ext' | 'data' | 'end';

export class TarWalker {
  private phase: Phase = 'header';
  private readonly block = Buffer.alloc(BLOCK);
  private filled = 0;
  /** Bytes consumed so far, for messages that point at the damage. */
  private offset = 0;
  private dataLeft = 0;
  private padLeft = 0;
  private zeroBlocks = 0;
  private entryName = '';
  private pax: Buffer[] | null = null;
  private paxBytes = 0;
  private paxSizeOverride: number | null = null;
  private pendingData = 0;

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.phase === 'end') {
        // Whatever follows the end marker (GNU tar pads to a 10 KiB record) is not ours to judge.
        this.offset += chunk.length - pos;
        return;
      }
      if (this.phase === 'data') {
        const take = Math.min(this.dataLeft + this.padLeft, chunk.length - pos);
        const fromData = Math.min(take, this.dataLeft);
        if (this.pax && fromData > 0) this.collectPax(chunk.subarray(pos, pos + fromData));
        this.dataLeft -= fromData;
        this.padLeft -= take - fromData;
        pos += take;
        this.offset += take;
        if (this.dataLeft === 0 && this.pax) this.finishPax();
        if (this.dataLeft === 0 && this.padLeft === 0) this.phase = 'header';
        continue;
      }
      const take = Math.min(BLOCK - this.filled, chunk.length - pos);
      chunk.copy(this.block, this.filled, pos, pos + take);
      this.filled += take;
      pos += take;
      if (this.filled === BLOCK) {
        const at = this.offset;
        this.offset += BLOCK;
        this.filled = 0;
        if (this.phase === 'sparse-ext') this.sparseExtension();
        else this.header(at);
      }
    }
  }

  /** Call at end of input; throws if the archive stops in the middle of something. */
  end(): void {
    if (this.phase === 'end') return;
    if (this.filled > 0) throw new TarFormatError(`archive ends inside a header at offset ${this.offset} (${this.filled} of 512 bytes)`);
    if (this.phase === 'data' && this.dataLeft > 0) {
      throw new TarFormatError(`archive ends inside the data of "${this.entryName}" (${this.dataLeft} bytes missing)`);
    }
    if (this.phase === 'data' && this.padLeft > 0) throw new TarFormatError(`archive ends inside the padding of "${this.entryName}"`);
    if (this.phase === 'sparse-ext') throw new TarFormatError(`archive ends inside the sparse map of "${this.entryName}"`);
    if (this.offset === 0) throw new TarFormatError('empty file: not a tar archive');
  }

  private header(at: number): void {
    const b = this.block;
    if (isZero(b)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.phase = 'end';
      return;
    }
    if (this.zeroBlocks > 0) throw new TarFormatError(`a lone zero block before the header at offset ${at}`);

    const stored = parseOctal(b, 148, 8);
    const { unsigned, signed } = headerSums(b);
    if (stored === null || (stored !== unsigned && stored !== signed)) {
      if (at === 0) throw new TarFormatError('not a tar archive (first header checksum does not match)');
      throw new TarFormatError(
        `header checksum mismatch at offset ${at} (stored ${stored === null ? 'unreadable' : stored.toString(8)}, computed ${unsigned.toString(8)})`,
      );
    }
    const magic = b.toString('latin1', 257, 263);
    if (magic !== 'ustar\0' && magic !== 'ustar ' && !isZero(b.subarray(257, 263))) {
      throw new TarFormatError(`unknown header format at offset ${at} (magic ${JSON.stringify(magic)})`);
    }
    let size = parseNumeric(b, 124, 12);
    if (size === null) throw new TarFormatError(`bad size field at offset ${at}`);
    const type = String.fromCharCode(b[156]!);
    // Only POSIX ustar has a name prefix; GNU keeps times and sparse data in those bytes.
    this.entryName = headerName(b, magic === 'ustar\0');

    if (this.paxSizeOverride !== null && type !== 'x' && type !== 'g' && type !== 'L' && type !== 'K') {
      size = this.paxSizeOverride;
      this.paxSizeOverride = null;
    }
    const dataSize = NO_DATA_TYPES.has(type) ? 0 : size;
    if (type === 'x') {
      this.pax = [];
      this.paxBytes = 0;
    }
    this.pendingData = dataSize;
    // Old GNU sparse files: more sparse-map blocks follow the header before the data.
    if (type === 'S' && b[482] !== 0) {
      this.phase = 'sparse-ext';
      return;
    }
    this.startData(dataSize);
  }

  private sparseExtension(): void {
    if (this.block[504] === 0) this.startData(this.pendingData);
  }

  private startData(size: number): void {
    this.dataLeft = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    this.phase = size > 0 ? 'data' : 'header';
    if (size === 0 && this.pax) this.finishPax();
  }

  private collectPax(part: Buffer): void {
    if (!this.pax) return;
    this.paxBytes += part.length;
    if (this.paxBytes > MAX_PAX_BYTES) {
      this.pax = null;
      return;
    }
    this.pax.push(Buffer.from(part));
  }

  /** A pax `size=` record replaces the next entry's size field (how files over 8 GiB are stored). */
  private finishPax(): void {
    const text = Buffer.concat(this.pax ?? []).toString('utf8');
    this.pax = null;
    const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(text);
    if (m) this.paxSizeOverride = Number(m[1]);
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** The checksum is the sum of the header bytes with the checksum field read as spaces; some old tars summed signed bytes. */
function headerSums(b: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return { unsigned, signed };
}

/** Octal digits, optionally led by spaces and ended by NUL or space; null when there are none. */
function parseOctal(b: Buffer, off: number, len: number): number | null {
  let i = off;
  const end = off + len;
  while (i < end && b[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return null;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? value : null;
}

/** Size fields are octal, or big-endian base-256 with the top bit set (GNU, for files of 8 GiB and more). */
function parseNumeric(b: Buffer, off: number, len: number): number | null {
  const first = b[off]!;
  if (first & 0x80) {
    if (first === 0xff) return null; // negative sizes do not exist
    let value = first & 0x7f;
    for (let i = off + 1; i < off + len; i++) value = value * 256 + b[i]!;
    return Number.isSafeInteger(value) ? value : null;
  }
  return parseOctal(b, off, len);
}

function headerName(b: Buffer, ustar: boolean): string {
  const cstr = (o: number, l: number): string => {
    const s = b.subarray(o, o + l);
    const z = s.indexOf(0);
    return s.toString('utf8', 0, z === -1 ? l : z);
  };
  const name = cstr(0, 100);
  const prefix = ustar ? cstr(345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}
