#!/usr/bin/env node
// Generates the Java side of a canister's Candid interface from its .did file, so the two cannot disagree:
//   <Interface>.java  the service as a Java interface: one method per service method (typed arguments and result),
//                     the .did's named records (Java records) and variants (enums, or classes with one factory per
//                     tag), and the enum Method of all method names;
//   <Exports>.java    the TeaVM entry points: for each method one @Export ("canister_query name" or
//                     "canister_update name") that checks the method's guard, decodes the arguments (trailing bytes
//                     rejected), calls the implementation and encodes its reply; plus canister_init,
//                     canister_pre_upgrade, canister_post_upgrade and canister_inspect_message (driven by the guards).
// A result-shaped return type, variant { Ok : T; Err : text } (or { Ok; Err : text }), becomes a Java method
// returning T (or void) whose UserError is replied as Err; other failures trap. The implementation class must
// implement <Interface>: a method missing, extra (@Override) or of another type fails the Java compilation.
// The .did is read by the parser below and checked against the official one (@icp-sdk/bindgen): a construct the
// parser misreads fails the generation instead of producing a different interface.
//
// Usage: candid-java.mjs --did service.did --out <generated-sources dir> --package org.example
//          --interface ModelInterface --exports ModelExports --implementation ModelCanister
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---- parsing ----

const PRIMITIVES = new Set(['null', 'bool', 'nat', 'int', 'nat8', 'nat16', 'nat32', 'nat64', 'int8', 'int16', 'int32',
  'int64', 'float32', 'float64', 'text', 'reserved', 'empty', 'principal']);
const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(->|[:;{}()=,])|("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(.)/gy;

function tokenize(text) {
  const tokens = [];
  for (const m of text.matchAll(TOKEN)) {
    if (m[5] !== undefined) throw new Error(`.did: unexpected character ${JSON.stringify(m[5])} at offset ${m.index}`);
    const value = m[1] ?? m[3] ?? m[4] ?? (m[2] !== undefined ? JSON.parse(m[2]) : undefined);
    if (value !== undefined) tokens.push({ value, quoted: m[2] !== undefined, at: m.index });
  }
  return tokens;
}

/**
 * The .did as { types: Map<name, type>, methods: [{ name, args: [type], returns: [type], mode }] }; a type is
 * { kind: 'prim', name } | { kind: 'ref', name } | { kind: 'opt' | 'vec', of } | { kind: 'record' | 'variant', fields:
 * [{ name, type }] } (blob is vec nat8; a variant tag without a type has type null).
 */
export function parseDid(text) {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i]?.value;
  const next = () => {
    if (i === tokens.length) throw new Error('.did: unexpected end');
    return tokens[i++].value;
  };
  const expect = (value) => {
    const got = next();
    if (got !== value) throw new Error(`.did: expected ${value}, got ${got} at offset ${tokens[i - 1].at}`);
  };

  function type() {
    const word = next();
    if (word === 'opt' || word === 'vec') return { kind: word, of: type() };
    if (word === 'blob') return { kind: 'vec', of: { kind: 'prim', name: 'nat8' } };
    if (word === 'record' || word === 'variant') return { kind: word, fields: fields(word) };
    if (word === 'func' || word === 'service') throw new Error(`.did: ${word} types are not supported`);
    if (PRIMITIVES.has(word)) return { kind: 'prim', name: word };
    if (!/^[A-Za-z_]/.test(word)) throw new Error(`.did: expected a type, got ${word}`);
    return { kind: 'ref', name: word };
  }

  function fields(kind) {
    expect('{');
    const list = [];
    while (peek() !== '}') {
      const name = next();
      if (peek() === ':') {
        next();
        list.push({ name, type: type() });
      } else if (kind === 'variant') {
        list.push({ name, type: { kind: 'prim', name: 'null' } });
      } else {
        throw new Error(`.did: record field ${name} has no name (tuples are not supported)`);
      }
      if (peek() !== '}') expect(';');
    }
    next();
    return list;
  }

  function tuple() {
    expect('(');
    const list = [];
    while (peek() !== ')') {
      // A named argument, `name : type`, is documentation only.
      if (tokens[i + 1]?.value === ':' && !PRIMITIVES.has(peek())) i += 2;
      list.push(type());
      if (peek() !== ')') expect(',');
    }
    next();
    return list;
  }

  const types = new Map();
  const methods = [];
  while (i < tokens.length) {
    const word = next();
    if (word === 'type') {
      const name = next();
      expect('=');
      types.set(name, type());
      expect(';');
    } else if (word === 'service') {
      if (peek() !== ':') next();  // service name
      expect(':');
      expect('{');
      while (peek() !== '}') {
        const name = next();
        expect(':');
        const args = tuple();
        expect('->');
        const returns = tuple();
        let mode = 'update';
        while (peek() !== ';' && peek() !== '}') {
          const annotation = next();
          if (annotation !== 'query') throw new Error(`.did: method ${name}: '${annotation}' is not supported`);
          mode = annotation;
        }
        methods.push({ name, args, returns, mode });
        if (peek() !== '}') expect(';');
      }
      next();
      if (peek() === ';') next();
    } else {
      throw new Error(`.did: unexpected ${word}`);
    }
  }
  return { types, methods };
}

/** The parsed service as @icp-sdk/core IDL objects, to compare with the official parser's. */
function toIdl(did, IDL) {
  const built = new Map();
  const idl = (t) => {
    switch (t.kind) {
      case 'prim': return { null: IDL.Null, bool: IDL.Bool, nat: IDL.Nat, int: IDL.Int, nat8: IDL.Nat8,
        nat16: IDL.Nat16, nat32: IDL.Nat32, nat64: IDL.Nat64, int8: IDL.Int8, int16: IDL.Int16, int32: IDL.Int32,
        int64: IDL.Int64, float32: IDL.Float32, float64: IDL.Float64, text: IDL.Text, reserved: IDL.Reserved,
        empty: IDL.Empty, principal: IDL.Principal }[t.name];
      case 'ref':
        if (!built.has(t.name)) {
          if (!did.types.has(t.name)) throw new Error(`.did: unknown type ${t.name}`);
          built.set(t.name, idl(did.types.get(t.name)));
        }
        return built.get(t.name);
      case 'opt': return IDL.Opt(idl(t.of));
      case 'vec': return IDL.Vec(idl(t.of));
      case 'record': return IDL.Record(Object.fromEntries(t.fields.map((f) => [f.name, idl(f.type)])));
      case 'variant': return IDL.Variant(Object.fromEntries(t.fields.map((f) => [f.name, idl(f.type)])));
    }
  };
  return IDL.Service(Object.fromEntries(did.methods.map((m) =>
    [m.name, IDL.Func(m.args.map(idl), m.returns.map(idl), m.mode === 'query' ? ['query'] : [])])));
}

/** Fails unless the official Candid parser reads `didFile` as the same service as parseDid does. */
async function checkAgainstOfficialParser(didFile, did) {
  // Inside the repository, so that the generated module resolves @icp-sdk/core from its node_modules.
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  const out = mkdtempSync(join(ROOT, 'build', 'candid-java-'));
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'icp-bindgen'),
      ['--did-file', didFile, '--out-dir', out, '--actor-disabled', '--declarations-flat', '--force'],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    const { IDL } = await import('@icp-sdk/core/candid');
    const base = didFile.replace(/^.*\//, '').replace(/\.did$/, '');
    const { idlFactory } = await import(pathToFileURL(join(out, `${base}.did.js`)).href);
    const official = idlFactory({ IDL }).display();
    const ours = toIdl(did, IDL).display();
    if (official !== ours) {
      throw new Error(`${didFile}: the generator's parser and the official one disagree:\n  official: ${official}\n  parsed:   ${ours}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---- Java ----

const JAVA_KEYWORDS = new Set(['abstract', 'boolean', 'byte', 'char', 'class', 'default', 'do', 'double', 'enum',
  'final', 'float', 'for', 'if', 'int', 'long', 'new', 'package', 'private', 'public', 'record', 'return', 'short',
  'static', 'switch', 'this', 'void', 'while']);
const camel = (name) => {
  const s = name.replace(/_+([a-zA-Z0-9])/g, (_, c) => c.toUpperCase());
  const lower = s[0].toLowerCase() + s.slice(1);
  return JAVA_KEYWORDS.has(lower) ? `${lower}_` : lower;
};
const constant = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const INT_PRIMS = { nat8: 'int', nat16: 'int', nat32: 'int', int8: 'int', int16: 'int', int32: 'int', nat64: 'long',
  int64: 'long', nat: 'long', int: 'long', float32: 'float', float64: 'double', bool: 'boolean' };
const BOXED = { int: 'Integer', long: 'Long', float: 'Float', double: 'Double', boolean: 'Boolean' };
const IS_FIXED32 = (t) => t.kind === 'prim' && (t.name === 'nat32' || t.name === 'int32');
const IS_NAT8 = (t) => t.kind === 'prim' && t.name === 'nat8';
const anonymous = (t) => new Error(`an anonymous ${t.kind} has no Java type: name it with a type definition`);

class JavaModel {
  constructor(did) {
    this.did = did;
  }

  resolve(t) {
    return t.kind === 'ref' ? this.resolve(this.did.types.get(t.name)) : t;
  }

  /** Whether the named type becomes a Java type of its own (records and variants); other names are aliases. */
  isDeclared(name) {
    const t = this.did.types.get(name);
    return t.kind === 'record' || t.kind === 'variant';
  }

  /** The Ok type of variant { Ok : T; Err : text } (null type for a bare Ok), else undefined. */
  okOf(t) {
    const v = this.resolve(t);
    if (v.kind !== 'variant' || v.fields.length !== 2) return undefined;
    const [a, b] = v.fields;
    const ok = a.name === 'Ok' ? a : b.name === 'Ok' ? b : undefined;
    const err = a.name === 'Err' ? a : b.name === 'Err' ? b : undefined;
    return ok && err && this.resolve(err.type).name === 'text' ? ok.type : undefined;
  }

  isEnum(t) {
    return t.kind === 'variant' && t.fields.every((f) => f.type.kind === 'prim' && f.type.name === 'null');
  }

  javaType(t, boxed = false) {
    switch (t.kind) {
      case 'prim':
        if (t.name === 'text') return 'String';
        if (t.name === 'principal') return 'Principal';
        if (INT_PRIMS[t.name]) return boxed ? BOXED[INT_PRIMS[t.name]] : INT_PRIMS[t.name];
        throw new Error(`${t.name} has no Java type here`);
      case 'vec':
        if (IS_NAT8(t.of)) return 'byte[]';
        if (IS_FIXED32(t.of)) return 'int[]';
        return `List<${this.javaType(t.of, true)}>`;
      case 'opt':
        if (this.resolve(t.of).kind === 'opt') throw new Error('opt opt has no Java type here');
        return this.javaType(t.of, true);  // null when absent
      case 'ref':
        return this.isDeclared(t.name) ? t.name : this.javaType(this.did.types.get(t.name), boxed);
      default:
        throw anonymous(t);
    }
  }

  /** Java expression turning the decoder's value `e` (the value model of org.icgpt2.ic.candid.Candid) into Java. */
  fromValue(t, e, depth = 0) {
    const v = `v${depth}`;
    switch (t.kind) {
      case 'prim':
        switch (t.name) {
          case 'nat8': return `Byte.toUnsignedInt((Byte) ${e})`;
          case 'nat16': return `Short.toUnsignedInt((Short) ${e})`;
          case 'int8': return `((Byte) ${e}).intValue()`;
          case 'int16': return `((Short) ${e}).intValue()`;
          default: return `(${this.javaType(t, true)}) ${e}`;
        }
      case 'vec':
        if (IS_NAT8(t.of)) return `(byte[]) ${e}`;
        if (IS_FIXED32(t.of)) return `TypedCandid.ints(${e})`;
        return `TypedCandid.list(${e}, ${v} -> ${this.fromValue(t.of, v, depth + 1)})`;
      case 'opt':
        return `TypedCandid.nullable(${e}, ${v} -> ${this.fromValue(t.of, v, depth + 1)})`;
      case 'ref':
        if (!this.isDeclared(t.name)) return this.fromValue(this.did.types.get(t.name), e, depth);
        if (this.resolve(t).kind === 'variant' && !this.isEnum(this.resolve(t))) {
          throw new Error(`variant ${t.name} with values is not supported in arguments`);
        }
        return `${t.name}.fromCandid(${e})`;
      default:
        throw anonymous(t);
    }
  }

  /** Java expression turning the Java value `e` into the encoder's value model. */
  toValue(t, e, depth = 0) {
    const v = `v${depth}`;
    switch (t.kind) {
      case 'prim':
        return e;
      case 'vec':
        return this.needsConversion(t.of) ? `TypedCandid.list(${e}, ${v} -> ${this.toValue(t.of, v, depth + 1)})` : e;
      case 'opt':
        return `TypedCandid.opt(${e}, ${v} -> ${this.toValue(t.of, v, depth + 1)})`;
      case 'ref':
        return this.isDeclared(t.name) ? `${e}.toCandid()` : this.toValue(this.did.types.get(t.name), e, depth);
      default:
        throw anonymous(t);
    }
  }

  needsConversion(t) {
    return t.kind !== 'prim' && !(t.kind === 'vec' && !this.needsConversion(t.of));
  }

  /** Java expression reading the next argument of type `t` from CandidReader `in` (no boxing for the common ones). */
  readArg(t) {
    if (t.kind === 'prim') {
      const reader = { bool: 'bool', nat8: 'nat8', nat16: 'nat16', nat32: 'nat32', nat64: 'nat64', nat: 'nat',
        int: 'integer', float32: 'float32', float64: 'float64', text: 'text' }[t.name];
      if (reader) return `in.${reader}()`;
    }
    if (t.kind === 'vec' && IS_NAT8(t.of)) return 'in.blob()';
    if (t.kind === 'vec' && IS_FIXED32(t.of)) return `in.fixed32Vector(${t.of.name === 'int32'})`;
    return this.fromValue(t, `in.value(${this.typeConstant(t)})`);
  }

  /** Java expression of the CandidType of `t` (named types are constants of the exports class). */
  typeConstant(t) {
    switch (t.kind) {
      case 'prim': return `CandidType.${t.name.toUpperCase()}`;
      case 'ref': return constant(t.name);
      case 'opt': return `CandidType.opt(${this.typeConstant(t.of)})`;
      case 'vec':
        return IS_NAT8(t.of) ? 'CandidType.BLOB' : `CandidType.vec(${this.typeConstant(t.of)})`;
      case 'record':
      case 'variant':
        return `CandidType.${t.kind}(${t.fields.map((f) => `CandidType.field("${f.name}", ${this.typeConstant(f.type)})`).join(', ')})`;
    }
  }

  /** Named types reachable from `roots`, each after the types it uses. */
  namedTypes(roots) {
    const order = [];
    const visiting = new Set();
    const visit = (t) => {
      if (t.kind === 'ref') {
        if (order.includes(t.name)) return;
        if (visiting.has(t.name)) throw new Error(`recursive type ${t.name} is not supported`);
        if (!this.did.types.has(t.name)) throw new Error(`unknown type ${t.name}`);
        visiting.add(t.name);
        visit(this.did.types.get(t.name));
        visiting.delete(t.name);
        order.push(t.name);
      } else if (t.kind === 'opt' || t.kind === 'vec') {
        visit(t.of);
      } else if (t.kind === 'record' || t.kind === 'variant') {
        t.fields.forEach((f) => visit(f.type));
      }
    };
    roots.forEach(visit);
    return order;
  }
}

const signature = (m) => `${m.name} : (${m.args.map(show).join(', ')}) -> (${m.returns.map(show).join(', ')})${m.mode === 'query' ? ' query' : ''}`;
function show(t) {
  switch (t.kind) {
    case 'prim': return t.name;
    case 'ref': return t.name;
    case 'opt': return `opt ${show(t.of)}`;
    case 'vec': return IS_NAT8(t.of) ? 'blob' : `vec ${show(t.of)}`;
    default: return t.kind;
  }
}

/** The Java return type of method `m`, and whether its result is result-shaped (UserError replies Err). */
function returnOf(model, m) {
  if (m.returns.length === 0) return { java: 'void' };
  if (m.returns.length > 1) throw new Error(`${m.name}: several results are not supported`);
  const ok = model.okOf(m.returns[0]);
  if (ok !== undefined) {
    const bare = ok.kind === 'prim' && ok.name === 'null';
    return { java: bare ? 'void' : model.javaType(ok), ok: bare ? null : ok, result: true };
  }
  return { java: model.javaType(m.returns[0]), ok: m.returns[0], result: false };
}

const argName = (i) => `arg${i}`;

function typeDeclaration(model, name, decode, encode) {
  const t = model.did.types.get(name);
  const lines = [];
  if (t.kind === 'record') {
    const components = t.fields.map((f) => `${model.javaType(f.type)} ${camel(f.name)}`);
    lines.push(`    /** {@code type ${name}} (an absent opt field is null). */`);
    lines.push(`    record ${name}(${components.join(', ')}) {`);
    if (encode) {
      lines.push('        public Record toCandid() {');
      lines.push(`            return new Record()${t.fields.map((f) => `\n                    .put("${f.name}", ${model.toValue(f.type, camel(f.name))})`).join('')};`);
      lines.push('        }');
    }
    if (decode) {
      lines.push('', `        public static ${name} fromCandid(Object value) {`);
      lines.push('            Record r = (Record) value;');
      lines.push(`            return new ${name}(${t.fields.map((f) => model.fromValue(f.type, `r.get("${f.name}")`)).join(',\n                    ')});`);
      lines.push('        }');
    }
    lines.push('    }');
  } else if (t.kind === 'variant' && model.isEnum(t)) {
    lines.push(`    /** {@code type ${name}}. */`);
    lines.push(`    enum ${name} {`);
    lines.push(`        ${t.fields.map((f) => `${constant(f.name)}("${f.name}")`).join(', ')};`, '');
    lines.push('        private final String tag;', '');
    lines.push(`        ${name}(String tag) {`, '            this.tag = tag;', '        }');
    if (encode) lines.push('', '        public Variant toCandid() {', '            return Variant.of(tag, null);', '        }');
    if (decode) {
      lines.push('', `        public static ${name} fromCandid(Object value) {`);
      lines.push(`            for (${name} v : values()) {`);
      lines.push('                if (((Variant) value).is(v.tag)) {', '                    return v;', '                }', '            }');
      lines.push(`            throw new CandidException("not a tag of ${name}: " + value);`);
      lines.push('        }');
    }
    lines.push('    }');
  } else if (t.kind === 'variant') {
    lines.push(`    /** {@code type ${name}}: one factory per tag. */`);
    lines.push(`    final class ${name} {`);
    lines.push('        private final Variant value;', '');
    lines.push(`        private ${name}(Variant value) {`, '            this.value = value;', '        }');
    for (const f of t.fields) {
      const unit = f.type.kind === 'prim' && f.type.name === 'null';
      lines.push('', `        public static ${name} ${camel(f.name)}(${unit ? '' : `${model.javaType(f.type)} value`}) {`);
      lines.push(`            return new ${name}(Variant.of("${f.name}", ${unit ? 'null' : model.toValue(f.type, 'value')}));`);
      lines.push('        }');
    }
    lines.push('', '        public Variant toCandid() {', '            return value;', '        }', '    }');
  } else {
    throw new Error(`type ${name}: only records and variants can be named here`);
  }
  return lines.join('\n');
}

export function generateJava(did, { pkg, interfaceName, exportsName, implementation, didPath }) {
  const model = new JavaModel(did);
  const header = `// Generated from ${didPath} by scripts/build/candid-java.mjs during the build: do not edit.\npackage ${pkg};\n`;
  const argRoots = did.methods.flatMap((m) => m.args);
  const returnRoots = did.methods.flatMap((m) => m.returns.map((r) => model.okOf(r) ?? r));
  const decoded = new Set(model.namedTypes(argRoots));
  const encoded = new Set(model.namedTypes(returnRoots));
  // Result types at the top of a reply are unwrapped into the method's return type and Err: they need no Java type.
  const javaTypes = [...new Set([...model.namedTypes(argRoots), ...model.namedTypes(returnRoots)])]
    .filter((name) => model.isDeclared(name));
  const methods = did.methods.map((m) => ({ ...m, java: camel(m.name), constant: constant(m.name), ret: returnOf(model, m) }));

  const iface = [header,
    'import java.util.List;',
    'import org.icgpt2.ic.Guard;',
    'import org.icgpt2.ic.candid.CandidException;',
    'import org.icgpt2.ic.candid.Principal;',
    'import org.icgpt2.ic.candid.Record;',
    'import org.icgpt2.ic.candid.TypedCandid;',
    'import org.icgpt2.ic.candid.Variant;',
    '',
    `/** The service of {@code ${didPath}} in Java; {@link ${exportsName}} calls its implementation. */`,
    `public interface ${interfaceName} {`,
    '    /** The service\'s methods, by their Candid names. */',
    '    enum Method {',
    `        ${methods.map((m) => `${m.constant}("${m.name}")`).join(',\n        ')};`,
    '',
    '        public final String candidName;',
    '',
    '        Method(String candidName) {',
    '            this.candidName = candidName;',
    '        }',
    '',
    '        /** The method called {@code name}, or null. */',
    '        public static Method named(String name) {',
    '            for (Method m : values()) {',
    '                if (m.candidName.equals(name)) {',
    '                    return m;',
    '                }',
    '            }',
    '            return null;',
    '        }',
    '    }',
    '',
    '    /** Who may call {@code method}: checked before each call, and by canister_inspect_message for ingress. */',
    '    Guard guard(Method method);',
    '',
    '    /** Whether {@code principal} passes {@link Guard#AUTHORIZED} (controllers always do). */',
    '    boolean isAuthorized(byte[] principal);',
    '',
    '    /** canister_init. */',
    '    void init();',
    '',
    '    /** canister_post_upgrade: the heap is new, stable memory is kept. */',
    '    void postUpgrade();',
    ...methods.flatMap((m) => ['',
      `    /** {@code ${signature(m)}}${m.ret.result ? '; a UserError is replied as Err' : ''}. */`,
      `    ${m.ret.java} ${m.java}(${m.args.map((a, i) => `${model.javaType(a)} ${argName(i)}`).join(', ')});`]),
    ...javaTypes.flatMap((name) => ['', typeDeclaration(model, name, decoded.has(name), encoded.has(name))]),
    '}', ''].join('\n');

  // One ErrorReply per result type, shared by its methods.
  const errorReplies = new Map();
  const errorReply = (m) => {
    const type = m.returns[0];
    const name = `${type.kind === 'ref' ? constant(type.name) : m.constant}_ERR`;
    errorReplies.set(name, `    private static final Entry.ErrorReply ${name} = e -> reply(${model.typeConstant(type)}, Variant.of("Err", e.getMessage()));`);
    return name;
  };
  const typeConstants = model.namedTypes([...argRoots, ...did.methods.flatMap((m) => m.returns)])
    .map((name) => `    private static final CandidType ${constant(name)} = ${model.typeConstant(did.types.get(name))};`);
  const exportLines = methods.flatMap((m) => {
    const reply = (() => {
      const call = `canister.${m.java}(${m.args.map((_, i) => argName(i)).join(', ')})`;
      const resultType = m.returns[0] && model.typeConstant(m.returns[0]);
      if (m.returns.length === 0) return [`${call};`, 'Api.reply(new CandidWriter().toBytes());'];
      if (m.ret.result && m.ret.ok === null) return [`${call};`, `Api.reply(reply(${resultType}, Variant.of("Ok", null)));`];
      if (m.ret.result) return [`Api.reply(reply(${resultType}, Variant.of("Ok", ${model.toValue(m.ret.ok, call)})));`];
      return [`Api.reply(reply(${resultType}, ${model.toValue(m.ret.ok, call)}));`];
    })();
    const body = [
      `canister.guard(Method.${m.constant}).require(authorized);`,
      'CandidReader in = new CandidReader(Api.argData());',
      ...m.args.map((a, i) => `${model.javaType(a)} ${argName(i)} = ${model.readArg(a)};`),
      'in.end();',
      ...reply];
    return ['',
      `    /** {@code ${signature(m)}}. */`,
      `    @Export(name = "canister_${m.mode} ${m.name}")`,
      `    public static void ${m.java}() {`,
      '        Entry.run(() -> {',
      ...body.map((l) => `            ${l}`),
      m.ret.result ? `        }, ${errorReply(m)});` : '        });',
      '    }'];
  });
  const exportsFile = [header,
    'import java.util.function.Predicate;',
    `import ${pkg}.${interfaceName}.*;`,
    'import org.icgpt2.ic.Api;',
    'import org.icgpt2.ic.Entry;',
    'import org.icgpt2.ic.candid.CandidReader;',
    'import org.icgpt2.ic.candid.CandidType;',
    'import org.icgpt2.ic.candid.CandidWriter;',
    'import org.icgpt2.ic.candid.Principal;',
    'import org.icgpt2.ic.candid.TypedCandid;',
    'import org.icgpt2.ic.candid.Variant;',
    'import org.teavm.interop.Export;',
    '',
    `/** The canister's entry points: the Candid glue around {@link ${implementation}}. The TeaVM main class. */`,
    `public final class ${exportsName} {`,
    `    private static final ${interfaceName} canister = new ${implementation}();`,
    ...typeConstants,
    ...[...errorReplies.values()],
    `    private static final Predicate<byte[]> authorized = canister::isAuthorized;`,
    '',
    `    private ${exportsName}() {`,
    '    }',
    '',
    '    /** TeaVM needs a main class; the IC never calls it (the module\'s start function initializes the runtime). */',
    '    public static void main(String[] args) {',
    '    }',
    '',
    '    @Export(name = "canister_init")',
    '    public static void init() {',
    '        Entry.run(canister::init);',
    '    }',
    '',
    '    @Export(name = "canister_pre_upgrade")',
    '    public static void preUpgrade() {',
    '    }',
    '',
    '    @Export(name = "canister_post_upgrade")',
    '    public static void postUpgrade() {',
    '        Entry.run(canister::postUpgrade);',
    '    }',
    '',
    '    /** Rejects ingress that the method\'s guard would refuse, before it costs the canister anything. */',
    '    @Export(name = "canister_inspect_message")',
    '    public static void inspectMessage() {',
    '        Method method = Method.named(Api.methodName());',
    '        if (method == null || canister.guard(method).admits(Api.caller(), authorized)) {',
    '            Api.acceptMessage();',
    '        }',
    '    }',
    ...exportLines,
    '',
    '    private static byte[] reply(CandidType type, Object value) {',
    '        return new CandidWriter(type).value(type, value).toBytes();',
    '    }',
    '}', ''].join('\n');
  return { [`${interfaceName}.java`]: iface, [`${exportsName}.java`]: exportsFile };
}

async function main() {
  const { values } = parseArgs({
    options: { did: { type: 'string' }, out: { type: 'string' }, package: { type: 'string' },
      interface: { type: 'string' }, exports: { type: 'string' }, implementation: { type: 'string' } },
  });
  if (Object.keys(values).length !== 6) {
    console.error('usage: candid-java.mjs --did <service.did> --out <dir> --package <java.package> --interface <Name> --exports <Name> --implementation <Class>');
    process.exit(2);
  }
  const did = parseDid(readFileSync(values.did, 'utf8'));
  await checkAgainstOfficialParser(values.did, did);
  const files = generateJava(did, { pkg: values.package, interfaceName: values.interface, exportsName: values.exports,
    implementation: values.implementation, didPath: relative(ROOT, resolve(values.did)) });
  const dir = join(values.out, ...values.package.split('.'));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (e) {
    console.error(`candid-java: ${e.message}`);
    process.exit(1);
  }
}
