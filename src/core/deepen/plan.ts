/**
 * Layer plans: the order in which encoder layers run. Text form is a comma list of indices and
 * inclusive ranges, e.g. "0-11,11" (BERT-base with its last layer duplicated) or "0,1,2,2,3".
 */
import { checkPlanLength } from '../checkpoint/limits';
import { UserError } from '../errors';

export type LayerPlan = number[];

export function identityPlan(numLayers: number): LayerPlan {
  return Array.from({ length: numLayers }, (_, i) => i);
}

export function parsePlan(text: string, numLayers: number): LayerPlan {
  const trimmed = text.trim();
  if (trimmed === '') throw new UserError('layer plan is empty; give layer indices like "0-3,3"');
  const plan: number[] = [];
  trimmed.split(',').forEach((raw, partIndex) => {
    const part = raw.trim();
    const where = `part ${partIndex + 1} ("${part}") of layer plan "${trimmed}"`;
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new UserError(`${where} is malformed: expected an index like 3 or a range like 0-11`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (const v of [from, to]) {
      if (v >= numLayers) {
        throw new UserError(`${where} is out of range: the model has layers 0-${numLayers - 1}`);
      }
    }
    if (to < from) throw new UserError(`${where} is a descending range; write it as ${to}-${from} or list the indices`);
    checkPlanLength(plan.length + (to - from + 1), `layer plan "${trimmed}"`);
    for (let i = from; i <= to; i++) plan.push(i);
  });
  return plan;
}

/** Prints a plan compactly, collapsing runs of consecutive layers into ranges. */
export function printPlan(plan: LayerPlan): string {
  const parts: string[] = [];
  let i = 0;
  while (i < plan.length) {
    let j = i;
    while (j + 1 < plan.length && plan[j + 1] === plan[j] + 1) j++;
    parts.push(j === i ? String(plan[i]) : j === i + 1 ? `${plan[i]},${plan[j]}` : `${plan[i]}-${plan[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function isIdentityPlan(plan: LayerPlan, numLayers: number): boolean {
  return plan.length === numLayers && plan.every((l, i) => l === i);
}
