// Shared helpers for the deploy tests: locate the npm tools (SECUREDRA_TOOLS_DIR, default
// <repo>/.tools), parse multi-document YAML, and turn JSON integers into BigInt (CEL ints).
import {createRequire} from 'node:module';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = process.env.SECUREDRA_TOOLS_DIR || path.resolve(here, '../../../.tools');
const requireFromTools = createRequire(path.join(toolsDir, 'package.json'));

export function importTool(relative) {
  return import(pathToFileURL(path.join(toolsDir, 'node_modules', relative)).href);
}

export function parseYamlDocuments(file) {
  const YAML = requireFromTools('yaml');
  return YAML.parseAllDocuments(readFileSync(file, 'utf8'))
    .map(d => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter(o => o !== null && o !== undefined);
}

export function toCel(value) {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}

export function fromCel(value) {
  return JSON.parse(JSON.stringify(value, (_, v) => typeof v === 'bigint' ? Number(v) : v));
}
