// node promql-eval.mjs <rendered.yaml> <cases.json>: evaluates the alerts of every PrometheusRule against
// synthetic series and says which fire. Built on the Prometheus project's own PromQL grammar
// (@prometheus-io/lezer-promql, as promql.mjs) and evaluating exactly what the rules use: vector and matrix
// selectors with = != =~ !~ matchers, rate, increase, max_over_time, histogram_quantile, vector, sum/max with
// by (...), arithmetic, comparisons (filtering), or, unless, and, parentheses. Anything else is an error,
// never a silent pass, so a rule that starts using another function fails its firing test until this learns it.
//
// cases.json: [{name, alert, at, series: [{labels: {__name__, ...}, samples: [[seconds, value], ...]}]}]
// Prints [{name, alert, fires, steps}]: an alert fires at `at` when its expression is non-empty at every
// evaluation (every 60 s, as Prometheus's default group interval) from `at - for` to `at`.
//
// Simplifications, all on the side of exactness for the cases: instant selectors look back 5 minutes (as
// Prometheus); increase/rate take the counter's rise inside the window (resets handled) without Prometheus's
// extrapolation to the window's edges, which changes values by less than one sample interval's share.
import {readFileSync} from 'node:fs';
import {parseYamlDocuments, importTool} from './tools.mjs';

const {parser} = await importTool('@prometheus-io/lezer-promql/dist/index.es.js');

const LOOKBACK = 300;
const STEP = 60;

function duration(text) {
  const units = {ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000};
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  let matched = '';
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * units[m[2]];
    matched += m[0];
  }
  if (matched !== text) throw new Error(`duration ${JSON.stringify(text)} not understood`);
  return total;
}

const children = node => {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
};

function signature(labels, drop = ['__name__']) {
  return JSON.stringify(Object.keys(labels).filter(k => !drop.includes(k)).sort().map(k => [k, labels[k]]));
}

function withoutName(labels) {
  const {__name__, ...rest} = labels;
  return rest;
}

class Evaluator {
  constructor(expr, series) {
    this.expr = expr;
    this.series = series;
    const tree = parser.parse(expr);
    tree.iterate({enter: n => { if (n.type.isError) throw new Error(`parse error at ${n.from} in ${expr}`); }});
    this.root = tree.topNode;
  }

  text(node) { return this.expr.slice(node.from, node.to); }

  at(t) { return this.eval(this.root, t); }

  eval(node, t) {
    switch (node.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'FunctionCallBody': {
        const inner = children(node);
        if (inner.length !== 1) throw new Error(`${node.name} with ${inner.length} children: ${this.text(node)}`);
        return this.eval(inner[0], t);
      }
      case 'NumberDurationLiteral':
        return {scalar: Number(this.text(node))};
      case 'VectorSelector':
        return {vector: this.select(node, t, LOOKBACK).filter(s => s.samples.length).map(s => ({labels: s.labels, value: s.samples.at(-1)[1]}))};
      case 'MatrixSelector': {
        const [selector, range] = children(node);
        return {matrix: this.select(selector, t, duration(this.text(range))), range: duration(this.text(range))};
      }
      case 'FunctionCall': return this.call(node, t);
      case 'AggregateExpr': return this.aggregate(node, t);
      case 'BinaryExpr': return this.binary(node, t);
      default: throw new Error(`${node.name} is not supported: ${this.text(node)}`);
    }
  }

  select(node, t, window) {
    const parts = children(node);
    const name = parts.find(p => p.name === 'Identifier');
    const matchers = [];
    if (name) matchers.push(labels => labels.__name__ === this.text(name));
    const list = parts.find(p => p.name === 'LabelMatchers');
    for (const m of list ? children(list) : []) {
      const [label, op, value] = children(m);
      const key = this.text(label);
      const want = JSON.parse(this.text(value));
      const operator = this.text(op);
      const re = new RegExp(`^(?:${want})$`);
      matchers.push({
        '=': l => (l[key] ?? '') === want,
        '!=': l => (l[key] ?? '') !== want,
        '=~': l => re.test(l[key] ?? ''),
        '!~': l => !re.test(l[key] ?? ''),
      }[operator]);
    }
    return this.series
      .filter(s => matchers.every(match => match(s.labels)))
      .map(s => ({labels: s.labels, samples: s.samples.filter(([ts]) => ts <= t && ts > t - window)}));
  }

  call(node, t) {
    const name = this.text(children(node)[0]);
    const args = children(children(node)[1]);
    const matrix = () => {
      const m = this.eval(args[0], t);
      if (!m.matrix) throw new Error(`${name} needs a range vector`);
      return m;
    };
    const rise = samples => {
      let total = 0;
      for (let i = 1; i < samples.length; i++) {
        const [prev, cur] = [samples[i - 1][1], samples[i][1]];
        total += cur >= prev ? cur - prev : cur;
      }
      return total;
    };
    switch (name) {
      case 'rate': {
        const m = matrix();
        return {vector: m.matrix.filter(s => s.samples.length >= 2).map(s => ({labels: withoutName(s.labels), value: rise(s.samples) / m.range}))};
      }
      case 'increase':
        return {vector: matrix().matrix.filter(s => s.samples.length >= 2).map(s => ({labels: withoutName(s.labels), value: rise(s.samples)}))};
      case 'max_over_time':
        return {vector: matrix().matrix.filter(s => s.samples.length).map(s => ({labels: withoutName(s.labels), value: Math.max(...s.samples.map(x => x[1]))}))};
      case 'vector':
        return {vector: [{labels: {}, value: this.eval(args[0], t).scalar}]};
      case 'histogram_quantile': {
        const q = this.eval(args[0], t).scalar;
        const groups = new Map();
        for (const s of this.eval(args[1], t).vector) {
          const key = signature(s.labels, ['__name__', 'le']);
          if (!groups.has(key)) groups.set(key, {labels: withoutName(Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== 'le'))), buckets: []});
          groups.get(key).buckets.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]);
        }
        return {vector: [...groups.values()].map(g => ({labels: g.labels, value: quantile(q, g.buckets.sort((a, b) => a[0] - b[0]))}))};
      }
      default: throw new Error(`function ${name} is not supported`);
    }
  }

  aggregate(node, t) {
    const parts = children(node);
    const op = this.text(parts.find(p => p.name === 'AggregateOp'));
    const modifier = parts.find(p => p.name === 'AggregateModifier');
    const body = parts.find(p => p.name === 'FunctionCallBody');
    let by = [];
    if (modifier) {
      if (this.text(children(modifier)[0]) !== 'by') throw new Error('only "by" grouping is supported');
      by = children(children(modifier)[1]).map(l => this.text(l));
    }
    const groups = new Map();
    for (const s of this.eval(body, t).vector) {
      const labels = Object.fromEntries(by.filter(k => s.labels[k] !== undefined).map(k => [k, s.labels[k]]));
      const key = signature(labels);
      const g = groups.get(key) ?? {labels, values: []};
      g.values.push(s.value);
      groups.set(key, g);
    }
    const fold = {sum: v => v.reduce((a, b) => a + b, 0), max: v => Math.max(...v)}[op];
    if (!fold) throw new Error(`aggregation ${op} is not supported`);
    return {vector: [...groups.values()].map(g => ({labels: g.labels, value: fold(g.values)}))};
  }

  binary(node, t) {
    const parts = children(node);
    const lhs = this.eval(parts[0], t);
    const rhs = this.eval(parts.at(-1), t);
    const op = this.text(parts.find((p, i) => i > 0 && i < parts.length - 1));
    if (parts.length !== 3) throw new Error(`binary modifiers are not supported: ${this.text(node)}`);
    const arithmetic = {'+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b}[op];
    const comparison = {'>': (a, b) => a > b, '<': (a, b) => a < b, '>=': (a, b) => a >= b, '<=': (a, b) => a <= b, '==': (a, b) => a === b, '!=': (a, b) => a !== b}[op];
    if (op === 'or' || op === 'unless' || op === 'and') {
      const right = new Set(rhs.vector.map(s => signature(s.labels)));
      if (op === 'unless') return {vector: lhs.vector.filter(s => !right.has(signature(s.labels)))};
      if (op === 'and') return {vector: lhs.vector.filter(s => right.has(signature(s.labels)))};
      const left = new Set(lhs.vector.map(s => signature(s.labels)));
      return {vector: [...lhs.vector, ...rhs.vector.filter(s => !left.has(signature(s.labels)))]};
    }
    const apply = arithmetic ?? comparison;
    if (!apply) throw new Error(`operator ${op} is not supported`);
    if (lhs.scalar !== undefined && rhs.scalar !== undefined) return {scalar: Number(apply(lhs.scalar, rhs.scalar))};
    const pairs = [];
    if (rhs.scalar !== undefined) for (const s of lhs.vector) pairs.push([s, s.value, rhs.scalar]);
    else if (lhs.scalar !== undefined) for (const s of rhs.vector) pairs.push([s, lhs.scalar, s.value]);
    else {
      const right = new Map(rhs.vector.map(s => [signature(s.labels), s]));
      for (const s of lhs.vector) {
        const match = right.get(signature(s.labels));
        if (match) pairs.push([s, s.value, match.value]);
      }
    }
    return {vector: pairs.flatMap(([s, a, b]) => arithmetic
      ? [{labels: withoutName(s.labels), value: apply(a, b)}]
      : apply(a, b) ? [{labels: s.labels, value: s.value}] : [])};
  }
}

function quantile(q, buckets) {
  if (!buckets.length || buckets.at(-1)[0] !== Infinity) return NaN;
  const total = buckets.at(-1)[1];
  if (total === 0) return NaN;
  const rank = q * total;
  let i = buckets.findIndex(b => b[1] >= rank);
  if (i === buckets.length - 1) return buckets.at(-2)[0];
  const [upper, count] = buckets[i];
  const [lower, below] = i === 0 ? [0, 0] : buckets[i - 1];
  return lower + (upper - lower) * ((rank - below) / (count - below));
}

const rules = new Map();
for (const o of parseYamlDocuments(process.argv[2])) {
  if (o.kind !== 'PrometheusRule') continue;
  for (const group of o.spec?.groups ?? []) for (const rule of group.rules ?? []) if (rule.alert) rules.set(rule.alert, rule);
}

const results = [];
for (const c of JSON.parse(readFileSync(process.argv[3], 'utf8'))) {
  const rule = rules.get(c.alert);
  if (!rule) throw new Error(`no alert ${c.alert} in the rendered rules`);
  const evaluator = new Evaluator(String(rule.expr), c.series);
  const hold = rule.for ? duration(String(rule.for)) : 0;
  const steps = [];
  for (let t = c.at - hold; t <= c.at; t += STEP) steps.push(evaluator.at(t).vector?.length ?? 0);
  results.push({name: c.name, alert: c.alert, fires: steps.every(n => n > 0), steps});
}
process.stdout.write(JSON.stringify(results));
