// The Java side of the canister is generated from candid/model.did: the parser agrees with the official one, each
// method becomes one typed Java method and one entry point, and a .did that the Java implementation no longer
// matches fails the Maven build (on a copy of the build inputs).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateJava, parseDid } from '../candid-java.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MODEL_DID = readFileSync(join(ROOT, 'candid', 'model.did'), 'utf8');

function generate(didText) {
  return generateJava(parseDid(didText), { pkg: 'org.example', interfaceName: 'Api', exportsName: 'Exports',
    implementation: 'Impl', didPath: 'test.did' });
}

test('every method of model.did is parsed with its arguments, results and mode', () => {
  const { methods, types } = parseDid(MODEL_DID);
  assert.equal(methods.length, (MODEL_DID.match(/^\s+\w+ : \(/gm) ?? []).length);
  const generate = methods.find((m) => m.name === 'generate');
  assert.deepEqual(generate.args.map((a) => a.name), ['text', 'nat8', 'float64']);
  assert.deepEqual(generate.returns, [{ kind: 'ref', name: 'TextResult' }]);
  assert.equal(methods.find((m) => m.name === 'status').mode, 'query');
  assert.equal(generate.mode, 'update');
  assert.deepEqual(types.get('Precision'), { kind: 'variant', fields: [
    { name: 'F32', type: { kind: 'prim', name: 'null' } }, { name: 'Int8', type: { kind: 'prim', name: 'null' } }] });
});

test('a method becomes one typed Java method and one entry point that checks its guard and trailing bytes', () => {
  const files = generate(`type R = variant { Ok : text; Err : text };
    service : { echo : (text, nat8) -> (R); count : () -> (nat64) query; put : (blob) -> () }`);
  const api = files['Api.java'];
  const exports = files['Exports.java'];
  assert.match(api, /String echo\(String arg0, int arg1\);/);
  assert.match(api, /long count\(\);/);
  assert.match(api, /void put\(byte\[\] arg0\);/);
  assert.match(exports, /@Export\(name = "canister_update echo"\)/);
  assert.match(exports, /@Export\(name = "canister_query count"\)/);
  const echo = exports.slice(exports.indexOf('canister_update echo'), exports.indexOf('canister_query count'));
  assert.match(echo, /canister\.guard\(Method\.ECHO\)\.require\(authorized\);[\s\S]*in\.text\(\);[\s\S]*in\.nat8\(\);[\s\S]*in\.end\(\);/);
  assert.match(echo, /\}, R_ERR\);/, 'a UserError of a result-shaped method is its Err');
  assert.match(exports, /ErrorReply R_ERR = e -> reply\(R, Variant\.of\("Err", e\.getMessage\(\)\)\);/);
  const put = exports.slice(exports.indexOf('canister_update put'));
  assert.doesNotMatch(put, /_ERR/, 'a method without a result type traps on every error');
});

test('the generator refuses what it cannot represent instead of guessing', () => {
  assert.throws(() => generate('service : { f : (record { a : nat }) -> () }'), /name it with a type definition/);
  assert.throws(() => generate('service : { f : (opt opt nat) -> () }'), /opt opt/);
  assert.throws(() => parseDid('service : { f : () -> () oneway }'), /'oneway' is not supported/);
  assert.throws(() => generate('type T = record { next : opt T }; service : { f : (T) -> () }'), /recursive/);
});

/**
 * Runs the Maven compilation of model-canister on a copy of the repository's files (tracked or new, not ignored),
 * with `did` as candid/model.did.
 */
function compileWith(did) {
  const copy = mkdtempSync(join(tmpdir(), 'candid-java-build-'));
  try {
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0').filter((file) => file && existsSync(join(ROOT, file)) && !file.split('/').includes('node_modules'));
    for (const file of files) cpSync(join(ROOT, file), join(copy, file));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    writeFileSync(join(copy, 'candid', 'model.did'), did);
    const run = spawnSync('mvn', ['-B', '-q', '-o', 'compile'], { cwd: join(copy, 'model-canister'), encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

test('the build fails when candid/model.did and the Java implementation disagree', { timeout: 300_000 }, () => {
  const mismatched = MODEL_DID
    .replace(/^\s*end_session : .*$/m, '')                                          // a method the Java side has
    .replace('continue_turn : (nat64) -> (TurnResult);', 'continue_turn : (text) -> (TurnResult);')  // another type
    .replace('status : () -> (Status) query;', 'status : () -> (Status) query;\n  reset : () -> ();');  // a new method
  assert.notEqual(mismatched, MODEL_DID);
  const { status, output } = compileWith(mismatched);
  assert.notEqual(status, 0, 'the build must fail');
  assert.match(output, /ModelCanister is not abstract and does not override abstract method (reset|continueTurn)/);
  assert.match(output, /method does not override or implement a method from a supertype/);
});
