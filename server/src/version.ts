/** The platform's version, from the root package.json. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json');
export const VERSION: string = (JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { version?: string }).version ?? '0.0.0';
