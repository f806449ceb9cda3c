/**
 * Reads one CSV file of an import (UTF-8, header row, RFC 4180 quoting) with csv-parse, keeping
 * each record's line number so problems can name it. Missing or extra header columns and
 * malformed quoting become problems, never exceptions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

export interface Problem {
  file: string;
  /** 1-based line in the file; 0 for problems with the file as a whole. */
  line: number;
  message: string;
}

export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

export interface CsvFile {
  file: string;
  rows: CsvRow[];
}

/** Parses `dir/name`; undefined (with a problem when `required`) when the file is absent. */
export function readCsv(dir: string, name: string, columns: readonly string[], required: boolean, problems: Problem[]): CsvFile | undefined {
  const full = path.join(dir, name);
  if (!fs.existsSync(full)) {
    if (required) problems.push({ file: name, line: 0, message: 'file is missing' });
    return undefined;
  }
  const text = fs.readFileSync(full, 'utf8');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // Raw arrays (not columns: true) so that a row with the wrong field count is one problem, not the end.
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }) as never;
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    problems.push({ file: name, line: e.lines ?? 0, message: `not valid CSV: ${e.message?.split('\n')[0] ?? 'parse error'}` });
    return undefined;
  }
  const header = records.shift()?.record ?? [];
  const missing = columns.filter((c) => !header.includes(c));
  const extra = header.filter((c) => !columns.includes(c));
  if (missing.length) problems.push({ file: name, line: 1, message: `missing column(s): ${missing.join(', ')}` });
  if (extra.length) problems.push({ file: name, line: 1, message: `unknown column(s): ${extra.join(', ')}` });
  if (missing.length) return undefined;
  const rows: CsvRow[] = [];
  for (const { record, info } of records) {
    if (record.length !== header.length) {
      problems.push({ file: name, line: info.lines, message: `has ${record.length} fields; the header has ${header.length}` });
      continue;
    }
    rows.push({ line: info.lines, values: Object.fromEntries(header.map((h, i) => [h, record[i]])) });
  }
  return { file: name, rows };
}
