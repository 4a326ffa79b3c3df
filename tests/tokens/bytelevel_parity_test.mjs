// Parity of the byte-level BPE tokenizers (cl100k_base, o200k_base, claude, llama3) with the
// reference npm packages: the same corpus goes through each reference and through
// tokenize_tool (TOKENIZE_BIN), and the ids must agree one by one.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import {
  NEW_MARKS, VOCABULARIES, bytesToString, corpusDir, firstMismatch, loadGptTokenizer, loadReferences,
  loadTestPlans, randomBytes, randomString, rng, runTool,
} from './bytelevel_reference.mjs';

let refs;
before(async () => {
  refs = await loadReferences();
});

// Corpus records: each bl_*.txt whole and line by line; each bl_edge_cases.json entry.
function corpus() {
  const items = [];
  for (const file of readdirSync(corpusDir).filter((f) => /^bl_.*\.txt$/.test(f)).sort()) {
    const bytes = readFileSync(join(corpusDir, file));
    items.push({ label: file, bytes });
    let start = 0;
    for (let i = 0; i < bytes.length; ++i) {
      if (bytes[i] === 0x0a) {
        items.push({ label: `${file}:${items.length}`, bytes: bytes.subarray(start, i + 1) });
        start = i + 1;
      }
    }
  }
  const cases = JSON.parse(readFileSync(join(corpusDir, 'bl_edge_cases.json'), 'utf8'));
  for (const c of cases) {
    items.push({ label: c.name, bytes: c.hex !== undefined ? Buffer.from(c.hex, 'hex') : Buffer.from(c.text, 'utf8') });
  }
  return items;
}

async function compare(items, { stripNewMarksForClaude = false } = {}) {
  const records = [];
  for (const vocab of VOCABULARIES) {
    for (const item of items) {
      let bytes = item.bytes;
      if (stripNewMarksForClaude && vocab === 'claude' && item.text !== undefined) {
        bytes = Buffer.from(item.text.replace(new RegExp(NEW_MARKS.source, 'gu'), ''), 'utf8');
      }
      records.push({ vocab, label: item.label, bytes });
    }
  }
  const got = await runTool(records);
  const failures = [];
  records.forEach((r, i) => {
    const text = bytesToString(r.bytes);
    const want = refs[r.vocab](text);
    const diff = firstMismatch(want, got[i], text);
    if (diff) failures.push(`${r.vocab} / ${r.label}: ${diff}`);
  });
  return { failures, n: records.length };
}

test('corpus: ids equal the references', async (t) => {
  const { failures, n } = await compare(corpus());
  t.diagnostic(`${n} records, ${failures.length} mismatches`);
  assert.deepEqual(failures.slice(0, 10), []);
});

test('seeded random strings: ids equal the references', async (t) => {
  const next = rng(20241125);
  const items = [];
  for (let i = 0; i < 1500; ++i) {
    items.push({ label: `random string #${i}`, text: randomString(next, i % 10 === 0 ? 400 : 40) });
  }
  // Dense runs of 3- and 4-byte characters: llama3's merge-order replay path.
  const dense = ['\u4e2d', '\u6587', '\u5b57', '\u3053', '\uac00', '\ud55c', '\u{1f999}', '\u{1f600}', '\u{20000}', '\ua64a', '\u0e01'];
  for (let i = 0; i < 200; ++i) {
    let text = '';
    for (let n = 1 + Math.floor(next() * 30); n > 0; --n) text += dense[Math.floor(next() * dense.length)];
    items.push({ label: `dense multibyte #${i}`, text });
  }
  const records = [];
  for (const item of items) records.push({ ...item, bytes: Buffer.from(item.text, 'utf8') });
  for (let i = 0; i < 300; ++i) records.push({ label: `random bytes #${i}`, bytes: randomBytes(next, 60) });
  const { failures, n } = await compare(records, { stripNewMarksForClaude: true });
  t.diagnostic(`${n} records, ${failures.length} mismatches`);
  assert.deepEqual(failures.slice(0, 10), []);
});

test("gpt-tokenizer's TestPlans.txt (cl100k_base, o200k_base)", async (t) => {
  const plans = loadTestPlans().filter((p) => VOCABULARIES.includes(p.vocab));
  const got = await runTool(plans.map((p) => ({ vocab: p.vocab, bytes: Buffer.from(p.sample, 'utf8') })));
  const failures = [];
  plans.forEach((p, i) => {
    const diff = firstMismatch(p.encoded, got[i], p.sample);
    if (diff) failures.push(`${p.vocab}: ${diff}`);
  });
  t.diagnostic(`${plans.length} plans, ${failures.length} failures`);
  assert.deepEqual(failures, []);
});

test('gpt-tokenizer divergences from tiktoken are only the documented ones', async (t) => {
  // gpt-tokenizer has its own JS pattern (\s+$ before \s*[\r\n]; Unicode 17 classes; JS \s),
  // so it is informational: report how often it differs from tiktoken (and us) on the corpus.
  const gpt = await loadGptTokenizer();
  let differ = 0, total = 0;
  for (const item of corpus()) {
    const text = bytesToString(item.bytes);
    for (const vocab of ['cl100k_base', 'o200k_base']) {
      ++total;
      if (firstMismatch(refs[vocab](text), gpt[vocab](text), text)) ++differ;
    }
  }
  t.diagnostic(`gpt-tokenizer differs from tiktoken on ${differ} of ${total} corpus records`);
});
