import type { MoveReason } from './fleet-rules.js';
import type { StopReasonName } from './turn';

export interface AnswerStats {
  calls: number;
  tokens: number;
  /** Tokens in the conversation's canister session after this answer. */
  contextTokens: number;
  /** nat64 as a decimal string (JSON has no BigInt). */
  instructions: string;
  elapsedMs: number;
  seed: string;
  stopReason?: StopReasonName;
}

export type Outcome = 'done' | 'stopped' | 'error';

export interface ChatMessage {
  id: string;
  /** The message this one answers or follows; null for a conversation's first message. */
  parentId: string | null;
  role: 'user' | 'assistant';
  text: string;
  /**
   * Assistant messages only: how the answer ended. Absent while it is being generated, and on an answer whose
   * generation was interrupted (a reload or a crash) before it ended.
   */
  outcome?: Outcome;
  error?: string;
  /** Written after every call, so an interrupted answer keeps its numbers too. */
  stats?: AnswerStats;
  /** The canister had forgotten the session; the conversation was replayed into a new one. */
  replayed?: boolean;
  /**
   * Assistant messages only: its canister could not serve this answer, or a new conversation found its canister
   * crowded, so the conversation moved and was replayed.
   */
  moved?: { from: string; to: string; reason: MoveReason };
  /** Tokens generated while the page was away, whose text never arrived. */
  missingTokens?: number;
  /**
   * Assistant messages only: the canister session whose KV cache ends with this answer (nat64 as a decimal string).
   * A follow-up continues it; a session belongs to one message at a time.
   */
  sessionId?: string;
}

/**
 * A conversation is a tree: editing a message or regenerating an answer adds a sibling (a version), and
 * `shown` says which child of each message is on screen.
 */
export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  /** Every message of every version, oldest first. */
  messages: ChatMessage[];
  /** Parent id (ROOT for the first messages) → id of the child shown; the newest child when absent. */
  shown: Record<string, string>;
  /**
   * The canister of the fleet that holds the conversation's sessions (every `sessionId` of its messages). Records from
   * before the fleet have none: their sessions are on the fleet's first canister, the one canister the page knew.
   */
  canisterId?: string;
}

export const ROOT = '';
const TITLE_LENGTH = 60;

export function makeId(): string {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain-http LAN addresses too.
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0].trim();
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line || 'New chat';
}

export function newConversation(now = Date.now()): Conversation {
  return { id: makeId(), title: 'New chat', createdAt: now, updatedAt: now, messages: [], shown: {} };
}

const parentKey = (message: ChatMessage) => message.parentId ?? ROOT;

/** The versions of a message: its parent's children, oldest first. */
export function versionsOf(conversation: Conversation, message: ChatMessage): ChatMessage[] {
  return conversation.messages.filter((m) => m.parentId === message.parentId);
}

/** The messages on screen: from the root, the shown child of each message. */
export function visiblePath(conversation: Conversation): ChatMessage[] {
  const children = new Map<string, ChatMessage[]>();
  for (const message of conversation.messages) {
    const key = parentKey(message);
    children.set(key, [...(children.get(key) ?? []), message]);
  }
  const path: ChatMessage[] = [];
  for (let key = ROOT, kids = children.get(ROOT); kids; kids = children.get(key)) {
    const next = kids.find((m) => m.id === conversation.shown[key]) ?? kids[kids.length - 1];
    path.push(next);
    key = next.id;
  }
  return path;
}

/** Adds a message as the shown child of its parent. */
export function addMessage(conversation: Conversation, message: ChatMessage): ChatMessage {
  conversation.messages.push(message);
  conversation.shown[parentKey(message)] = message.id;
  return message;
}

/** Shows the version `offset` steps away from `message` (−1: previous, +1: next); false at either end. */
export function showVersion(conversation: Conversation, message: ChatMessage, offset: number): boolean {
  const versions = versionsOf(conversation, message);
  const next = versions[versions.indexOf(message) + offset];
  if (!next) return false;
  conversation.shown[parentKey(message)] = next.id;
  return true;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isSessionId = (v: unknown) => v === undefined || (typeof v === 'string' && /^\d{1,20}$/.test(v));

function isMessage(v: unknown): v is ChatMessage {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    (v.parentId === null || typeof v.parentId === 'string') &&
    (v.role === 'user' || v.role === 'assistant') &&
    typeof v.text === 'string' &&
    isSessionId(v.sessionId)
  );
}

export function isConversation(v: unknown): v is Conversation {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    typeof v.title === 'string' &&
    typeof v.createdAt === 'number' &&
    typeof v.updatedAt === 'number' &&
    Array.isArray(v.messages) &&
    v.messages.every(isMessage) &&
    isObject(v.shown) &&
    Object.values(v.shown).every((id) => typeof id === 'string') &&
    (v.canisterId === undefined || typeof v.canisterId === 'string')
  );
}

/**
 * A conversation as the first version of the page kept it in localStorage (a flat list of messages and one
 * session id) becomes a chain; the session moves to its last answer. Malformed entries give undefined.
 */
export function fromLegacy(v: unknown): Conversation | undefined {
  if (!isObject(v) || !Array.isArray(v.messages) || !isSessionId(v.sessionId)) return undefined;
  const messages: ChatMessage[] = [];
  for (const m of v.messages) {
    if (!isObject(m)) return undefined;
    const message = { ...m, parentId: messages.length ? messages[messages.length - 1].id : null };
    if (!isMessage(message)) return undefined;
    messages.push(message);
  }
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant' && v.sessionId !== undefined) last.sessionId = v.sessionId as string;
  const conversation: Record<string, unknown> = { ...v, messages, shown: {} };
  delete conversation.sessionId;
  return isConversation(conversation) ? conversation : undefined;
}
