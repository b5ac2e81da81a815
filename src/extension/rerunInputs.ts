/** The inputs that re-run a panel run: its sentences, their masks, and optionally one more masked token. */
import type { ProbeInput } from '../core/probe/engine';
import type { ProbeReport } from '../core/probe/report';

export function rerunInputs(report: ProbeReport, mask?: { sentence: number; position: number }): ProbeInput[] {
  return report.sentences.map((s, i) => {
    const masks = s.masks ?? [];
    // Gold tokens of typed masks go back in order; they stop at the first typed mask without one.
    const gold: string[] = [];
    for (const m of masks.filter((x) => x.source === 'text')) {
      if (m.gold === undefined) break;
      gold.push(report.vocab[m.gold]);
    }
    const positions = masks.filter((x) => x.source === 'masked').map((x) => x.position);
    if (mask && mask.sentence === i && !positions.includes(mask.position)) positions.push(mask.position);
    return {
      text: s.text,
      ...(s.pair !== undefined ? { pair: s.pair } : {}),
      ...(gold.length ? { maskGold: gold } : {}),
      ...(positions.length ? { maskPositions: positions.sort((a, b) => a - b) } : {}),
    };
  });
}
