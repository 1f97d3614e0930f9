// Stable memory kept in JS, in 64 KiB Wasm pages allocated on first write.
// All accesses go through ic0, so dirty 4 KiB OS pages are tracked here:
//  * per message (an undo journal, for rollback and the IC's dirty-page fee),
//  * since the last persistence flush (for cheap incremental state files).

export const WASM_PAGE = 65536;
export const OS_PAGE = 4096;
const OS_PAGES_PER_WASM_PAGE = WASM_PAGE / OS_PAGE;

export class StableMemory {
  constructor({ maxPages }) {
    this.maxPages = maxPages;
    this.sizePages = 0;
    this.pages = []; // index -> Uint8Array(WASM_PAGE) | undefined (all zero)
    this.journal = null; // Map osPage -> Uint8Array copy | null (was zero)
    this.sizeAtStart = 0;
    this.unflushed = new Set(); // OS pages written since the last flush
    this.sizeChanged = false;
    this.fresh = true; // not yet written to a state file at all
  }

  get sizeBytes() {
    return this.sizePages * WASM_PAGE;
  }

  /** Starts a message: later writes can be rolled back. */
  begin() {
    this.journal = new Map();
    this.sizeAtStart = this.sizePages;
  }

  commit() {
    for (const p of this.journal.keys()) this.unflushed.add(p);
    if (this.sizePages !== this.sizeAtStart) this.sizeChanged = true;
    this.journal = null;
  }

  rollback() {
    for (const [osPage, saved] of this.journal) {
      const page = this.pages[Math.floor(osPage / OS_PAGES_PER_WASM_PAGE)];
      const at = (osPage % OS_PAGES_PER_WASM_PAGE) * OS_PAGE;
      if (saved) page.set(saved, at);
      else page.fill(0, at, at + OS_PAGE);
    }
    for (let i = this.sizeAtStart; i < this.sizePages; i++) this.pages[i] = undefined;
    this.sizePages = this.sizeAtStart;
    this.journal = null;
  }

  /** Returns the old size in pages, or -1 if the new size would exceed the limit. */
  grow(newPages) {
    const old = this.sizePages;
    if (old + newPages > this.maxPages) return -1;
    this.sizePages = old + newPages;
    return old;
  }

  inBounds(offset, size) {
    return offset + size <= this.sizeBytes;
  }

  /** Copies stable[offset, offset+size) into dst (a Uint8Array) at dstOffset. */
  read(dst, dstOffset, offset, size) {
    let done = 0;
    while (done < size) {
      const pos = offset + done;
      const pageIndex = Math.floor(pos / WASM_PAGE);
      const inPage = pos % WASM_PAGE;
      const n = Math.min(size - done, WASM_PAGE - inPage);
      const page = this.pages[pageIndex];
      if (page) dst.set(page.subarray(inPage, inPage + n), dstOffset + done);
      else dst.fill(0, dstOffset + done, dstOffset + done + n);
      done += n;
    }
  }

  /**
   * Copies src into stable memory at offset.
   * @returns the number of OS pages dirtied for the first time in this message
   */
  write(offset, src) {
    let newlyDirty = 0;
    if (src.length === 0) return 0;
    const firstOs = Math.floor(offset / OS_PAGE);
    const lastOs = Math.floor((offset + src.length - 1) / OS_PAGE);
    for (let os = firstOs; os <= lastOs; os++) {
      if (this.journal && !this.journal.has(os)) {
        const page = this.pages[Math.floor(os / OS_PAGES_PER_WASM_PAGE)];
        const at = (os % OS_PAGES_PER_WASM_PAGE) * OS_PAGE;
        this.journal.set(os, page ? page.slice(at, at + OS_PAGE) : null);
        newlyDirty++;
      }
    }
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const pageIndex = Math.floor(pos / WASM_PAGE);
      const inPage = pos % WASM_PAGE;
      const n = Math.min(src.length - done, WASM_PAGE - inPage);
      let page = this.pages[pageIndex];
      if (!page) page = this.pages[pageIndex] = new Uint8Array(WASM_PAGE);
      page.set(src.subarray(done, done + n), inPage);
      done += n;
    }
    return newlyDirty;
  }

  /** Returns and clears the set of OS pages written since the last call. */
  takeUnflushed() {
    const pages = [...this.unflushed].sort((a, b) => a - b);
    this.unflushed.clear();
    const { sizeChanged, fresh } = this;
    this.sizeChanged = false;
    this.fresh = false;
    return { pages, sizeChanged, fresh };
  }

  /** Indices of the OS pages of all allocated (possibly non-zero) Wasm pages. */
  allocatedOsPages() {
    const out = [];
    this.pages.forEach((page, i) => {
      if (page) for (let j = 0; j < OS_PAGES_PER_WASM_PAGE; j++) out.push(i * OS_PAGES_PER_WASM_PAGE + j);
    });
    return out;
  }

  /** The bytes of one OS page (zeros if never written). */
  osPageBytes(osPage) {
    const page = this.pages[Math.floor(osPage / OS_PAGES_PER_WASM_PAGE)];
    const at = (osPage % OS_PAGES_PER_WASM_PAGE) * OS_PAGE;
    return page ? page.subarray(at, at + OS_PAGE) : new Uint8Array(OS_PAGE);
  }

  /** Loads the whole content (used when restoring persisted state). */
  load(sizePages, readInto) {
    this.fresh = false;
    this.sizePages = sizePages;
    this.pages = [];
    const buf = new Uint8Array(WASM_PAGE);
    for (let i = 0; i < sizePages; i++) {
      readInto(buf, i * WASM_PAGE);
      if (buf.some((b) => b !== 0)) this.pages[i] = buf.slice();
    }
  }
}
