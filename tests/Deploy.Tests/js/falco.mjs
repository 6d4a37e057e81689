// node falco.mjs <rules.yaml> <events.json>: evaluates the Falco rules of a k8s_audit rules file
// against Kubernetes audit events, with a small evaluator for the subset of the Falco condition
// language the SecureDra rules use (and nothing more; anything else is an error, never a silent
// false): and/or/not, parentheses, macros, lists, the operators = != < <= > >= in contains
// startswith exists, the len() transformer, and the fields ka.verb, ka.user.name,
// ka.target.{resource,subresource,namespace,name}, ka.response.code and jevt.value[/json/pointer]
// (the json plugin's field: strings as they are, other values as compact JSON).
// Prints [{event, matched: [rule names]}].
import {readFileSync} from 'node:fs';
import {parseYamlDocuments} from './tools.mjs';

const [rulesFile, eventsFile] = process.argv.slice(2);
const items = parseYamlDocuments(rulesFile).flat();
const lists = new Map(items.filter(i => i.list).map(i => [i.list, i.items.map(String)]));
const macros = new Map(items.filter(i => i.macro).map(i => [i.macro, i.condition]));
const rules = items.filter(i => i.rule);

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:(\()|(\))|(,)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(<=|>=|!=|=|<|>)|([A-Za-z0-9_.:\/\-\[\]]+))/y;
  let m;
  re.lastIndex = 0;
  while (re.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(re.lastIndex))) break;
    m = re.exec(text);
    if (!m) throw new Error(`cannot tokenize at ${re.lastIndex}: ${text.slice(re.lastIndex, re.lastIndex + 30)}`);
    if (m[1]) tokens.push({t: '('});
    else if (m[2]) tokens.push({t: ')'});
    else if (m[3]) tokens.push({t: ','});
    else if (m[4]) tokens.push({t: 'str', v: m[4].slice(1, -1).replace(/\\(.)/g, '$1')});
    else if (m[5]) tokens.push({t: 'op', v: m[5]});
    else tokens.push({t: 'word', v: m[6]});
  }
  return tokens;
}

const FIELD = /^(ka\.(verb|user\.name|target\.(resource|subresource|namespace|name)|response\.code)|jevt\.value\[\/[^\]]*\])$/;
const WORD_OPS = new Set(['in', 'contains', 'startswith', 'exists']);

function parse(text) {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const expectTok = t => { const k = next(); if (!k || k.t !== t) throw new Error(`expected ${t} in: ${text}`); return k; };
  const isWord = (k, w) => k && k.t === 'word' && k.v === w;

  function orExpr() {
    let left = andExpr();
    while (isWord(peek(), 'or')) { next(); const right = andExpr(); const l = left; left = e => l(e) || right(e); }
    return left;
  }
  function andExpr() {
    let left = notExpr();
    while (isWord(peek(), 'and')) { next(); const right = notExpr(); const l = left; left = e => l(e) && right(e); }
    return left;
  }
  function notExpr() {
    if (isWord(peek(), 'not')) { next(); const inner = notExpr(); return e => !inner(e); }
    return primary();
  }
  function operand() {
    // A field, or len(field).
    const k = next();
    if (isWord(k, 'len')) { expectTok('('); const f = next(); check(f); expectTok(')'); return {field: f.v, len: true}; }
    check(k);
    return {field: k.v, len: false};
    function check(f) { if (!f || f.t !== 'word' || !FIELD.test(f.v)) throw new Error(`unsupported field ${f?.v} in: ${text}`); }
  }
  function value() {
    const k = next();
    if (!k || (k.t !== 'word' && k.t !== 'str')) throw new Error(`expected a value in: ${text}`);
    return k.v;
  }
  function listValues() {
    expectTok('(');
    const values = [];
    while (peek() && peek().t !== ')') {
      const v = value();
      if (lists.has(v)) values.push(...lists.get(v)); else values.push(v);
      if (peek() && peek().t === ',') next();
    }
    expectTok(')');
    return values;
  }
  function primary() {
    const k = peek();
    if (!k) throw new Error(`unexpected end of: ${text}`);
    if (k.t === '(') { next(); const inner = orExpr(); expectTok(')'); return inner; }
    if (k.t === 'word' && macros.has(k.v)) { next(); return parse(macros.get(k.v)); }
    const left = operand();
    const op = next();
    if (!op) throw new Error(`missing operator in: ${text}`);
    const opName = op.t === 'op' ? op.v : op.t === 'word' && WORD_OPS.has(op.v) ? op.v : null;
    if (!opName) throw new Error(`unsupported operator ${op.v ?? op.t} in: ${text}`);
    if (opName === 'exists') return e => extract(e, left) !== undefined;
    if (opName === 'in') { const set = listValues(); return e => { const v = extract(e, left); return v !== undefined && set.includes(v); }; }
    const right = value();
    return e => {
      const v = extract(e, left);
      if (v === undefined) return false;
      switch (opName) {
        case '=': return v === right;
        case '!=': return v !== right;
        case 'contains': return v.includes(right);
        case 'startswith': return v.startsWith(right);
        default: {
          const a = Number(v), b = Number(right);
          if (Number.isNaN(a) || Number.isNaN(b)) throw new Error(`${opName} needs numbers: ${v} ${right}`);
          return opName === '<' ? a < b : opName === '<=' ? a <= b : opName === '>' ? a > b : a >= b;
        }
      }
    };
  }
  const expr = orExpr();
  if (i !== tokens.length) throw new Error(`trailing tokens in: ${text}`);
  return expr;
}

function pointer(obj, ptr) {
  let at = obj;
  for (const raw of ptr.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (at === null || typeof at !== 'object' || !(key in at)) return undefined;
    at = at[key];
  }
  return at;
}

function extract(event, {field, len}) {
  let v;
  switch (field) {
    case 'ka.verb': v = event.verb; break;
    case 'ka.user.name': v = event.user?.username; break;
    case 'ka.target.resource': v = event.objectRef?.resource; break;
    case 'ka.target.subresource': v = event.objectRef?.subresource; break;
    case 'ka.target.namespace': v = event.objectRef?.namespace; break;
    case 'ka.target.name': v = event.objectRef?.name; break;
    case 'ka.response.code': v = event.responseStatus?.code === undefined ? undefined : String(event.responseStatus.code); break;
    default: {
      const p = pointer(event, field.slice('jevt.value['.length, -1));
      v = p === undefined ? undefined : typeof p === 'string' ? p : JSON.stringify(p);
    }
  }
  if (v === undefined || v === null || v === '') return undefined;
  return len ? String([...String(v)].length) : String(v);
}

const compiled = rules.map(r => ({name: r.rule, source: r.source, test: parse(r.condition)}));
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
process.stdout.write(JSON.stringify(events.map(x => ({
  event: x.name,
  matched: compiled.filter(r => r.source === 'k8s_audit' && r.test(x.event)).map(r => r.name),
}))));
