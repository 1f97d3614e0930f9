import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allCells, B, derive, parseCells, promptIds, renderReport, replaceSection, sectionOf, seedInstructions, withOtherSections } from '../lib/bench.mjs';

test('parseCells reads INPUTxGENERATED lists and sorts them', () => {
  assert.deepEqual(parseCells('64x8, 1x1,64x1'), [{ input: 1, generated: 1 }, { input: 64, generated: 1 }, { input: 64, generated: 8 }]);
  assert.throws(() => parseCells('64'), /bad cell '64'/);
  assert.throws(() => parseCells('2000x1'), /input 1\.\.1024/);
  assert.equal(allCells().length, 44);
});

test('the seed\'s published cells, and the prompt it used', () => {
  assert.equal(seedInstructions(1, 1), 1.12 * B);
  assert.equal(seedInstructions(512, 8), 206.88 * B);
  assert.equal(seedInstructions(3, 1), null);
  assert.equal(seedInstructions(64, 3), null);
  assert.deepEqual([...promptIds(6)], [1, 2, 3, 4, 1, 2]);
});

test('derived figures follow the seed\'s README: cell(L,1)/L and (cell(L,8) − cell(L,1))/7', () => {
  const results = [
    { input: 64, generated: 1, instructions: 10.5 * B },
    { input: 64, generated: 8, instructions: 12.25 * B },
    { input: 1024, generated: 1, error: 'too long' },
  ];
  const { promptCost, generationCost } = derive(results);
  assert.deepEqual(promptCost, [{ input: 64, ours: 10.5 * B / 64, seed: 22.15 * B / 64 }]);
  assert.equal(generationCost(64), 0.25 * B);
  assert.equal(generationCost(512), null);
});

test('the report shows each cell with its ratio to the seed, the derived figures and the rejects', () => {
  const report = renderReport({
    results: [
      { input: 1, generated: 1, instructions: 0.5 * B, calls: 1, tokens: 1 },
      { input: 1, generated: 8, instructions: 2.25 * B, calls: 1, tokens: 8 },
      { input: 128, generated: 1, instructions: 50 * B, calls: 2, tokens: 1 },
      { input: 1024, generated: 1, error: 'the prompt has 1024 tokens' },
    ],
    setupModel: 1.5 * B,
    postUpgrade: 2.75 * B,
    tokensPerCall: { tokens: 139, instructions: 35.8 * B },
    meta: { date: 'today', flags: '--cells 1x1,1x8,128x1,1024x1', wasm: 'w', commit: 'c', machine: 'm', node: '20', shape: 's', duration: '1:00' },
  });
  assert.match(report, /\| 1 \| 0\.50 B · 0\.45× \| 2\.25 B · 0\.25× \|/);
  assert.match(report, /\| 128 \| 50\.00 B \(2 calls\) · 1\.12× \| {2}\|/);
  assert.match(report, /\| 1024 \| rejected² \| {2}\|/);
  assert.match(report, /Tokens per 40 B call .* \| 160 \| 35 \|/);
  assert.match(report, /`setup_model` .* \| 1\.50 B \|/);
  assert.match(report, /² The canister rejected: "the prompt has 1024 tokens"/);
});

test('a section of the report is replaced in place, appended when missing, and found up to the next heading', () => {
  const report = '# Title\n\n## A\n\none\n\n## B\n\ntwo\n';
  assert.equal(sectionOf(report, '## A'), '## A\n\none\n');
  assert.equal(sectionOf(report, '## B'), '## B\n\ntwo\n');
  assert.equal(sectionOf(report, '## C'), null);
  assert.equal(replaceSection(report, '## A', '## A\n\nnew\n'), '# Title\n\n## A\n\nnew\n\n## B\n\ntwo\n');
  assert.equal(replaceSection(report, '## C', '## C\n\nthree\n'), `${report}\n## C\n\nthree\n`);
  assert.equal(replaceSection('', '## C', '## C\n'), '## C\n');
});

test('a new report keeps the sections other commands wrote, in their order, and replaces its own', () => {
  const previous = '# Old\n\n## A\n\nold a\n\n## Load\n\nload\n\n## Streaming\n\nstreaming\n';
  const report = '# New\n\n## A\n\nnew a\n';
  assert.equal(withOtherSections(report, previous), '# New\n\n## A\n\nnew a\n\n## Load\n\nload\n\n## Streaming\n\nstreaming\n');
  assert.equal(withOtherSections(report, ''), report);
});
