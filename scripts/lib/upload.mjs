// Uploading one file to the canister: what to do given what already landed, and the uploader on the official
// agent (sequential appends, the next chunk read while the current one is in flight, retries, progress).

import crypto from 'node:crypto';
import fs from 'node:fs';
import { describeError } from './errors.mjs';
import { unwrap } from './model-canister.mjs';
import { ProgressBar } from './progress.mjs';
import { logRetry, withRetry } from './retry.mjs';

/** Bytes per append, as ic-file-uploader sends them: 2,000,012 bytes of Candid fit the 2 MiB ingress limit. */
export const MAX_CHUNK_SIZE = 2_000_000;

/**
 * What to do with a file of `fileSize` bytes when the canister holds `landedBytes` of it, given the sha256 (hex)
 * the canister reports for those bytes (null if it reports none) and that of the file's first `landedBytes`:
 * { action: 'upload' | 'resume' | 'skip' | 'restart', from, reason }. 'restart' means clear and start over.
 */
export function planUpload({ fileSize, landedBytes, landedSha256, prefixSha256 }) {
  if (landedBytes > fileSize) {
    return { action: 'restart', from: 0, reason: `the canister holds ${landedBytes} bytes, more than the file's ${fileSize}` };
  }
  if (landedBytes > 0 && landedSha256 !== null && landedSha256 !== prefixSha256) {
    return { action: 'restart', from: 0, reason: `the ${landedBytes} bytes on the canister differ from the file's (sha256)` };
  }
  const verified = landedSha256 === null ? 'length only: the canister reports no sha256' : 'sha256 equal';
  if (landedBytes === fileSize) return { action: 'skip', from: fileSize, reason: `already on the canister (${verified})` };
  if (landedBytes > 0) return { action: 'resume', from: landedBytes, reason: `resuming after ${landedBytes} bytes (${verified})` };
  return { action: 'upload', from: 0, reason: 'not on the canister yet' };
}

/** The sha256 (hex) of the file's first `prefixLength` bytes (null if the file is shorter) and of the whole file. */
export async function hashFile(file, prefixLength) {
  const hash = crypto.createHash('sha256');
  let prefixSha256 = prefixLength === 0 ? hash.copy().digest('hex') : null;
  let position = 0;
  for await (const block of fs.createReadStream(file, { highWaterMark: 8 << 20 })) {
    const split = prefixLength - position;
    if (prefixSha256 === null && split <= block.length) {
      hash.update(block.subarray(0, split));
      prefixSha256 = hash.copy().digest('hex');
      hash.update(block.subarray(split));
    } else {
      hash.update(block);
    }
    position += block.length;
  }
  return { prefixSha256, fileSha256: hash.digest('hex') };
}

/** [start, end) byte ranges of the chunks that send bytes `from`..`size`. */
export function chunkRanges(from, size, chunkSize) {
  if (!(chunkSize > 0 && chunkSize <= MAX_CHUNK_SIZE)) throw new Error(`chunk size must be 1..${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`);
  const ranges = [];
  for (let start = from; start < size; start += chunkSize) ranges.push([start, Math.min(size, start + chunkSize)]);
  return ranges;
}

/** Yields { start, end, bytes } in order; the next chunk is read while the caller sends the current one. */
async function* readChunks(file, ranges) {
  const handle = await fs.promises.open(file, 'r');
  const read = async ([start, end]) => {
    const bytes = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
    if (bytesRead !== bytes.length) throw new Error(`${file} changed while it was being uploaded`);
    return { start, end, bytes };
  };
  try {
    let next = ranges.length ? read(ranges[0]) : null;
    for (let i = 0; i < ranges.length; i++) {
      const chunk = await next;
      next = i + 1 < ranges.length ? read(ranges[i + 1]) : null;
      next?.catch(() => {}); // surfaces when awaited; not an unhandled rejection meanwhile
      yield chunk;
    }
  } finally {
    await handle.close();
  }
}

export class UploadInterrupted extends Error {}

/**
 * The uploader on the official agent. `chunkSize(fileSize)` gives the bytes per append (tests use small ones);
 * `progress({ label, total, startBytes })` makes the progress display; `signal` stops between chunks.
 */
export function agentUploader(actor, {
  chunkSize = () => MAX_CHUNK_SIZE, progress = (options) => new ProgressBar(options), signal, retry = {},
} = {}) {
  const retrying = (what, operation) => withRetry(operation, { onRetry: logRetry(what), ...retry });

  /** Appends one chunk; after a failed attempt it asks what landed, since the failed append may have executed. */
  const append = (file, { start, end, bytes }) => retrying(`${file.append} at byte ${start}`, async (attempt) => {
    if (attempt > 1) {
      const landed = Number(await actor[file.length]());
      if (landed === end) return;
      if (landed !== start) throw new Error(`${file.fileName}: the canister holds ${landed} bytes while ${start} were expected; run again to resume`);
    }
    await actor[file.append](bytes);
  });

  return {
    name: 'agent',
    call: (method) => retrying(method, async () => unwrap(await actor[method](), method)),
    clear: (file) => retrying(file.clear, () => actor[file.clear]()),
    async upload(file, path, from, size) {
      const bar = progress({ label: file.fileName, total: size, startBytes: from });
      bar.update(from);
      try {
        for await (const chunk of readChunks(path, chunkRanges(from, size, chunkSize(size)))) {
          if (signal?.aborted) throw new UploadInterrupted(`${file.fileName}: upload interrupted after ${chunk.start} of ${size} bytes; run the same command again to resume`);
          try {
            await append(file, chunk);
          } catch (e) {
            throw new Error(`${file.fileName}: ${file.append} failed at byte ${chunk.start}: ${describeError(e)}`);
          }
          bar.update(chunk.end);
        }
      } finally {
        bar.finish();
      }
    },
  };
}
