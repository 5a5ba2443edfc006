import { watch } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** A change: an upsert or a delete of one keyed value. */
export type ChangeLine = { c: string; k: string; v: unknown } | { c: string; k: string; d: 1 };

/**
 * One journal line: a change, a change notice, or (first line of a generation made by a compaction) where
 * in the previous journal the new snapshot stops: the lines after it follow this one.
 */
export type JournalLine = ChangeLine | { n: string } | { from: [number, number] };

const NEWLINE = 0x0a;

/**
 * The complete lines in bytes [from, to) of a journal. A last line without its newline is left out
 * (`end` stops before it): it is being written by another process, or torn by a crash.
 */
export async function readLines(
  handle: FileHandle,
  from: number,
  to: number,
  file: string,
): Promise<{ lines: JournalLine[]; end: number; partial: boolean }> {
  if (to <= from) return { lines: [], end: from, partial: false };
  const buffer = Buffer.alloc(to - from);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, from + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  const complete = buffer.lastIndexOf(NEWLINE, filled - 1) + 1;
  const text = buffer.subarray(0, complete).toString('utf8');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  return {
    lines: lines.map((line) => parseLine(line, file)),
    end: from + complete,
    partial: complete < filled,
  };
}

function parseLine(text: string, file: string): JournalLine {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    line = undefined;
  }
  const l = line as Record<string, unknown> | undefined;
  const ok =
    typeof l === 'object' &&
    l !== null &&
    (typeof l.n === 'string' ||
      (typeof l.c === 'string' && typeof l.k === 'string' && (l.d === 1 || 'v' in l)) ||
      (Array.isArray(l.from) && l.from.length === 2 && l.from.every(Number.isSafeInteger)));
  // A write is one buffer ending in a newline, so a crash leaves at most a line without its newline:
  // a complete line that does not parse is damage, which must stop the start rather than be skipped.
  if (!ok) throw new Error(`${file} is damaged: a journal line is not valid.`);
  return line as JournalLine;
}

/**
 * Calls `onChange` when a file in `dir` whose name starts with `prefix` changes (not lock folders nor temp
 * files: they change on every batch). Best effort: inotify may be unavailable or out of watches, so
 * callers also poll.
 */
export function watchDir(dir: string, prefix: string, onChange: () => void): () => void {
  const relevant = (name: string | null) =>
    name === null || (name.startsWith(prefix) && !name.endsWith('.lock') && !name.endsWith('.tmp'));
  try {
    const watcher = watch(dir, { persistent: false, encoding: 'utf8' }, (_event, name) => {
      if (relevant(name)) onChange();
    });
    watcher.on('error', () => watcher.close());
    return () => watcher.close();
  } catch {
    return () => undefined;
  }
}
