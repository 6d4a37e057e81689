// node promql.mjs <rendered.yaml>: parses the expr of every alert in every PrometheusRule with the
// Prometheus project's own lezer PromQL grammar (@prometheus-io/lezer-promql). Prints
// [{alert, expr, errors, metrics}]: errors are the positions the parser could not make sense of
// (lezer recovers from errors, so an empty list is what proves the expression parses), metrics the
// metric names of every vector selector.
import {parseYamlDocuments, importTool} from './tools.mjs';

const {parser} = await importTool('@prometheus-io/lezer-promql/dist/index.es.js');

export function analyse(expr) {
  const tree = parser.parse(expr);
  const errors = [];
  const metrics = new Set();
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 10), node.to + 10))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.add(expr.slice(node.from, node.to));
    },
  });
  return {errors, metrics: [...metrics].sort()};
}

const results = [];
for (const o of parseYamlDocuments(process.argv[2])) {
  if (o.kind !== 'PrometheusRule') continue;
  for (const group of o.spec?.groups ?? []) {
    for (const rule of group.rules ?? []) {
      results.push({alert: rule.alert ?? rule.record, expr: String(rule.expr), ...analyse(String(rule.expr))});
    }
  }
}
process.stdout.write(JSON.stringify(results));
