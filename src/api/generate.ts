// Writes crds/*.yaml from src/api/ (npm run crds). A unit test fails when they drift.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from './index.ts';

const dir = join(import.meta.dirname, '..', '..', 'crds');
mkdirSync(dir, { recursive: true });
for (const [file, text] of renderCrds()) {
  writeFileSync(join(dir, file), text);
  console.log(`wrote crds/${file}`);
}
