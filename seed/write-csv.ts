/** `node seed/write-csv.ts`: (re)writes seed/csv/ from the generator (the files are committed). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateNetwork, networkCsv } from './generate.ts';

export const CSV_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'csv');

if (import.meta.main) {
  fs.mkdirSync(CSV_DIR, { recursive: true });
  for (const [name, text] of Object.entries(networkCsv(generateNetwork()))) fs.writeFileSync(path.join(CSV_DIR, name), text);
  process.stdout.write(`wrote ${CSV_DIR}\n`);
}
