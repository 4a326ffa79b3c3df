// Parity of the llama2 and mistral tokenizers with llama-tokenizer-js@1.2.2 and
// mistral-tokenizer-js@1.0.0: the same bytes go to the reference (as the JS string
// TextDecoder makes of them) and to tokenize_tool, and the ids are compared one by one.
// Corpus: tests/data/tokens/sp_*.txt (whole files and line by line), sp_edge_cases.json
// (whitespace, control-piece names, invalid UTF-8 as hex), generated long inputs, and seeded
// random strings and byte strings.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  bytesToJsString,
  dataDir,
  firstMismatch,
  loadReferences,
  referenceIds,
  rng,
  TokenizeTool,
  VOCABULARIES,
} from './sentencepiece_reference.mjs';

function corpusFiles() {
  return readdirSync(dataDir)
    .filter((f) => f.startsWith('sp_') && f.endsWith('.txt'))
    .sort()
    .map((f) => ({ name: f, bytes: readFileSync(join(dataDir, f)) }));
}

function edgeCases() {
  const cases = JSON.parse(readFileSync(join(dataDir, 'sp_edge_cases.json'), 'utf8'));
  return cases.map((c) => ({
    name: `edge: ${c.name}`,
    bytes: c.hex !== undefined ? Buffer.from(c.hex, 'hex') : Buffer.from(c.text, 'utf8'),
  }));
}

function longCases() {
  const r = rng(7);
  const pick = (alphabet, n) => {
    const chars = Array.from(alphabet);
    let s = '';
    for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)];
    return s;
  };
  const prose = readFileSync(join(dataDir, 'sp_prose.txt'), 'utf8');
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const cases = {
    'spaces x1000': ' '.repeat(1000),
    'word, spaces x777, word': `start${' '.repeat(777)}end`,
    'tabs x500': '\t'.repeat(500),
    'newlines x300': '\n'.repeat(300),
    'crlf x200': 'line\r\n'.repeat(200),
    'mixed whitespace run': ' \t\n\r\n '.repeat(300),
    'indented code block': `${'    if (x) {\n        y();\n    }\n'.repeat(100)}`,
    'a x5000': 'a'.repeat(5000),
    'ab x4000': 'ab'.repeat(4000),
    'digits x3000': pick('0123456789', 3000),
    'base64 blob 20000': pick(b64, 20000),
    'long word repeated': 'supercalifragilisticexpialidocious'.repeat(200),
    'cjk run 2000': pick('的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年', 2000),
    'hangul run 1000': pick('한국어토큰화서울역기차승객', 1000),
    'emoji run 1000': pick('🦙🚀✅🎉👍🏽👨‍👩‍👧🇯🇵', 1000),
    'prose x40': prose.repeat(40),
    'punctuation run': pick('.,;:!?-_=+*/\\|()[]{}<>"\'`~@#$%^&', 5000),
  };
  return Object.entries(cases).map(([name, text]) => ({
    name: `long: ${name}`,
    bytes: Buffer.from(text, 'utf8'),
  }));
}

// Random strings over a weighted mixture of scripts, whitespace and symbols; and random bytes
// biased towards UTF-8 lead and continuation bytes.
function randomCases(seed, n) {
  const r = rng(seed);
  const pools = [
    [8, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    [5, ' '],
    [2, '\t\n\r'],
    [2, '0123456789'],
    [2, '.,;:!?()[]{}<>"\'-_/\\@#$%^&*+=~`|'],
    [2, 'éèêëàâäôöûüçñßøåæœ'],
    [2, '的一是不了人我在有他这中大来上国个到说们镇龘'],
    [1, 'あいうえおアイウエオ한국어토큰'],
    [1, 'абвгдежзийклмнопрстуфхцчшщъыьэюяαβγδεζηθ'],
    [1, 'مرحبابالعالمשלום'],
    [1, '🦙🚀✅🎉👍🏽👨‍👩‍👧🇯🇵𝔸𠀀'],
    [1, '\u2581\ufffd\ufeff\u00a0\u3000\u200b\u200d\u0301'],
  ];
  const total = pools.reduce((s, [w]) => s + w, 0);
  const pool = () => {
    let x = r() * total;
    for (const [w, chars] of pools) {
      if ((x -= w) < 0) return Array.from(chars);
    }
    return Array.from(pools[0][1]);
  };
  const cases = [];
  for (let i = 0; i < n; i++) {
    const len = Math.floor(r() ** 2 * 400);
    let s = '';
    for (let k = 0; k < len; k++) {
      const chars = pool();
      s += chars[Math.floor(r() * chars.length)];
    }
    cases.push({ name: `random text #${i} (seed ${seed})`, bytes: Buffer.from(s, 'utf8') });
  }
  for (let i = 0; i < n / 4; i++) {
    const len = 1 + Math.floor(r() * 64);
    const bytes = Buffer.alloc(len);
    for (let k = 0; k < len; k++) {
      const x = r();
      bytes[k] =
        x < 0.4 ? 0x20 + Math.floor(r() * 0x5f) : x < 0.7 ? 0x80 + Math.floor(r() * 0x40) :
        0xc0 + Math.floor(r() * 0x40);
    }
    cases.push({ name: `random bytes #${i} (seed ${seed})`, bytes });
  }
  return cases;
}

let refs;
let tool;

before(async () => {
  refs = await loadReferences();
  tool = new TokenizeTool();
});

after(async () => {
  await tool?.close();
});

async function checkParity(vocabulary, cases, { withBos = false } = {}) {
  const ref = refs[vocabulary];
  const failures = [];
  for (const c of cases) {
    const text = bytesToJsString(c.bytes);
    const want = referenceIds(ref, c.bytes);
    const got = await tool.encode(vocabulary, c.bytes);
    const mismatch = firstMismatch(ref, c.name, text, want, got);
    if (mismatch) failures.push(mismatch);
    if (withBos && text.length > 0) {
      // [BOS] + encode(text) is what the reference gives with add_bos_token.
      const bos = firstMismatch(ref, `${c.name} (with BOS)`, text, ref.encode(text, true, true),
        [1, ...got]);
      if (bos) failures.push(bos);
    }
  }
  assert.equal(failures.length, 0,
    `${failures.length} of ${cases.length} cases differ (first 3):\n${failures.slice(0, 3).join('\n')}`);
}

function lineCases(files) {
  const cases = [];
  for (const f of files) {
    f.bytes.toString('utf8').split('\n').forEach((line, i) => {
      cases.push({ name: `${f.name}:${i + 1}`, bytes: Buffer.from(line, 'utf8') });
    });
  }
  return cases;
}

for (const vocabulary of VOCABULARIES) {
  describe(`${vocabulary} parity`, () => {
    test('corpus files, whole', async () => {
      await checkParity(vocabulary, corpusFiles(), { withBos: true });
    });
    test('corpus files, line by line', async () => {
      await checkParity(vocabulary, lineCases(corpusFiles()), { withBos: true });
    });
    test('edge cases: whitespace, control-piece names, invalid UTF-8', async () => {
      await checkParity(vocabulary, edgeCases(), { withBos: true });
    });
    test('long inputs: whitespace runs, very long words, byte-fallback runs', async () => {
      await checkParity(vocabulary, longCases());
    });
    test('seeded random strings and byte strings', async () => {
      await checkParity(vocabulary, randomCases(vocabulary === 'llama2' ? 1234 : 5678, 400),
        { withBos: true });
    });
  });
}

describe('bytes to JS string', () => {
  test('invalid UTF-8 becomes U+FFFD the same way in TextDecoder and Buffer.toString', () => {
    for (const c of edgeCases()) {
      assert.equal(bytesToJsString(c.bytes), c.bytes.toString('utf8'), c.name);
    }
  });
  test('the reference sees U+FFFD for invalid bytes, encoded as the replacement piece', () => {
    for (const vocabulary of VOCABULARIES) {
      const ref = refs[vocabulary];
      const ids = referenceIds(ref, Buffer.from([0xff]));
      assert.deepEqual(ids, ref.encode('\ufffd', false, true), vocabulary);
      assert.ok(ids.includes(ref.vocabByString.get('\ufffd')), vocabulary);
    }
  });
});
