// Shared helpers for the end-to-end tests: Debian's Chromium driven by playwright-core against a
// page served by the project's local replica (or any deployment), given as CHAT_URL.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = new URL('./screenshots/', import.meta.url);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The headers `public/.ic-assets.json5` gives every file. The local replica serves the page without
 * them, so the tests add them, and the page runs under the CSP it gets on the IC.
 */
async function servedHeaders() {
  const json5 = await readFile(new URL('../public/.ic-assets.json5', import.meta.url), 'utf8');
  const json = json5
    .replace(/^\s*\/\/.*$/gm, '') // comment lines
    .replace(/^(\s*)([A-Za-z_]+):/gm, '$1"$2":') // bare keys
    .replace(/,(\s*[}\]])/g, '$1'); // trailing commas
  return JSON.parse(json).find((rule) => rule.match === '**/*').headers;
}

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

/** `test(...)` options that skip, with the reason, when the environment variable is missing. */
export function needsUrl(variable, what) {
  return process.env[variable] ? {} : { skip: `set ${variable} to the URL of ${what}` };
}

/**
 * A fresh browser profile (temporary --user-data-dir) with one page. Console errors and CSP
 * violations are collected so tests can assert the page ran cleanly.
 */
export async function openBrowser({ viewport = DESKTOP } = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'gpt2-chat-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const headers = await servedHeaders();
  await context.route(
    (url) => !url.pathname.startsWith('/api/'),
    async (route) => {
      // A kept-alive connection the server closes just as it is reused resets once; the browser would retry it.
      const response = await route.fetch().catch(() => route.fetch());
      await route.fulfill({ response, headers: { ...response.headers(), ...headers } });
    },
  );
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('dialog', (dialog) => dialog.accept());
  return {
    page,
    context,
    consoleErrors,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export const byTestId = (page, testId) => page.locator(`[data-testid="${testId}"]`);

/** Opens the chat and waits until the page has asked the canister for its status. */
export async function openChat(page, url) {
  await page.goto(url);
  await page.waitForSelector('[data-testid="model-pill"]:not([data-state="checking"])', { timeout: 60_000 });
}

/** Fills the settings dialog; only the given fields change. */
export async function applySettings(page, settings) {
  // On narrow screens the settings button lives in the collapsed sidebar.
  if (await byTestId(page, 'menu-toggle').isVisible()) await byTestId(page, 'menu-toggle').click();
  await byTestId(page, 'open-settings').click();
  const fields = {
    maxTokens: 'setting-max-tokens',
    temperature: 'setting-temperature',
    topK: 'setting-top-k',
    topP: 'setting-top-p',
    seed: 'setting-seed',
    callBudget: 'setting-call-budget',
  };
  if (settings.randomSeed !== undefined) await byTestId(page, 'setting-random-seed').setChecked(settings.randomSeed);
  for (const [name, testId] of Object.entries(fields)) {
    if (settings[name] === undefined) continue;
    if (name === 'callBudget') await page.locator('details.advanced').evaluate((d) => (d.open = true));
    await byTestId(page, testId).fill(String(settings[name]));
  }
  await byTestId(page, 'settings-save').click();
  await byTestId(page, 'settings-dialog').waitFor({ state: 'hidden' });
}

export async function send(page, text) {
  await byTestId(page, 'prompt-input').fill(text);
  await byTestId(page, 'prompt-input').press('Enter');
}

export const answers = (page) => page.locator('[data-testid="message"][data-role="assistant"]');

/** Waits for the n-th answer (0-based) to end (done, stopped or error) and returns its details. */
export async function finishedAnswer(page, index, timeout = 180_000) {
  const answer = answers(page).nth(index);
  await answer.and(page.locator('[data-outcome]')).waitFor({ timeout });
  return {
    outcome: await answer.getAttribute('data-outcome'),
    text: (await answer.locator('[data-testid="message-content"]').innerText()).trim(),
    stats: parseStats(await answer.locator('[data-testid="answer-stats"]').innerText()),
    error: (await answer.locator('[data-testid="message-error"]').count())
      ? await answer.locator('[data-testid="message-error"]').innerText()
      : undefined,
  };
}

/** "3 calls · 12 tokens · 4.1 tokens/s · 1,040 in context · 1.2 B instructions · 4.1 s · seed 42 · token limit" */
export function parseStats(line) {
  const number = (pattern) => Number(line.match(pattern)?.[1]?.replaceAll(',', '') ?? NaN);
  return {
    line,
    calls: number(/([\d,]+) calls?\b/),
    tokens: number(/([\d,]+) tokens?\b(?!\/)/),
    context: number(/([\d,]+) in context/),
    seed: line.match(/seed (\d+)/)?.[1],
  };
}

/**
 * The conversations the page keeps in IndexedDB, read in the page. A database the page has not created yet
 * reads as none (and is not created).
 */
export function storedConversations(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('gpt2-chat');
        open.onupgradeneeded = () => open.transaction.abort();
        open.onerror = () => resolve([]);
        open.onsuccess = () => {
          const request = open.result.transaction('conversations').objectStore('conversations').getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

/** Writes a conversation record as the page would (the page must have opened its database). */
export function putConversation(page, conversation) {
  return page.evaluate(
    (record) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('gpt2-chat');
        open.onsuccess = () => {
          const transaction = open.result.transaction('conversations', 'readwrite');
          transaction.objectStore('conversations').put(record);
          transaction.oncomplete = () => resolve();
          transaction.onerror = () => reject(transaction.error);
        };
        open.onerror = () => reject(open.error);
      }),
    conversation,
  );
}

/** Counts the update calls (start_turn, continue_turn, …) the page sends from now on. */
export function countUpdateCalls(page) {
  const calls = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/api\/v\d\/canister\/[^/]+\/call$/.test(new URL(request.url()).pathname))
      calls.push(request.url());
  });
  return () => calls.length;
}

export const cspViolations = (errors) => errors.filter((e) => /Content Security Policy/i.test(e));

/** Saves a screenshot as e2e/screenshots/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname });
}

/** Waits until the n-th answer (0-based) shows at least `count` generated tokens in its stats. */
export function tokensShown(page, count, index = 0) {
  return page.waitForFunction(
    ([n, i]) => {
      const stats = document.querySelectorAll('[data-role="assistant"] [data-testid="answer-stats"]')[i];
      const match = stats?.textContent.match(/([\d,]+) tokens?\b(?!\/)/);
      return match && Number(match[1].replaceAll(',', '')) >= n;
    },
    [count, index],
    { timeout: 300_000 },
  );
}

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations as "impact rule: selector" lines, so a failure says what to fix. */
export async function axeViolations(page) {
  // evaluate() runs outside the page's CSP, which forbids injected scripts.
  await page.evaluate(axeSource);
  // Colours read mid-transition (a theme just switched: backgrounds fade over 0.15 s) would be neither theme's.
  await page.evaluate(() => Promise.all(document.getAnimations().map((animation) => animation.finished)));
  const { violations } = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return violations.flatMap((v) => v.nodes.map((node) => `${v.impact} ${v.id}: ${node.target.join(' ')}`));
}
