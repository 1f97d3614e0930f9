const SCALES: Array<[number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
];

const grouped = new Intl.NumberFormat('en-US');

/** 1_234_000_000n → "1.23 B"; 200_000_000 → "200 M" (three significant digits, trailing fraction zeros dropped). */
export function formatCount(value: bigint | number | string): string {
  const number = Number(value);
  for (const [scale, suffix] of SCALES) {
    // Number() drops only zeros after the decimal point ("2.00" → 2, "200" stays 200).
    if (number >= scale) return `${Number((number / scale).toPrecision(3))} ${suffix}`;
  }
  return String(number);
}

/** 1024 → "1,024". */
export function formatInteger(value: number): string {
  return grouped.format(value);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(value: bigint | number): string {
  let number = Number(value);
  let unit = 0;
  while (number >= 1024 && unit < BYTE_UNITS.length - 1) {
    number /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${number} B` : `${number.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Tokens per second over `ms`; undefined until a tenth of a second has passed (the rate would be noise). */
export function formatRate(tokens: number, ms: number): string | undefined {
  if (ms < 100) return undefined;
  const rate = (tokens * 1000) / ms;
  return `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} tokens/s`;
}

export function plural(count: number, noun: string): string {
  return `${formatInteger(count)} ${noun}${count === 1 ? '' : 's'}`;
}
