// Chat formats: tests/data/tokens/sp_chat_cases.json must hold exactly what the reference
// tokenizers give for the Llama 2 chat and Mistral instruct templates (rendered by
// sentencepiece_chat.mjs); tests/unit/chat_format_test.cpp checks the C++ functions against the
// same file. Also checks, through tokenize_tool, that every rendered text piece encodes alike.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { buildGolden, readGolden } from './sentencepiece_chat.mjs';
import { firstMismatch, loadReferences, TokenizeTool, VOCABULARIES } from './sentencepiece_reference.mjs';

let refs;
let tool;

before(async () => {
  refs = await loadReferences();
  tool = new TokenizeTool();
});

after(async () => {
  await tool?.close();
});

test('golden chat cases match the reference tokenizers (regenerate with --write)', async () => {
  const want = await buildGolden(refs);
  const have = readGolden();
  assert.equal(have.length, want.length, 'number of conversations');
  for (let i = 0; i < want.length; i++) {
    assert.deepEqual(have[i], want[i], `conversation "${want[i].name}"`);
  }
});

test('Llama 2 template shape', () => {
  const [c] = readGolden().filter((x) => x.name === 'system, exchange, follow-up');
  assert.deepEqual(c.llama2.pieces, [
    '<s>',
    { text: '[INST] <<SYS>>\nYou are a helpful, respectful and honest assistant.\n<</SYS>>\n\nWhat is the capital of France? [/INST] Paris. ' },
    '</s>',
    '<s>',
    { text: '[INST] And of Japan? [/INST]' },
  ]);
  assert.deepEqual(c.mistral.pieces, [
    '<s>',
    { text: '[INST] You are a helpful, respectful and honest assistant.\n\nWhat is the capital of France? [/INST]' },
    { text: 'Paris.' },
    '</s>',
    { text: '[INST] And of Japan? [/INST]' },
  ]);
  // Mistral's model card: <s> [INST] ... encodes as 1, 733 ("▁["), 16289 ("INST"), 28793 ("]").
  assert.deepEqual(c.mistral.ids.slice(0, 4), [1, 733, 16289, 28793]);
});

test('every rendered text piece encodes the same in tokenize_tool', async () => {
  for (const c of readGolden()) {
    for (const vocabulary of VOCABULARIES) {
      const ids = [];
      for (const p of c[vocabulary].pieces) {
        if (p === '<s>') ids.push(1);
        else if (p === '</s>') ids.push(2);
        else ids.push(...(await tool.encode(vocabulary, p.text)));
      }
      const text = c[vocabulary].pieces.map((p) => (typeof p === 'string' ? p : p.text)).join('');
      const mismatch = firstMismatch(refs[vocabulary], `${vocabulary} "${c.name}"`, text,
        c[vocabulary].ids, ids);
      assert.equal(mismatch, null, mismatch ?? '');
    }
  }
});
