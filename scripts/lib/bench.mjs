// The benchmark's cells, the seed's published figures, and the Markdown report (no I/O: see commands/bench.mjs).

export const B = 1e9;
export const INPUT_LENGTHS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
export const GENERATED_COUNTS = [1, 2, 4, 8];
/** A CI smoke subset: enough for the prompt and generation cost at context 64. */
export const QUICK_CELLS = '1x1,1x8,64x1,64x8';
/** The IC's limit per update call. */
export const CALL_LIMIT = 40 * B;

/**
 * The original Rust/candle canister's canbench table (instructions, B) from its README ("Raw Instruction Counts",
 * decide-ai/decide-ai-ic examples/gpt2, copied in pt-icp-hub/ICP-Bootcamp-Advanced-AI-GPT2): prompt = [1,2,3,4]
 * repeated, temperature 0.7, KV cache reset per call. Its 1024 row repeats one value in every column (the README
 * itself suspects "a limit or issue at that input size").
 */
export const SEED_INSTRUCTIONS = {
  1: [1.12, 2.25, 4.49, 9.00],
  2: [1.15, 2.27, 4.52, 9.02],
  4: [1.72, 2.84, 5.09, 9.60],
  8: [3.04, 4.17, 6.42, 10.93],
  16: [5.70, 6.83, 9.09, 13.62],
  32: [11.06, 12.20, 14.47, 19.01],
  64: [22.15, 23.30, 25.59, 30.18],
  128: [44.53, 45.72, 48.08, 52.82],
  256: [91.77, 93.05, 95.58, 100.66],
  512: [196.22, 197.77, 200.80, 206.88],
  1024: [445.26, 445.26, 445.26, 445.26],
};

/** The seed's instructions for a cell, or null where it published none. */
export function seedInstructions(input, generated) {
  const column = GENERATED_COUNTS.indexOf(generated);
  const value = SEED_INSTRUCTIONS[input]?.[column];
  return value === undefined ? null : value * B;
}

/** "1x1,64x8" → [{ input: 1, generated: 1 }, { input: 64, generated: 8 }], ordered by input then generated. */
export function parseCells(text) {
  const cells = text.split(',').map((part) => {
    const match = part.trim().match(/^(\d+)x(\d+)$/);
    const [input, generated] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
    if (!(input >= 1 && input <= 1024 && generated >= 1 && generated <= 255)) {
      throw new Error(`bad cell '${part}': use INPUTxGENERATED with input 1..1024 and generated 1..255, e.g. 64x8`);
    }
    return { input, generated };
  });
  return cells.sort((a, b) => a.input - b.input || a.generated - b.generated);
}

export function allCells() {
  return INPUT_LENGTHS.flatMap((input) => GENERATED_COUNTS.map((generated) => ({ input, generated })));
}

/** The seed's prompt: [1, 2, 3, 4] repeated to `length` ids. */
export function promptIds(length) {
  return Uint32Array.from({ length }, (_, i) => (i % 4) + 1);
}

export const formatB = (instructions) => `${(instructions / B).toFixed(2)} B`;
const formatRatio = (ours, seed) => `${(ours / seed).toFixed(2)}×`;

/**
 * Figures derived as the seed's README derives them, from measured cells ({ input, generated, instructions }):
 * prompt cost per token = cell(L, 1) / L; generation cost per token at context L = (cell(L, 8) − cell(L, 1)) / 7.
 */
export function derive(results) {
  const cell = (input, generated) => results.find((r) => r.input === input && r.generated === generated && r.instructions)?.instructions ?? null;
  const generationCost = (input) => {
    const [one, eight] = [cell(input, 1), cell(input, 8)];
    return one !== null && eight !== null ? (eight - one) / 7 : null;
  };
  const promptCost = INPUT_LENGTHS.filter((input) => input > 1 && cell(input, 1) !== null).map((input) => ({
    input, ours: cell(input, 1) / input, seed: seedInstructions(input, 1) / input,
  }));
  return { promptCost, generationCost };
}

function cellText(result) {
  if (!result) return '';
  if (result.error) return 'rejected²';
  const calls = result.calls > 1 ? ` (${result.calls} calls)` : '';
  const short = result.tokens < result.generated ? ` (${result.tokens} tok)³` : '';
  const seed = seedInstructions(result.input, result.generated);
  return `${formatB(result.instructions)}${calls}${short} · ${seed ? formatRatio(result.instructions, seed) : '—'}`;
}

/**
 * The Markdown report. `run`: { results, setupModel, postUpgrade, tokensPerCall: { tokens, instructions }, meta }.
 */
export function renderReport({ results, setupModel, postUpgrade, tokensPerCall, logitError = null, meta }) {
  const inputs = [...new Set(results.map((r) => r.input))];
  const columns = [...new Set([...GENERATED_COUNTS, ...results.map((r) => r.generated)])].sort((a, b) => a - b)
    .filter((g) => results.some((r) => r.generated === g));
  const find = (input, generated) => results.find((r) => r.input === input && r.generated === generated);
  const { promptCost, generationCost } = derive(results);
  const lines = [
    '# Benchmark: IC instructions of the model canister',
    '',
    `Measured by \`scripts/bench${meta.flags ? ` ${meta.flags}` : ''}\` on ${meta.date}: model.wasm ${meta.wasm}, commit ${meta.commit}, `
      + `${meta.machine}, Node ${meta.node}; ${meta.duration} in all.`,
    '',
    `The canister runs in local-replica with the IC's metering and limits (40 B instructions per update call). The model is a `
      + `random GPT-2 of the real shape (${meta.shape}), with ${meta.precision === 'int8'
        ? 'int8 weight matrices (one scale per row); the values of the weights do not change the count. '
        : 'f32 weights; the values of the weights change the count only through the LM head\'s int8 screen, which '
          + 'recomputes in f32 the rows that could hold the top logit (1 to 11 of the 50,260 per generated token on this '
          + 'model, greedy; ScreenedLmHead). '}`
      + 'Prompt: the ids [1, 2, 3, 4] repeated, as in the seed\'s canbench; greedy decoding. A cell that fits one call is one '
      + '`inference` call; a longer one runs as a session (`start_turn` with `prompt_ids`, then `continue_turn`) and sums its calls. '
      + 'Each count is the whole message as the replica meters it.',
    '',
    '## Instructions per cell (input tokens × generated tokens)',
    '',
    'Each cell: instructions · ratio to the seed (the original Rust/candle canister\'s canbench table¹; below 1× is fewer instructions).',
    '',
    `| Input | ${columns.map((g) => `gen ${g}`).join(' | ')} |`,
    `|---:|${columns.map(() => '---:').join('|')}|`,
    ...inputs.map((input) => `| ${input} | ${columns.map((g) => cellText(find(input, g))).join(' | ')} |`),
    '',
    '## Derived (as the seed\'s README derives them)',
    '',
    '| Figure | This canister | Seed |',
    '|---|---:|---:|',
    ...promptCost.map(({ input, ours, seed }) => `| Prompt cost per token, input ${input} (cell ${input}×1 / ${input}) | ${formatB(ours)} | ${seed ? formatB(seed) : '—'} |`),
    ...[64, 512].map((input) => {
      const ours = generationCost(input);
      const seed = (seedInstructions(input, 8) - seedInstructions(input, 1)) / 7;
      return `| Generation cost per token at context ${input} ((${input}×8 − ${input}×1) / 7) | ${ours === null ? '—' : formatB(ours)} | ${formatB(seed)} |`;
    }),
  ];
  const perToken = generationCost(1);
  if (tokensPerCall) {
    lines.push(`| Tokens generated by one call after a 1-token prompt (the canister's per-call budget) | ${tokensPerCall.tokens} (${formatB(tokensPerCall.instructions)}) | — |`);
  }
  if (perToken !== null) {
    const seedPerToken = (seedInstructions(1, 8) - seedInstructions(1, 1)) / 7;
    lines.push(`| Tokens per 40 B call (40 B / generation cost at context 1) | ${Math.floor(CALL_LIMIT / perToken)} | ${Math.floor(CALL_LIMIT / seedPerToken)} |`);
  }
  if (setupModel !== null) lines.push(`| \`setup_model\` (reads the weights from stable memory) | ${formatB(setupModel)} | — |`);
  if (postUpgrade !== null) lines.push(`| Upgrade to the same module (\`post_upgrade\` reloads model and tokenizer) | ${formatB(postUpgrade)} | — |`);
  if (logitError) {
    lines.push(`| int8 logit error vs f32 (scripts/gpt2-jvm, ${logitError.prompts} prompts: top-1 agreement; largest change of a top-10 logit / f32 top-10 spread) | ${logitError.agree}/${logitError.prompts}; ${(100 * logitError.worst).toFixed(1)}% | — |`);
  }
  const errors = results.filter((r) => r.error);
  lines.push(
    '',
    '¹ decide-ai/decide-ai-ic `examples/gpt2/README.md` ("Raw Instruction Counts"; copied in pt-icp-hub/ICP-Bootcamp-Advanced-AI-GPT2): '
      + 'canbench, temperature 0.7, KV cache reset per call. Its 1024 row repeats 445.26 B in every column, which that README itself '
      + 'suspects to be "a limit or issue at that input size".',
  );
  if (errors.length) lines.push(`² The canister rejected: ${[...new Set(errors.map((r) => r.error))].map((e) => `"${e}"`).join('; ')}.`);
  if (results.some((r) => !r.error && r.tokens < r.generated)) lines.push('³ Generation stopped early, at a stop token or a full context (fewer tokens than asked).');
  return `${lines.join('\n')}\n`;
}

/** The `## heading` section of a markdown text (up to the next `## ` heading), or null. */
export function sectionOf(markdown, heading) {
  const start = markdown.split('\n').findIndex((line) => line === heading);
  if (start < 0) return null;
  const lines = markdown.split('\n').slice(start);
  const end = lines.findIndex((line, i) => i > 0 && line.startsWith('## '));
  return `${lines.slice(0, end < 0 ? lines.length : end).join('\n').trimEnd()}\n`;
}

/**
 * `report` followed by the `## ` sections of `previous` that it does not have: what other commands wrote there
 * (streaming, load test, upload), in their order.
 */
export function withOtherSections(report, previous) {
  let document = report;
  for (const heading of previous.split('\n').filter((line) => line.startsWith('## ') && sectionOf(report, line) === null)) {
    document = replaceSection(document, heading, sectionOf(previous, heading));
  }
  return document;
}

/** `markdown` with its `## heading` section replaced by `section` (appended when it has none). */
export function replaceSection(markdown, heading, section) {
  const old = sectionOf(markdown, heading);
  if (old === null) return `${markdown.trimEnd()}${markdown.trim() ? '\n\n' : ''}${section}`;
  const at = markdown.indexOf(old.trimEnd());
  return `${markdown.slice(0, at)}${section.trimEnd()}${markdown.slice(at + old.trimEnd().length)}`;
}
