// A progress bar on stderr for uploads: bytes, percent, MB/s and ETA.

const MB = 1_000_000;

export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < MB) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** h:mm:ss or m:ss. */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/**
 * One progress line, e.g. `model.safetensors [#####...............]  127.6/510.4 MB  25.0%  12.3 MB/s  ETA 0:31`.
 * The rate counts only bytes sent since `startBytes` (a resumed upload starts there).
 */
export function formatProgress({ label, done, total, startBytes = 0, elapsedMs, width = 20 }) {
  const fraction = total > 0 ? done / total : 1;
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? ((done - startBytes) / elapsedMs) * 1000 : 0;
  const eta = done >= total ? 0 : rate > 0 ? (total - done) / rate : Infinity;
  const amount = total >= MB ? `${(done / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB` : `${done}/${total} B`;
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]  ${amount}  ${(fraction * 100).toFixed(1)}%`
    + `  ${(rate / MB).toFixed(1)} MB/s  ETA ${formatDuration(eta)}`;
}

/** Redraws one line on a terminal; elsewhere (logs, CI) prints a line at most every `intervalMs`. */
export class ProgressBar {
  constructor({ label, total, startBytes = 0, stream = process.stderr, intervalMs = 5000, now = () => performance.now() }) {
    Object.assign(this, { label, total, startBytes, stream, intervalMs, now });
    this.started = now();
    this.lastPrinted = this.started; // off a terminal, the first line comes after intervalMs (or at the end)
  }

  update(done) {
    const line = formatProgress({ label: this.label, done, total: this.total, startBytes: this.startBytes, elapsedMs: this.now() - this.started });
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
    } else if (done >= this.total || this.now() - this.lastPrinted >= this.intervalMs) {
      this.stream.write(`${line}\n`);
      this.lastPrinted = this.now();
    }
  }

  finish() {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
