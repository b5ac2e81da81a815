/** `layer-lens deepen`: write a deeper checkpoint by duplicating encoder layers (no training). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readConfigFile } from '../../core/checkpoint/config';
import { locateModel } from '../../core/checkpoint/locate';
import { looksLikeMergekit, parseMergekitYaml, printMergekitYaml } from '../../core/deepen/mergekit';
import { printPlan } from '../../core/deepen/plan';
import { parsePresetOrPlan, PRESETS } from '../../core/deepen/presets';
import { writeDeepenedCheckpoint } from '../../core/deepen/writer';
import { isCancelled, UserError } from '../../core/errors';
import { readUserText } from '../../core/files';

export const DEEPEN_USAGE = `Usage: layer-lens deepen MODEL --plan PLAN [--out DIR] [--overwrite]
       layer-lens deepen MODEL --plan mergekit.yaml [--out DIR]
       layer-lens deepen MODEL --plan PLAN --print-yaml

MODEL        the source checkpoint folder (only read, never modified)
--plan       the order encoder layers run in the new model, one of:
               explicit indices and inclusive ranges, e.g. 0-11,11
${PRESETS.map((p) => `               ${p.id.padEnd(10)} ${p.label.toLowerCase()}: ${p.argument}`).join('\n')}
               a mergekit passthrough YAML file (slices / layer_range, half-open)
--out        target folder (default: <MODEL>-deep-<plan> next to MODEL); must not exist
--overwrite  replace an existing target folder
--print-yaml print the plan as mergekit passthrough YAML and exit`;

export async function runDeepenCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plan: { type: 'string' },
      out: { type: 'string' },
      overwrite: { type: 'boolean' },
      'print-yaml': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DEEPEN_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`expected one MODEL folder, got ${positionals.length}\n\n${DEEPEN_USAGE}`);
  if (!values.plan) throw new UserError(`give a layer plan with --plan\n\n${DEEPEN_USAGE}`);
  const source = positionals[0];
  const config = readConfigFile(locateModel(source).configFile);
  const { plan, planText, yamlModel } = readPlanArgument(values.plan, config.numLayers);
  if (yamlModel !== undefined && path.resolve(yamlModel) !== path.resolve(source) && path.basename(yamlModel) !== path.basename(path.resolve(source))) {
    console.log(`note: the mergekit config names model "${yamlModel}"; its layer plan is applied to ${source}`);
  }

  if (values['print-yaml']) {
    process.stdout.write(printMergekitYaml(plan, source));
    return 0;
  }
  let lastPct = -1;
  // SIGINT / SIGTERM: stop at the next tensor, let the writer remove its temp folder, then exit
  // 128 + signal number. A second signal exits at once (the next run removes what is left).
  const ac = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };
  const onSignal = (sig: NodeJS.Signals) => {
    if (caught) process.exit(128 + SIGNALS[caught]);
    caught = sig;
    process.stderr.write(`${sig}: stopping; removing the partial output…\n`);
    ac.abort();
  };
  for (const sig of Object.keys(SIGNALS)) process.on(sig, onSignal);
  let result;
  try {
    result = await writeDeepenedCheckpoint({
      source,
      plan,
      planText,
      target: values.out,
      overwrite: values.overwrite,
      signal: ac.signal,
      onStaleCleanup: (c) => {
        for (const r of c.restored) console.log(`note: restored ${r.target}, which an interrupted overwrite had moved aside`);
        for (const r of c.removed) {
          console.log(`note: removed ${r.dir} (${(r.bytes / 1e6).toFixed(1)} MB), left by an interrupted deepen run (pid ${r.pid})`);
        }
      },
      onProgress: (done, total) => {
        const pct = Math.floor((100 * done) / Math.max(1, total) / 10) * 10;
        if (pct > lastPct) {
          lastPct = pct;
          process.stderr.write(`written ${pct}% (${(done / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB)\n`);
        }
      },
    });
  } catch (e) {
    if (caught && isCancelled(e)) {
      console.error(`layer-lens: interrupted by ${caught}; the partial output was removed and nothing was written.`);
      return 128 + SIGNALS[caught];
    }
    throw e;
  } finally {
    for (const sig of Object.keys(SIGNALS)) process.off(sig, onSignal);
  }
  if (caught) {
    // The signal came after the model was published: it is complete, so keep it and say so.
    console.error(`layer-lens: ${caught} arrived after ${result.target} was completely written; it is kept.`);
  }
  for (const n of result.notes) console.log(`note: ${n}`);
  const mbps = result.bytes / 1e6 / Math.max(result.ms / 1000, 1e-3);
  console.log(
    `wrote ${result.target}: ${config.numLayers} → ${result.numLayers} layers (plan ${planText}), ${result.tensors} tensors, ` +
      `${(result.bytes / 1e6).toFixed(1)} MB in ${(result.ms / 1000).toFixed(2)} s (${mbps.toFixed(0)} MB/s)`,
  );
  return 0;
}

/** --plan is a preset, an explicit plan, a mergekit YAML file, or mergekit YAML text. */
export function readPlanArgument(arg: string, numLayers: number): { plan: number[]; planText: string; yamlModel?: string } {
  if (/\.ya?ml$/i.test(arg) || (fs.existsSync(arg) && fs.statSync(arg).isFile())) {
    // A regular text file of sane size: a FIFO or /dev/zero named plan.yaml must not hang or fill memory.
    const text = readUserText(arg, 'mergekit YAML');
    const m = parseMergekitYaml(text, numLayers, arg);
    return { plan: m.plan, planText: printPlan(m.plan), yamlModel: m.model };
  }
  if (looksLikeMergekit(arg)) {
    const m = parseMergekitYaml(arg, numLayers);
    return { plan: m.plan, planText: printPlan(m.plan), yamlModel: m.model };
  }
  const plan = parsePresetOrPlan(arg, numLayers);
  return { plan, planText: printPlan(plan) };
}
