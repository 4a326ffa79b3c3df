// Parity of the recursive splitter with LangChain's RecursiveCharacterTextSplitter
// (@langchain/textsplitters, pinned in tests/rag/langchain): the same texts, separators,
// chunk sizes and overlaps (keepSeparator: LangChain's default) go through both, and the
// chunk texts must be equal one by one. chunk_tool is CHUNK_BIN.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  SEPARATOR_SETS, astralTexts, generatedTexts, hasLoneSurrogate, loadCl100kCount, loadLangChain,
  realTexts, rng, runTool,
} from './langchain_reference.mjs';

let Splitter;
before(async () => {
  Splitter = await loadLangChain();
});

function overlapsFor(size) {
  return [...new Set([0, 1, Math.floor(size / 10), Math.floor(size / 2), size - 1])].filter((o) => o < size);
}

async function reference(r, lengthFunction) {
  const splitter = new Splitter({
    chunkSize: r.size, chunkOverlap: r.overlap, separators: r.separators,
    ...(lengthFunction ? { lengthFunction } : {}),
  });
  const warn = console.warn;
  console.warn = () => {};  // "Created a chunk of size ..." is expected for tiny sizes
  try {
    return await splitter.splitText(r.text);
  } finally {
    console.warn = warn;
  }
}

function firstDifference(want, got) {
  const n = Math.max(want.length, got.length);
  for (let i = 0; i < n; ++i) {
    if (want[i] !== got[i]) {
      return `chunk ${i} of ${want.length}/${got.length}: want ${JSON.stringify(want[i])} got ${JSON.stringify(got[i])}`;
    }
  }
  return null;
}

async function compare(records, lengthFunction) {
  const got = await runTool(records);
  const failures = [];
  let skipped = 0;
  let chunks = 0;
  for (let i = 0; i < records.length; ++i) {
    const r = records[i];
    const want = await reference(r, lengthFunction);
    if (want.some(hasLoneSurrogate)) {
      ++skipped;
      continue;
    }
    chunks += want.length;
    const diff = Array.isArray(got[i]) ? firstDifference(want, got[i]) : `error ${got[i].error}`;
    if (diff) failures.push(`${r.label} [${r.unit} size ${r.size} overlap ${r.overlap} seps ${r.seps}]: ${diff}`);
  }
  return { failures, skipped, chunks };
}

function records(items, sizes, sepNames, unit = 'chars') {
  const out = [];
  for (const item of items) {
    for (const size of sizes) {
      // Tiny sizes on long texts are slow in LangChain and add nothing: use a slice.
      const text = size < 20 && item.text.length > 1500 ? item.text.slice(0, 1500) : item.text;
      for (const overlap of overlapsFor(size)) {
        for (const seps of sepNames) {
          // Text outside the BMP is measured as JavaScript does (UTF-16 units) for parity.
          const u = unit === 'chars' && /[\u{10000}-\u{10ffff}]/u.test(text) ? 'utf16' : unit;
          out.push({ label: item.label, unit: u, size, overlap, seps, separators: SEPARATOR_SETS[seps], text });
        }
      }
    }
  }
  return out;
}

test('real texts (README, docs, code): chunks equal LangChain', async (t) => {
  const recs = records(realTexts(), [1, 7, 50, 200, 1000, 4000], ['default', 'markdown', 'cpp', 'python']);
  const { failures, skipped, chunks } = await compare(recs);
  t.diagnostic(`${recs.length} text/config records, ${chunks} chunks compared, ${skipped} skipped, ${failures.length} mismatches`);
  assert.deepEqual(failures.slice(0, 5), []);
});

test('generated texts (CJK, Arabic, Unicode spaces, long lines): chunks equal LangChain', async (t) => {
  const recs = records(generatedTexts(20261125), [3, 13, 64, 300, 1500],
    ['default', 'no_empty', 'cjk', 'space_only', 'none']);
  const { failures, skipped, chunks } = await compare(recs);
  t.diagnostic(`${recs.length} text/config records, ${chunks} chunks compared, ${skipped} skipped, ${failures.length} mismatches`);
  assert.deepEqual(failures.slice(0, 5), []);
});

test('astral-plane text in UTF-16 units: chunks equal LangChain where it keeps pairs whole', async (t) => {
  const recs = records(astralTexts(7), [3, 10, 40, 200], ['default', 'no_empty'], 'utf16');
  const { failures, skipped, chunks } = await compare(recs);
  t.diagnostic(`${recs.length} records, ${chunks} chunks compared, ${skipped} skipped (LangChain cut a surrogate pair), ${failures.length} mismatches`);
  assert.deepEqual(failures.slice(0, 5), []);
  assert.ok(recs.length - skipped > recs.length / 2, 'most astral records compared');
});

test('token sizes (cl100k_base): chunks equal LangChain with a token length function', async (t) => {
  const count = await loadCl100kCount();
  if (!count) {
    t.skip('tools/vocab/node_modules/gpt-tokenizer not installed');
    return;
  }
  const next = rng(99);
  const items = realTexts().slice(0, 4).map((i) => ({ ...i, text: i.text.slice(0, 8000 + Math.floor(next() * 4000)) }));
  const recs = records(items, [16, 100, 400], ['default', 'markdown'], 'cl100k_base');
  const { failures, chunks } = await compare(recs, count);
  t.diagnostic(`${recs.length} records, ${chunks} chunks compared, ${failures.length} mismatches`);
  assert.deepEqual(failures.slice(0, 5), []);
});
