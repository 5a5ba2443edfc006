/**
 * PHP's strnatcmp (ext/standard/strnatcmp.c, PHP 7/8), which Laminas uses to order the encoded
 * parameter names of a signature base string. Digit runs compare by value (`2` before `10`);
 * runs starting with `0` compare left-aligned, as fractions; leading zeros are skipped only at
 * the very start of a string. Compares UTF-16 code units, which equal PHP's bytes for the
 * percent-encoded ASCII names it is used on.
 */
export function strnatcmp(a: string, b: string): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length > b.length ? 1 : -1;
  let i = skipLeadingZeros(a);
  let j = skipLeadingZeros(b);
  for (;;) {
    while (i < a.length && isSpace(at(a, i))) i++;
    while (j < b.length && isSpace(at(b, j))) j++;
    if (isDigit(at(a, i)) && isDigit(at(b, j))) {
      const fractional = a[i] === '0' || b[j] === '0';
      const run = fractional ? compareLeft(a, i, b, j) : compareRight(a, i, b, j);
      if (run.result !== 0) return run.result;
      i = run.i;
      j = run.j;
      if (i >= a.length && j >= b.length) return 0;
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
    }
    const ca = at(a, i);
    const cb = at(b, j);
    if (ca !== cb) return ca < cb ? -1 : 1;
    i++;
    j++;
    if (i >= a.length && j >= b.length) return 0;
    if (i >= a.length) return -1;
    if (j >= b.length) return 1;
  }
}

interface RunResult {
  result: number;
  i: number;
  j: number;
}

/** Right-aligned numbers: the longer run wins, else the first differing digit decides. */
function compareRight(a: string, i: number, b: string, j: number): RunResult {
  let bias = 0;
  for (; ; i++, j++) {
    const da = isDigit(at(a, i));
    const db = isDigit(at(b, j));
    if (!da && !db) return { result: bias, i, j };
    if (!da) return { result: -1, i, j };
    if (!db) return { result: 1, i, j };
    if (bias === 0 && a[i] !== b[j]) bias = at(a, i) < at(b, j) ? -1 : 1;
  }
}

/** Left-aligned numbers (a run starting with 0): the first differing digit wins. */
function compareLeft(a: string, i: number, b: string, j: number): RunResult {
  for (; ; i++, j++) {
    const da = isDigit(at(a, i));
    const db = isDigit(at(b, j));
    if (!da && !db) return { result: 0, i, j };
    if (!da) return { result: -1, i, j };
    if (!db) return { result: 1, i, j };
    if (a[i] !== b[j]) return { result: at(a, i) < at(b, j) ? -1 : 1, i, j };
  }
}

function skipLeadingZeros(s: string): number {
  let k = 0;
  while (s[k] === '0' && k + 1 < s.length && isDigit(at(s, k + 1))) k++;
  return k;
}

// Past the end reads as 0, like the NUL terminator the C code runs into.
function at(s: string, k: number): number {
  return k < s.length ? s.charCodeAt(k) : 0;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}
