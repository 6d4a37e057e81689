// A small emulation of ValidatingAdmissionPolicy semantics on top of @marcbachmann/cel-js 8.0.0:
// matchConstraints (resource, operation, version with matchPolicy), matchConditions (all must be
// true for the policy to apply), variables (lazy, in order, visible as `variables.<name>`),
// validations (all must be true). An evaluation error applies the policy's failurePolicy, as the
// API server does (Fail = deny).
import {importTool, toCel} from './tools.mjs';

const {Environment} = await importTool('@marcbachmann/cel-js/lib/index.js');
export const env = new Environment({unlistedVariablesAreDyn: true, enableOptionalTypes: true, homogeneousAggregateLiterals: false});

// Parsed once per expression (the API server compiles each policy once, too).
const parsed = new Map();
function evaluate(expression, context) {
  let program = parsed.get(expression);
  if (!program) {
    program = env.parse(expression);
    parsed.set(expression, program);
  }
  return program(context);
}

/** Does the policy's matchConstraints select this request? `served` = versions the cluster serves. */
export function matches(policy, request, served) {
  const mc = policy.spec.matchConstraints;
  return mc.resourceRules.some(rule => {
    if (!rule.apiGroups.includes(request.resource.group)) return false;
    if (!rule.resources.includes(request.resource.resource)) return false;
    if (!rule.operations.includes(request.operation)) return false;
    if (rule.apiVersions.includes(request.resource.version)) return true;
    // Equivalent: the API server converts the request to a listed version it serves.
    return (mc.matchPolicy ?? 'Equivalent') === 'Equivalent' && rule.apiVersions.some(v => served.includes(v));
  });
}

/**
 * Runs one policy against one admission request. Returns
 * {applies, allowed, failed: [{name|index, message, error?}]}.
 */
export function admit(policy, {request, object = null, oldObject = null, namespaceObject = null}) {
  const failurePolicy = policy.spec.failurePolicy ?? 'Fail';
  const base = {
    request: toCel(request),
    object: toCel(object),
    oldObject: toCel(oldObject),
    namespaceObject: toCel(namespaceObject),
    params: null,
  };
  const onError = (where, e) => failurePolicy === 'Fail'
    ? {applies: true, allowed: false, failed: [{where, message: `evaluation error: ${e.message.split('\n')[0]}`, error: true}]}
    : {applies: true, allowed: true, failed: []};

  for (const mc of policy.spec.matchConditions ?? []) {
    let v;
    try {
      v = evaluate(mc.expression, {...base, variables: {}});
    } catch (e) {
      return onError(`matchCondition ${mc.name}`, e);
    }
    if (v !== true) return {applies: false, allowed: true, failed: []};
  }

  // Variables are lazy in Kubernetes: an error surfaces only where a variable is used.
  const variables = {};
  const context = {...base, variables};
  for (const variable of policy.spec.variables ?? []) {
    let cached;
    Object.defineProperty(variables, variable.name, {
      enumerable: true,
      get() {
        if (!cached) {
          try { cached = {value: evaluate(variable.expression, context)}; } catch (e) { cached = {error: e}; }
        }
        if (cached.error) throw cached.error;
        return cached.value;
      },
    });
  }

  const failed = [];
  for (const [i, validation] of (policy.spec.validations ?? []).entries()) {
    let v;
    try {
      v = evaluate(validation.expression, context);
    } catch (e) {
      const r = onError(`validation ${i}`, e);
      if (!r.allowed) failed.push(...r.failed);
      continue;
    }
    if (v !== true) {
      let message = validation.message ?? '';
      if (validation.messageExpression) {
        try { message = evaluate(validation.messageExpression, context); } catch (e) { message = `messageExpression error: ${e.message}`; }
      }
      failed.push({where: `validation ${i}`, message});
    }
  }
  return {applies: true, allowed: failed.length === 0, failed};
}
