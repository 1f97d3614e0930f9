// Flags of the scripts' commands (node:util parseArgs) with their usage text.

import { parseArgs } from 'node:util';

/**
 * Parses `argv` against `options` (parseArgs format, plus `help` added). Prints `usage` and exits on --help;
 * throws the usage on unknown flags. Returns { values, positionals }.
 */
export function parseFlags(argv, { options, usage, positionals = false }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new Error(`${e.message}\n${usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}

/** A flag that must be a positive integer. */
export function positiveInteger(value, flag) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} expects a positive integer, got '${value}'`);
  return n;
}
