// Converts the pinned npm tokenizer packages (package.json here) into the memory-mapped
// vocabulary files the library loads. Run by scripts/bootstrap.sh:
//   node tools/vocab/convert.mjs <out-dir>
// Each family module exports `convert(outDir, nodeModulesDir)` and returns the names written.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '..', '..', 'data', 'vocab'));
const nodeModules = join(here, 'node_modules');
if (!existsSync(nodeModules)) {
  console.error(`convert: ${nodeModules} is missing; run scripts/bootstrap.sh`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });

const families = ['bytelevel.mjs', 'sentencepiece.mjs'];
for (const family of families) {
  const path = join(here, family);
  if (!existsSync(path)) continue;
  const mod = await import(path);
  const written = await mod.convert(outDir, nodeModules);
  for (const name of written) console.log(`convert: ${join(outDir, name)}`);
}
