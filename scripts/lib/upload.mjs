// Uploading one file to the canister: what to do given what already landed, and the two uploaders on the official
// agent: parallel chunks (put_*_chunk, several calls in flight, resumed from the chunks the canister lacks) and
// sequential appends (append_*, the next chunk read while the current one is in flight). Both retry and show progress.

import crypto from 'node:crypto';
import fs from 'node:fs';
import { describeError } from './errors.mjs';
import { unwrap } from './model-canister.mjs';
import { formatBytes, ProgressBar } from './progress.mjs';
import { logRetry, withRetry } from './retry.mjs';

/**
 * Bytes per append, as ic-file-uploader sends them: 2,000,012 bytes of Candid fit the 2 MiB ingress limit. Also the
 * fixed size of a parallel chunk: chunk id × MAX_CHUNK_SIZE is its offset in the file.
 */
export const MAX_CHUNK_SIZE = 2_000_000;
/** The concurrent put_*_chunk calls of the parallel uploader unless told otherwise (as ic-file-uploader --parallel). */
export const DEFAULT_CONCURRENCY = 4;

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

/** The number of parallel chunks of a file of `size` bytes. */
export const chunkCount = (size) => Math.ceil(size / MAX_CHUNK_SIZE);

/**
 * The parallel uploader: asks the canister which chunks of the file it lacks (missing_*_chunks), sends them with
 * `concurrency` put_*_chunk calls in flight (a chunk may land twice: the canister takes it again), then calls
 * finish_*_upload until the canister has checked every chunk and computed the SHA-256. Bytes appended sequentially
 * before are cleared first, since chunks start from an empty file. `signal` stops sending new chunks.
 */
export function chunkUploader(actor, {
  concurrency = DEFAULT_CONCURRENCY, progress = (options) => new ProgressBar(options), signal, retry = {},
  log = (line) => process.stderr.write(`${line}\n`),
} = {}) {
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  const retrying = (what, operation) => withRetry(operation, { onRetry: logRetry(what), ...retry });

  async function sendChunks(file, path, size, ids) {
    const bytesOf = (id) => Math.min(MAX_CHUNK_SIZE, size - id * MAX_CHUNK_SIZE);
    let sent = size - ids.reduce((n, id) => n + bytesOf(id), 0);
    const bar = progress({ label: file.fileName, total: size, startBytes: sent });
    bar.update(sent);
    const queue = [...ids];
    let failure = null;
    const handle = await fs.promises.open(path, 'r');
    const worker = async () => {
      while (queue.length && !failure && !signal?.aborted) {
        const id = queue.shift();
        const bytes = Buffer.alloc(bytesOf(id));
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, id * MAX_CHUNK_SIZE);
        if (bytesRead !== bytes.length) throw new Error(`${path} changed while it was being uploaded`);
        try {
          await retrying(`${file.put} ${id}`, () => actor[file.put](id, bytes));
        } catch (e) {
          throw new Error(`${file.fileName}: ${file.put}(${id}) failed: ${describeError(e)}`);
        }
        sent += bytes.length;
        bar.update(sent);
      }
    };
    try {
      const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, ids.length) }, () => worker().catch((e) => {
        failure ??= e;
        throw e;
      })));
      if (failure) throw failure;
      if (results.some((r) => r.status === 'rejected')) throw results.find((r) => r.status === 'rejected').reason;
    } finally {
      await handle.close();
      bar.finish();
    }
    if (signal?.aborted && queue.length) {
      throw new UploadInterrupted(`${file.fileName}: upload interrupted with ${queue.length} chunks to go; run the same command again to resume`);
    }
  }

  return {
    name: `agent, ${concurrency} chunks in flight`,
    call: (method) => retrying(method, async () => unwrap(await actor[method](), method)),
    clear: (file) => retrying(file.clear, () => actor[file.clear]()),
    async upload(file, path, landed, size) {
      const missingChunks = () => retrying(file.missing, async () => Array.from(await actor[file.missing](BigInt(size)), Number));
      let ids = await missingChunks();
      if (landed > 0 && ids.length === chunkCount(size)) {
        await this.clear(file); // appended bytes, not chunks
        ids = await missingChunks();
      }
      await sendChunks(file, path, size, ids);
      for (;;) {
        const progressed = unwrap(await retrying(file.finish, () => actor[file.finish](BigInt(size))), file.finish);
        if (progressed.done) return;
        log(`${file.fileName}: the canister has hashed ${formatBytes(Number(progressed.hashed_bytes))} of ${formatBytes(size)}`);
      }
    },
  };
}
