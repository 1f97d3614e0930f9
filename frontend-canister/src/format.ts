const SCALES: Array<[number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** 1_234_000_000n → "1.23 B". */
export function formatCount(value: bigint | number | string): string {
  const number = Number(value);
  for (const [scale, suffix] of SCALES) {
    if (number >= scale) return `${(number / scale).toPrecision(3).replace(/\.?0+$/, '')} ${suffix}`;
  }
  return String(number);
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

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
