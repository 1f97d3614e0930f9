import type { Status } from './bindings/model.did';
import type { Generation } from './chat-controller';
import type { AnswerStats, ChatMessage } from './conversations';
import type { MoveReason } from './fleet-rules.js';
import { formatBytes, formatCount, formatInteger, formatRate, formatSeconds, plural } from './format';
import type { StopReasonName, TurnSnapshot } from './turn';

export function phaseLabel(snapshot: TurnSnapshot, stopping = false): string {
  if (stopping) return 'Stopping after the calls already sent…';
  switch (snapshot.phase) {
    case 'starting':
      if (snapshot.moved) return 'Moving to another canister, replaying the conversation…';
      return snapshot.replayed ? 'Session expired, replaying the conversation…' : 'Sending…';
    case 'reading':
      return `Reading prompt… ${plural(snapshot.promptTokensRemaining, 'token')} left`;
    case 'generating':
      return 'Generating…';
  }
}

const MOVE_REASONS: Record<MoveReason, string> = {
  stopped: 'was stopped, being upgraded or out of cycles',
  quota: 'had spent its hourly quota',
  busy: 'had no room for another conversation',
  crowded: 'had more conversations starting at once',
};

/** Why an answer comes from another canister than the conversation's earlier ones. */
export function movedNote({ from, to, reason }: NonNullable<ChatMessage['moved']>): string {
  return `Moved to ${to}: ${from} ${MOVE_REASONS[reason] ?? 'could not answer'}, so the conversation was sent again as context.`;
}

const STOP_REASONS: Record<StopReasonName, string> = {
  EndOfText: 'end of answer',
  MaxTokens: 'token limit',
  ContextFull: 'context full',
};

/** The parts of an answer's stats line: calls, tokens, speed, context, instructions, time, seed, why it ended. */
export function statsItems(stats: AnswerStats): string[] {
  return [
    plural(stats.calls, 'call'),
    plural(stats.tokens, 'token'),
    stats.tokens > 0 ? formatRate(stats.tokens, stats.elapsedMs) : undefined,
    `${formatInteger(stats.contextTokens)} in context`,
    `${formatCount(stats.instructions)} instructions`,
    formatSeconds(stats.elapsedMs),
    `seed ${stats.seed}`,
    stats.stopReason && STOP_REASONS[stats.stopReason],
  ].filter((item) => item !== undefined);
}

/**
 * While generating, from the first reply on: calls and tokens so far, tokens per second since Send and a running
 * timer (nothing before the first reply, when there is nothing to count yet).
 */
export function liveStatsItems(generation: Generation, now: number): string[] {
  if (generation.firstReplyAt === undefined) return [];
  const { calls, generatedTokens } = generation.snapshot;
  const elapsed = generation.priorElapsedMs + now - generation.startedAt;
  return [
    plural(calls, 'call'),
    plural(generatedTokens, 'token'),
    generatedTokens > 0 ? formatRate(generatedTokens, elapsed) : undefined,
    formatSeconds(elapsed),
  ].filter((item) => item !== undefined);
}

export interface StatusRow {
  label: string;
  value: string;
}

export interface StatusGroup {
  title: string;
  rows: StatusRow[];
}

const yesNo = (flag: boolean) => (flag ? 'yes' : 'no');

/** Size and the start of the SHA-256, enough to compare with the file on disk. */
function uploaded(bytes: bigint, sha256: Uint8Array): string {
  if (bytes === 0n) return formatBytes(bytes);
  const digest = Array.from(sha256.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${formatBytes(bytes)} · sha256 ${digest}…`;
}

/** What the status panel shows for the canister's `status` reply. */
export function describeStatus(status: Status): StatusGroup[] {
  const [model] = status.model;
  return [
    {
      title: 'Loading',
      rows: [
        { label: 'Model loaded', value: yesNo(status.model_loaded) },
        { label: 'Tokenizer loaded', value: yesNo(status.tokenizer_loaded) },
        { label: 'Config uploaded', value: uploaded(status.config_bytes, status.config_sha256) },
        { label: 'Tokenizer uploaded', value: uploaded(status.tokenizer_bytes, status.tokenizer_sha256) },
        { label: 'Weights uploaded', value: uploaded(status.safetensors_bytes, status.safetensors_sha256) },
      ],
    },
    ...(model
      ? [
          {
            title: 'Model',
            rows: [
              { label: 'Parameters', value: formatCount(model.parameters) },
              { label: 'Layers', value: String(model.n_layer) },
              { label: 'Heads', value: String(model.n_head) },
              { label: 'Embedding size', value: String(model.n_embd) },
              { label: 'Context length', value: String(model.n_positions) },
              { label: 'Vocabulary', value: String(model.vocab_size) },
              { label: 'Weights', value: 'Int8' in (status.precision[0] ?? {}) ? 'int8 (one scale per row)' : 'f32' },
            ],
          },
        ]
      : []),
    {
      title: 'Canister',
      rows: [
        { label: 'Heap memory', value: formatBytes(status.heap_bytes) },
        { label: 'Stable memory', value: formatBytes(status.stable_memory_bytes) },
        { label: 'Sessions', value: `${status.sessions} of ${status.max_sessions}` },
        { label: 'Setup instructions', value: formatCount(status.setup_instructions) },
        {
          label: 'Last call',
          value: `${formatCount(status.last_call_instructions)} instructions, ${plural(status.last_call_tokens, 'token')}`,
        },
      ],
    },
  ];
}

/** SHA-256 of lib/model/config.json, the published model's config, computed by the build (vite.config.ts). */
const PUBLISHED_CONFIG_SHA256 = import.meta.env.VITE_PUBLISHED_CONFIG_SHA256 ?? '';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * What is loaded, in a few words: the published model when its config was uploaded, otherwise a random demo model
 * (scripts/dev loads one when the weights were not downloaded); its size and weight precision.
 */
export function modelSummary(status: Status): string | undefined {
  const [model] = status.model;
  if (!status.model_loaded || !model) return undefined;
  const name =
    PUBLISHED_CONFIG_SHA256 && hex(status.config_sha256) === PUBLISHED_CONFIG_SHA256
      ? 'GPT-2 open-instruct'
      : 'Random demo model';
  const precision = 'Int8' in (status.precision[0] ?? {}) ? 'int8' : 'f32';
  return `${name} · ${formatCount(model.parameters)} · ${precision}`;
}
