export interface Exchange {
  user: string;
  assistant: string;
}

/** Room left for the answer in GPT-2's 1024-token context (about 4 characters per token). */
const MAX_TRANSCRIPT_CHARS = 2400;

/**
 * One prompt that carries the earlier exchanges as plain text, for a fresh canister session
 * (after the canister forgot the old one, or to regenerate without the discarded answer).
 * The canister frames the prompt itself and does not parse framing typed by users, so the
 * transcript uses plain "User:"/"Assistant:" labels. A first message replays as itself.
 */
export function replayPrompt(history: readonly Exchange[], message: string): string {
  if (history.length === 0) return message;
  const transcript = history.map((e) => `User: ${e.user}\nAssistant: ${e.assistant}`).join('\n\n');
  return `${keepEnd(transcript, MAX_TRANSCRIPT_CHARS)}\n\nUser: ${message}`;
}

/** The last `limit` characters, starting at a line boundary when one is near. */
function keepEnd(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const tail = text.slice(-limit);
  const lineStart = tail.indexOf('\n');
  return (lineStart >= 0 && lineStart < limit / 4 ? tail.slice(lineStart + 1) : tail).trimStart();
}
