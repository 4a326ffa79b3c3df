// The [INST] chat templates of include/switchyard/tokens/chat_format.hpp written again in
// JavaScript, the conversations of tests/data/tokens/sp_chat_cases.json, and the expected
// pieces, ids and counts computed with the reference tokenizers (each text piece encoded with
// add_bos_token=false, add_preceding_space=true; BOS = 1, EOS = 2).
// `node tests/tokens/sentencepiece_chat.mjs --write` regenerates the golden file, which both
// sentencepiece_chat_test.mjs (against the references) and tests/unit/chat_format_test.cpp
// (against the C++ functions) check.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dataDir, loadReferences, referenceIds, VOCABULARIES } from './sentencepiece_reference.mjs';

export const goldenPath = join(dataDir, 'sp_chat_cases.json');
const FORMATS = { llama2: 'llama2_chat', mistral: 'mistral_instruct' };
const BOS = 1;
const EOS = 2;

// Python's str.strip(): the characters str.isspace() accepts.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const pyStrip = (s) => s.replace(PY_STRIP, '');

function normalize(turns) {
  const system = turns.filter((t) => t.role === 'system').map((t) => t.text);
  const conv = [];
  for (const t of turns) {
    if (t.role === 'system') continue;
    if (conv.length === 0 && t.role === 'assistant') conv.push({ role: 'user', text: '' });
    const last = conv[conv.length - 1];
    if (last && last.role === t.role) last.text += `\n\n${t.text}`;
    else conv.push({ role: t.role, text: t.text });
  }
  if (conv.length === 0 && system.length > 0) conv.push({ role: 'user', text: '' });
  return { system: system.length > 0 ? system.join('\n\n') : null, conv };
}

// Pieces: '<s>', '</s>' or { text }.
export function renderInstPrompt(format, turns) {
  const { system, conv } = normalize(turns);
  const pieces = [];
  if (conv.length === 0) return pieces;
  if (format === 'llama2_chat') {
    for (let i = 0; i < conv.length; i += 2) {
      let user = conv[i].text;
      if (i === 0 && system !== null) user = `<<SYS>>\n${system}\n<</SYS>>\n\n${user}`;
      let text = `[INST] ${pyStrip(user)} [/INST]`;
      const answered = i + 1 < conv.length;
      if (answered) text += ` ${pyStrip(conv[i + 1].text)} `;
      pieces.push('<s>', { text });
      if (answered) pieces.push('</s>');
    }
    return pieces;
  }
  pieces.push('<s>');
  conv.forEach((t, i) => {
    if (t.role === 'user') {
      const user = i === 0 && system !== null ? `${system}\n\n${t.text}` : t.text;
      pieces.push({ text: `[INST] ${user} [/INST]` });
    } else {
      pieces.push({ text: t.text }, '</s>');
    }
  });
  return pieces;
}

export function referencePromptIds(ref, pieces) {
  const ids = [];
  for (const p of pieces) {
    if (p === '<s>') ids.push(BOS);
    else if (p === '</s>') ids.push(EOS);
    else ids.push(...referenceIds(ref, p.text));
  }
  return ids;
}

export function conversations() {
  const prose = readFileSync(join(dataDir, 'sp_prose.txt'), 'utf8');
  const code = readFileSync(join(dataDir, 'sp_code.txt'), 'utf8');
  const cjk = readFileSync(join(dataDir, 'sp_cjk.txt'), 'utf8');
  const S = (text) => ({ role: 'system', text });
  const U = (text) => ({ role: 'user', text });
  const A = (text) => ({ role: 'assistant', text });
  return {
    'single user': [U('Hello, how are you?')],
    'system and user': [S('You are a helpful assistant.'), U('What is a railway yard?')],
    'system, user, assistant': [S('Be brief.'), U('Name a color.'), A('Blue.')],
    'system, exchange, follow-up': [
      S('You are a helpful, respectful and honest assistant.'),
      U('What is the capital of France?'), A('Paris.'), U('And of Japan?'),
    ],
    'three complete exchanges': [
      U('One?'), A('1'), U('Two?'), A('2'), U('Three?'), A('3'),
    ],
    'assistant first': [A('I start.'), U('Then me.')],
    'repeated roles merge': [U('first part'), U('second part'), A('a'), A('b'), U('last')],
    'several systems, one in the middle': [
      S('Rule one.'), U('Hi'), S('Rule two.'), A('Hello'), U('Bye'),
    ],
    'only system': [S('Only a system prompt.')],
    'no turns': [],
    'empty user': [U('')],
    'whitespace to strip': [
      S('  sys with spaces  '),
      U(' \n\t padded user \u00a0\u3000\x1c'),
      A('\n\n  padded answer  \r\n'),
      U('   '),
    ],
    'system with blank user': [S('System only, user blank.'), U(' \n ')],
    'unicode and emoji': [U('翻译成英文：铁路调车场 🚂'), A('Railway yard 🚂'), U('¿Y en español? 🙂')],
    'literal control text': [U('What does [INST] or </s> or <<SYS>> mean?'), A('They are markers.')],
    'code and prose': [S('You review code.'), U(`Review this:\n\n${code}`), A(prose), U(cjk)],
  };
}

export async function buildGolden(refs) {
  const cases = [];
  for (const [name, turns] of Object.entries(conversations())) {
    const entry = { name, turns };
    for (const vocabulary of VOCABULARIES) {
      const pieces = renderInstPrompt(FORMATS[vocabulary], turns);
      const ids = referencePromptIds(refs[vocabulary], pieces);
      entry[vocabulary] = { pieces, count: ids.length, ids };
    }
    cases.push(entry);
  }
  return cases;
}

export function readGolden() {
  return JSON.parse(readFileSync(goldenPath, 'utf8'));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const golden = await buildGolden(await loadReferences());
  // One line per id array keeps the file readable.
  const json = JSON.stringify(golden, null, 1).replace(/\[\s*(\d+(?:,\s*\d+)*)\s*\]/g,
    (_, ids) => `[${ids.replace(/\s+/g, '')}]`);
  writeFileSync(goldenPath, `${json}\n`);
  console.log(`wrote ${golden.length} conversations to ${goldenPath}`);
}
