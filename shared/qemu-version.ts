/**
 * A QEMU user-mode emulator's version, read from its bytes — never by running it. QEMU's
 * linux-user/main.c prints `"qemu-" TARGET_NAME " version " QEMU_FULL_VERSION` for --version; the
 * compiler folds that into one string literal, so the program's bytes hold e.g.
 * `qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)` or `qemu-riscv64 version 9.2.2`.
 * Scanned in chunks with a small carry (bounded memory). Pure. The result is printable ASCII of at
 * most 64 characters; it is what the file *says*, and is shown as reported.
 */

const Q = [0x71, 0x65, 0x6d, 0x75, 0x2d]; // "qemu-"
const WINDOW = 160;
const PATTERN = /^qemu-[a-z0-9_]{1,20} version (\d{1,3}\.\d{1,3}(?:\.\d{1,4})?(?:[-+~.a-z0-9]{0,20})?(?: \([\x20-\x27\x2a-\x7e]{1,40}\))?)/;

function windowText(b: Uint8Array, from: number): string {
  let s = '';
  for (let i = from; i < b.length && i < from + WINDOW; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) break;
    s += String.fromCharCode(c);
  }
  return s;
}

export class QemuVersionScanner {
  private carry = new Uint8Array(0);
  private found: string | undefined;

  /** Feed the next chunk of the file. */
  push(chunk: Uint8Array): void {
    if (this.found !== undefined) return;
    const b = new Uint8Array(this.carry.length + chunk.length);
    b.set(this.carry, 0);
    b.set(chunk, this.carry.length);
    // Candidates must start where a whole window fits, unless this is all there is; the rest is carried.
    const last = b.length - WINDOW;
    for (let i = 0; i < b.length; i++) {
      if (i > last) {
        this.carry = b.slice(i);
        return;
      }
      if (b[i] !== Q[0] || b[i + 1] !== Q[1] || b[i + 2] !== Q[2] || b[i + 3] !== Q[3] || b[i + 4] !== Q[4]) continue;
      const m = PATTERN.exec(windowText(b, i));
      if (m) {
        this.found = m[1];
        this.carry = new Uint8Array(0);
        return;
      }
    }
    this.carry = new Uint8Array(0);
  }

  /** The version, after the last chunk (undefined when the file names none). */
  result(): string | undefined {
    if (this.found === undefined && this.carry.length) {
      const rest = this.carry;
      this.carry = new Uint8Array(0);
      for (let i = 0; i < rest.length && this.found === undefined; i++) {
        if (rest[i] === Q[0] && rest[i + 1] === Q[1]) this.found = PATTERN.exec(windowText(rest, i))?.[1];
      }
    }
    return this.found;
  }
}

/** The version a QEMU user-mode program's bytes name, scanning `bytes` 1 MiB at a time. */
export function qemuVersionFromBytes(bytes: Uint8Array, chunk = 1 << 20): string | undefined {
  const s = new QemuVersionScanner();
  for (let off = 0; off < bytes.length; off += chunk) s.push(bytes.subarray(off, off + chunk));
  return s.result();
}
