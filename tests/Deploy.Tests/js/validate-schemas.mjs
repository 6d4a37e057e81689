// node validate-schemas.mjs <rendered.yaml>: validates every object against the Kubernetes 1.36
// schemas of kubernetes-models@5.1.0. Prints [{apiVersion, kind, name, status, errors}] where
// status is "valid", "invalid" (schema errors, or fields the API does not have) or "unknown-kind".
import {parseYamlDocuments, importTool} from './tools.mjs';
import {unknownFields} from './unknown-fields.mjs';

const objects = parseYamlDocuments(process.argv[2]);
const results = [];
for (const o of objects) {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [null, o.apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}/index.js` : `kubernetes-models/${version}/index.js`;
  const entry = {apiVersion: o.apiVersion, kind: o.kind, name: o.metadata?.name ?? '', status: 'valid', errors: []};
  let Model;
  try {
    Model = (await importTool(modulePath))[o.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    entry.status = 'unknown-kind';
  } else {
    try {
      new Model(o).validate();
    } catch (e) {
      entry.status = 'invalid';
      entry.errors = (e.errors ?? [{message: e.message}]).map(x => `${x.instancePath ?? ''} ${x.message}`);
    }
  }
  if (entry.status !== 'unknown-kind') {
    const unknown = unknownFields(o);
    if (unknown === null) entry.status = 'unknown-kind';
    else if (unknown.length) { entry.status = 'invalid'; entry.errors.push(...unknown); }
  }
  results.push(entry);
}
process.stdout.write(JSON.stringify(results));
