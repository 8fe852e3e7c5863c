/**
 * A printable, bounded rendering of a rejected line, kept for an operator to inspect.
 * Control characters (and characters that reorder or hide text: line/paragraph
 * separators, bidi controls, BOM) are shown as \uXXXX; invalid UTF-8 and lone
 * surrogates as U+FFFD. Backslashes are left as they are, so JSON escapes in the line
 * read naturally. Longer input is cut, with the total byte size appended.
 */

const REPLACEMENT = '\uFFFD';

function mustEscape(c: number): boolean {
  return (
    c < 0x20 ||
    (c >= 0x7f && c <= 0x9f) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x200e ||
    c === 0x200f ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069) ||
    c === 0xfeff
  );
}

function escapeUnit(c: number): string {
  return '\\u' + c.toString(16).padStart(4, '0');
}

export function sampleText(input: Uint8Array | string, maxChars = 2048): string {
  const max = Math.max(0, Math.floor(maxChars));
  let text: string;
  let totalBytes: number;
  let partial: boolean;
  if (typeof input === 'string') {
    totalBytes = Buffer.byteLength(input, 'utf8');
    // Each output unit comes from at least one input unit; a little slack covers pairs at the edge.
    partial = input.length > max + 2;
    text = partial ? input.slice(0, max + 2) : input;
  } else {
    const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    totalBytes = buf.length;
    // A UTF-8 sequence is at most 4 bytes and yields at least one unit; back off to a
    // sequence start so the cut itself does not invent a U+FFFD.
    let end = Math.min(buf.length, max * 4 + 4);
    for (let back = 0; back < 3 && end < buf.length && end > 0 && (buf[end]! & 0xc0) === 0x80; back++) end--;
    partial = end < buf.length;
    text = buf.toString('utf8', 0, end);
  }

  let out = '';
  let truncated = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let piece: string;
    if (mustEscape(c)) piece = escapeUnit(c);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        piece = text[i]! + text[i + 1]!;
        i++;
      } else piece = REPLACEMENT;
    } else if (c >= 0xdc00 && c <= 0xdfff) piece = REPLACEMENT;
    else piece = text[i]!;
    if (out.length + piece.length > max) {
      truncated = true;
      break;
    }
    out += piece;
  }
  return truncated || partial ? `${out}…(${totalBytes} bytes)` : out;
}
