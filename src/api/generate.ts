// Writes every generated manifest (npm run crds). A unit test fails when they drift from src/api/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderGenerated } from './index.ts';

const root = join(import.meta.dirname, '..', '..');
for (const [path, text] of renderGenerated()) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
