// Runs target/test-canister.wasm in V8 with a minimal ic0 shim (one message at a time, no cycles, no
// certification) to prove the built module works. The full local replica lives in local-replica/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const WASM = new URL('../../../target/test-canister.wasm', import.meta.url);
const PAGE = 65536;

class Trap extends Error {}

/** Instantiates the canister with an ic0 shim; call(method, argBytes) runs one entry point. */
async function loadCanister({ controller = Uint8Array.of(1, 2, 3), caller = Uint8Array.of(1, 2, 3) } = {}) {
  let memory;
  let message;
  let stable = new Uint8Array(0);
  const logs = [];
  const bytes = (ptr, len) => new Uint8Array(memory.buffer, ptr, len);
  const text = (ptr, len) => new TextDecoder().decode(bytes(ptr, len));
  const copyOut = (source) => (dst, offset, size) => bytes(dst, size).set(source.subarray(offset, offset + size));
  const ic0 = {
    msg_arg_data_size: () => message.arg.length,
    msg_arg_data_copy: (dst, off, size) => copyOut(message.arg)(dst, off, size),
    msg_caller_size: () => caller.length,
    msg_caller_copy: (dst, off, size) => copyOut(caller)(dst, off, size),
    msg_reply_data_append: (src, size) => { message.reply.push(...bytes(src, size)); },
    msg_reply: () => { message.replied = true; },
    msg_reject: (src, size) => { message.rejected = text(src, size); },
    accept_message: () => {},
    time: () => 1_700_000_000_000_000_000n,
    performance_counter: (type) => BigInt(1000 + type),
    is_controller: (src, size) => (Buffer.compare(bytes(src, size), controller) === 0 ? 1 : 0),
    debug_print: (src, size) => { logs.push(text(src, size)); },
    trap: (src, size) => { throw new Trap(text(src, size)); },
    stable64_size: () => BigInt(stable.length / PAGE),
    stable64_grow: (pages) => {
      const old = stable.length / PAGE;
      const grown = new Uint8Array((old + Number(pages)) * PAGE);
      grown.set(stable);
      stable = grown;
      return BigInt(old);
    },
    stable64_write: (offset, src, size) => { stable.set(bytes(Number(src), Number(size)), Number(offset)); },
    stable64_read: (dst, offset, size) => { bytes(Number(dst), Number(size)).set(stable.subarray(Number(offset), Number(offset + size))); },
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(WASM), { ic0 });
  memory = instance.exports.memory;
  const call = (kind, method, arg = new Uint8Array(0)) => {
    message = { arg: Uint8Array.from(arg), reply: [], replied: false, rejected: null };
    try {
      instance.exports[`canister_${kind} ${method}`]();
    } catch (e) {
      return { trapped: e instanceof Trap ? e.message : `Wasm trap: ${e.message}` };
    }
    return { reply: Uint8Array.from(message.reply), replied: message.replied, rejected: message.rejected };
  };
  return { call, logs, exports: instance.exports };
}

const le64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const le32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

test('module imports only ic0 and exports the test methods', () => {
  const module = new WebAssembly.Module(readFileSync(WASM));
  assert.deepEqual([...new Set(WebAssembly.Module.imports(module).map((i) => i.module))], ['ic0']);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ['canister_update echo', 'canister_query hello', 'canister_query stable_read_floats']) {
    assert.ok(exports.includes(name), name);
  }
});

test('echo replies with its argument bytes, repeatedly', async () => {
  const { call } = await loadCanister();
  for (const arg of [Buffer.from('hello IC'), Buffer.alloc(0), Buffer.alloc(100_000, 7)]) {
    const result = call('update', 'echo', arg);
    assert.equal(result.replied, true);
    assert.deepEqual(Buffer.from(result.reply), arg);
  }
});

test('hello replies Candid text', async () => {
  const { call } = await loadCanister();
  const reply = Buffer.from(call('query', 'hello').reply);
  const expected = 'hello from the test canister';
  assert.deepEqual(reply, Buffer.concat([Buffer.from('DIDL\x00\x01\x71'), Buffer.from([expected.length]), Buffer.from(expected)]));
});

test('stable memory: bytes round trip, growth, floats straight into a float[]', async () => {
  const { call } = await loadCanister();
  const data = Buffer.from('stable bytes across pages');
  const offset = 3 * PAGE - 5;                      // crosses a page boundary, forces growth to 4 pages
  assert.deepEqual(call('update', 'stable_write', Buffer.concat([le64(offset), data])).reply.length, 0);
  assert.equal(Buffer.from(call('query', 'stable_size').reply).readBigUInt64LE(), 4n);
  assert.deepEqual(Buffer.from(call('query', 'stable_read', Buffer.concat([le64(offset), le32(data.length)])).reply), data);

  const floats = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5 - 100);
  call('update', 'stable_write', Buffer.concat([le64(1024), Buffer.from(floats.buffer)]));
  const reply = Buffer.from(call('query', 'stable_read_floats', Buffer.concat([le64(1024), le32(floats.length)])).reply);
  assert.deepEqual(new Uint8Array(reply.subarray(4)), new Uint8Array(floats.buffer));
  assert.equal(reply.readFloatLE(0), Math.fround(floats.reduce((a, b) => Math.fround(a + b), 0)));
});

test('counters, time and controller checks reach ic0', async () => {
  const { call } = await loadCanister({ controller: Uint8Array.of(9, 9), caller: Uint8Array.of(4, 5) });
  const counters = Buffer.from(call('query', 'counters').reply);
  assert.equal(counters.readBigUInt64LE(0), 1000n);
  assert.equal(counters.readBigUInt64LE(8), 1001n);
  assert.equal(counters.readBigUInt64LE(16), 1_700_000_000_000_000_000n);
  assert.deepEqual([...call('query', 'is_controller', Uint8Array.of(9, 9)).reply], [1, 4, 5]);
  assert.deepEqual([...call('query', 'is_controller', Uint8Array.of(4, 5)).reply], [0, 4, 5]);
});

test('traps carry their message; the canister keeps working afterwards', async () => {
  const { call } = await loadCanister();
  assert.deepEqual(call('update', 'trap'), { trapped: 'trap requested' });
  const thrown = call('update', 'throw').trapped;
  assert.match(thrown, /thrown on purpose/);
  assert.deepEqual(Buffer.from(call('update', 'echo', Buffer.from('still alive')).reply), Buffer.from('still alive'));
});

test('merged SIMD kernel computes a dot product over Java arrays', async () => {
  const { call } = await loadCanister();
  for (const n of [0, 3, 4, 768, 1001]) {
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.5));
    const reply = Buffer.from(call('query', 'kernel_dot', Buffer.concat([Buffer.from(a.buffer), Buffer.from(b.buffer)])).reply);
    const expected = a.reduce((sum, x, i) => sum + x * b[i], 0);
    assert.ok(Math.abs(reply.readFloatLE(0) - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `n=${n}`);
  }
});

test('every SIMD kernel agrees with the Java kernels inside the Wasm, odd and unaligned shapes included', async () => {
  const { call } = await loadCanister();
  // [rows, n, batch, offset]: tails of every size, offsets that misalign every operand, batches around the groups.
  const shapes = [[1, 1, 1, 0], [3, 5, 2, 1], [7, 17, 3, 2], [9, 63, 5, 3], [17, 65, 8, 1], [33, 767, 9, 3],
    [64, 768, 1, 0], [5, 769, 16, 2], [31, 3072, 4, 1], [0, 8, 2, 1], [4, 0, 2, 0]];
  for (const [seed, [rows, n, batch, offset]] of shapes.entries()) {
    const arg = Buffer.concat([le32(seed + 1), le32(rows), le32(n), le32(batch), le32(offset)]);
    const reply = Buffer.from(call('query', 'kernels_vs_java', arg).reply);
    const [matmul, weighted, transpose, q8] = [0, 4, 8, 12].map((at) => reply.readFloatLE(at));
    const shape = `rows ${rows}, n ${n}, batch ${batch}, offset ${offset}`;
    // f32 sums in another order: a few ulps of the largest term per element.
    assert.ok(matmul <= 1e-5 * Math.max(1, Math.sqrt(n)), `matmul ${matmul} (${shape})`);
    assert.ok(weighted <= 1e-5 * Math.max(1, Math.sqrt(rows)), `weighted_row_sum ${weighted} (${shape})`);
    assert.equal(transpose, 0, `transpose (${shape})`);
    assert.equal(q8, 0, `matmul_q8 is exact integer arithmetic (${shape})`);
  }
});

test('the Candid codec inside the Wasm decodes and re-encodes a rich value to the same value', async () => {
  const { IDL } = await import('@icp-sdk/core/candid');
  const { Principal } = await import('@icp-sdk/core/principal');
  const { call } = await loadCanister();
  const Tree = IDL.Rec();
  Tree.fill(IDL.Variant({ leaf: IDL.Int32, node: IDL.Record({ left: Tree, right: Tree, label: IDL.Opt(IDL.Text) }) }));
  const types = [
    IDL.Record({ name: IDL.Text, id: IDL.Nat64, score: IDL.Float64, ratio: IDL.Float32, ok: IDL.Bool, big: IDL.Nat, neg: IDL.Int,
      small: IDL.Int8, tags: IDL.Vec(IDL.Text), blob: IDL.Vec(IDL.Nat8), maybe: IDL.Opt(IDL.Nat16), nothing: IDL.Null,
      owner: IDL.Principal, tuple: IDL.Tuple(IDL.Nat32, IDL.Int64) }),
    Tree,
    IDL.Vec(IDL.Variant({ Ok: IDL.Null, Err: IDL.Text })),
  ];
  const values = [
    { name: 'Grüße 🦀', id: 18446744073709551615n, score: -1.5e300, ratio: 0.25, ok: true, big: 12345678901234n, neg: -42n,
      small: -128, tags: ['a', '', 'ccc'], blob: Uint8Array.of(0, 255, 7), maybe: [65535], nothing: null,
      owner: Principal.fromText('aaaaa-aa'), tuple: [4294967295, -9007199254740993n] },
    { node: { left: { leaf: -1 }, right: { node: { left: { leaf: 2 }, right: { leaf: 3 }, label: [] } }, label: ['root'] } },
    [{ Ok: null }, { Err: 'bad' }],
  ];
  // Plain Uint8Arrays: the agent's decoder reads a Buffer's whole (pooled) ArrayBuffer.
  const arg = new Uint8Array(IDL.encode(types, values));
  const reply = call('update', 'candid_echo', arg).reply;
  // Type tables may be laid out differently (both valid), so the official decoder compares the values.
  const echoed = IDL.decode(types, reply);
  assert.deepEqual(echoed, IDL.decode(types, arg));
  assert.deepEqual(echoed[0].tags, values[0].tags);
  assert.equal(echoed[0].name, values[0].name);
});
