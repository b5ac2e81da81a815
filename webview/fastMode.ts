/**
 * The panel's fast-mode pieces, kept out of the views: the toggle (the `layer-lens.fast` setting,
 * used by the next probe) and the note on a fast run that says what is exact and which figures
 * are approximate, by at most how much on the run's calibration sample.
 */
import type { ProbeReport } from '../src/core/probe/report';
import { fastBounds, fastHeadline } from '../src/shared/fastMode';
import { h } from './dom';

export function fastToggle(fast: boolean | undefined, onChange: (fast: boolean) => void): HTMLElement {
  const box = h('input', { type: 'checkbox', id: 'fast-mode', 'data-testid': 'fast-toggle' }) as HTMLInputElement;
  box.checked = fast === true;
  box.disabled = fast === undefined; // until the host has said what the setting is
  box.addEventListener('change', () => onChange(box.checked));
  return h('label', { class: 'fast-toggle', for: 'fast-mode', title: 'int8 decoder with exact rescoring of the top 16; applies to the next probe (layer-lens.fast)' }, box, ' Fast mode');
}

/** A note under the header of a fast run; null for an exact one. */
export function fastNote(report: ProbeReport): HTMLElement | null {
  if (!report.fast) return null;
  return h('p', { class: 'fast-note', 'data-testid': 'fast-note', role: 'note' },
    h('strong', {}, 'Fast run. '), fastHeadline(report.fast).replace(/^fast mode: /, ''), '. ', fastBounds(report.fast), '.');
}
