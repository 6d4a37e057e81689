// Unknown-field check from the TypeScript declarations of kubernetes-models@5.1.0 (its compiled
// validators accept unknown fields; the API server's strict field validation does not, and a
// misspelt securityContext field would otherwise be dropped silently).
import {readFileSync, existsSync} from 'node:fs';
import path from 'node:path';
import {toolsDir} from './tools.mjs';

const nodeModules = path.join(toolsDir, 'node_modules');
const interfaces = new Map();

function resolveImport(fromFile, spec) {
  const base = spec.startsWith('.') ? path.resolve(path.dirname(fromFile), spec) : path.join(nodeModules, spec);
  for (const candidate of [base.replace(/\.js$/, '.d.ts'), `${base}.d.ts`]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** {props: Map<name, {kind: 'ref'|'array'|'map'|'leaf', file?}>} for the first interface of a .d.ts file; null when it declares none. */
function load(file) {
  if (interfaces.has(file)) return interfaces.get(file);
  const text = readFileSync(file, 'utf8');
  const imports = new Map();
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1], m[2]);
  const body = text.match(/^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m);
  let result = null;
  if (body) {
    result = new Map();
    const lines = body[1].split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = lines[i].match(/^ {4}"([^"]+)"\??: (.*)$/);
      if (!m) continue;
      let type = m[2];
      let kind = 'leaf';
      if (type === '{') {
        const value = lines[i + 1].match(/^\s+\[key: string\]: (.*);$/);
        type = value ? value[1] : '';
        kind = 'map';
      } else {
        type = type.replace(/;$/, '');
        const array = type.match(/^Array<(\w+)>$/);
        if (array) { type = array[1]; kind = 'array'; }
      }
      const ref = imports.has(type) ? resolveImport(file, imports.get(type)) : null;
      result.set(m[1], ref ? {kind: kind === 'leaf' ? 'ref' : kind, file: ref} : {kind: 'leaf'});
    }
  }
  interfaces.set(file, result);
  return result;
}

function walk(value, file, where, out) {
  const props = load(file);
  // No declaration, or an empty one (RawExtension: opaque JSON such as DRA parameters): not checked.
  if (!props || props.size === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const p = props.get(key);
    if (!p) { out.push(`${where}.${key}: unknown field`); continue; }
    if (p.kind === 'ref') walk(child, p.file, `${where}.${key}`, out);
    else if (p.kind === 'array' && Array.isArray(child)) child.forEach((c, i) => walk(c, p.file, `${where}.${key}[${i}]`, out));
    else if (p.kind === 'map' && child && typeof child === 'object') for (const [k, c] of Object.entries(child)) walk(c, p.file, `${where}.${key}[${k}]`, out);
  }
}

/** Unknown fields of a top-level object, or null when kubernetes-models has no declaration for its kind. */
export function unknownFields(object) {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [null, object.apiVersion];
  const file = path.join(nodeModules, 'kubernetes-models', ...(group ? [group, version] : [version]), `${object.kind}.d.ts`);
  if (!existsSync(file)) return null;
  const out = [];
  walk(object, file, '', out);
  return out;
}
