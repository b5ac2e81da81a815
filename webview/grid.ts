/**
 * The per-layer reconstruction grid: rows h0..hL, columns the input tokens. A real <table> with
 * role="grid", row and column headers, a roving tabindex, arrow-key navigation, and a tooltip
 * (hover or focus) listing the top-k predictions with the input token's rank.
 */
import type { LayerCells, LayerSummary, ProbeReport, ProbedSentence } from '../src/core/probe/report';
import { displayToken, fmtNum, fmtPct, layerLabels, prob, tokenOf } from '../src/shared/format';
import { colorAt, counted, settleLayers, DEFAULT_STATISTIC, Domain, formatStat, scaleOf, Statistic, statDomain, statisticInfo, statValue, textOn } from '../src/shared/heatmap';
import { h } from './dom';

export interface GridOptions {
  /** Cells to highlight as different from a compared run: key `${layer}:${pos}`. */
  differs?: Set<string>;
  caption: string;
  idPrefix: string;
  /** The statistic that colours the cells (default log p(input)). */
  stat?: Statistic;
  /** The colour scale's ends; default the statistic's own for this report. */
  domain?: Domain;
  /** The cells to show; default the sentence's layers (the "each token masked in turn" grid passes its own). */
  cells?: LayerCells[];
  /** The summary row of each shown row (its label and source); default the report's summary. With h·attn rows, summaryRows(report). */
  rows?: LayerSummary[];
}

/** The token a position is scored against: the gold at a mask (undefined when none was given), else the input. */
export function targetOf(sentence: ProbedSentence, p: number): number | undefined {
  const m = sentence.masks?.find((x) => x.position === p);
  return m ? m.gold : sentence.ids[p];
}

export function maskAt(sentence: ProbedSentence, p: number) {
  return sentence.masks?.find((x) => x.position === p);
}

/** Paints a heatmap cell: an opaque palette fill with black or white text (CSSOM, which the CSP allows). */
export function paint(el: HTMLElement, t: number): void {
  if (Number.isNaN(t)) return;
  const fill = colorAt(t);
  el.style.backgroundColor = fill;
  el.style.color = textOn(fill);
}

export function renderGrid(report: ProbeReport, sentence: ProbedSentence, options: GridOptions): HTMLElement {
  const labels = options.rows ? options.rows.map((r) => r.label) : layerLabels(report);
  const rows = options.rows ?? report.summary;
  const layers = options.cells ?? sentence.layers;
  const stat = options.stat ?? DEFAULT_STATISTIC;
  const domain = options.domain ?? statDomain(report, stat);
  const statLabel = statisticInfo(stat).label;
  // The last kept column of a truncated input is marked as the cut.
  const cutAt = sentence.truncatedFrom ? sentence.ids.length - 1 : -1;
  const table = h('table', {
    class: 'grid',
    role: 'grid',
    'aria-rowcount': layers.length + 2,
    'aria-colcount': sentence.ids.length + 1,
    'data-testid': `${options.idPrefix}-grid`,
  });
  table.appendChild(h('caption', {}, options.caption));
  const headRow = h('tr', { role: 'row', 'aria-rowindex': 1 }, h('th', { scope: 'col', class: 'corner', role: 'columnheader', 'aria-colindex': 1 }, 'layer'));
  // A mask is judged against its gold (or not at all), never dimmed as a special token.
  const excludedAt = (p: number) => !maskAt(sentence, p) && !counted(report, sentence, p);
  sentence.tokens.forEach((tok, p) => {
    const m = maskAt(sentence, p);
    const gold = m?.gold !== undefined ? tokenOf(report, m.gold) : undefined;
    headRow.appendChild(
      h(
        'th',
        {
          scope: 'col', role: 'columnheader', 'aria-colindex': p + 2, 'data-p': p,
          class: ['tok', sentence.special[p] ? 'special' : '', excludedAt(p) ? 'excluded' : '', m ? 'masked' : '', cutAt === p ? 'cut' : ''].filter(Boolean).join(' '),
          title: `position ${p}, id ${sentence.ids[p]}${excludedAt(p) ? ' (special token, not counted in the summary)' : ''}${m ? (gold !== undefined ? ` · masked, gold "${gold}"` : ' · masked, target unknown') : ''}${cutAt === p ? ` · the input was cut here: ${sentence.truncatedFrom} tokens before truncation` : ''}`,
        },
        displayToken(tok), m ? h('span', { class: 'gold' }, gold !== undefined ? `=${displayToken(gold)}` : '=?') : null,
      ),
    );
  });
  table.appendChild(h('thead', {}, headRow));
  const body = h('tbody');
  layers.forEach((layer, l) => {
    const source = rows[l]?.sourceLayer;
    const sub = rows[l]?.sublayer === true;
    const row = h(
      'tr',
      { role: 'row', 'aria-rowindex': l + 2, class: sub ? 'sublayer' : '' },
      h('th', { scope: 'row', role: 'rowheader', class: 'layer', 'aria-colindex': 1, title: rowTitle(source, sub) }, labels[l] ?? `h${l}`),
    );
    for (let p = 0; p < sentence.ids.length; p++) {
      const top1 = layer.top1[p];
      const target = targetOf(sentence, p);
      const match = top1 === target;
      const pIn = prob(layer.inputLogProb[p]);
      const value = statValue(layer, p, stat);
      const excluded = excludedAt(p);
      const unknown = target === undefined;
      // Not computed: a mask or special in the masked-in-turn grid, or a non-finite distribution.
      const none = typeof top1 !== 'number' || Number.isNaN(top1);
      const cls = ['cell', none ? 'none' : unknown ? 'unknown' : match ? 'hit' : 'miss'];
      if (sentence.special[p]) cls.push('special');
      // A special token the summary leaves out is dimmed, not judged: no hit or mismatch mark.
      if (excluded) cls.push('excluded');
      if (options.differs?.has(`${l}:${p}`)) cls.push('diff');
      if (p === cutAt) cls.push('cut');
      const label =
        `${labels[l] ?? `h${l}`}, input ${displayToken(sentence.tokens[p])}: predicts ${displayToken(tokenOf(report, top1))}` +
        `${excluded ? ' (special token, not counted)' : unknown ? ' (masked, target unknown)' : match ? ' (match)' : ' (mismatch)'}, ${statLabel} ${formatStat(stat, value)}, input probability ${fmtPct(pIn)}, rank ${layer.rank[p]}`;
      const td = h(
        'td',
        { class: cls.join(' '), role: 'gridcell', tabindex: -1, 'aria-colindex': p + 2, 'aria-label': label, 'data-l': l, 'data-p': p, 'data-v': String(value) },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, excluded || none ? '' : unknown ? '?' : match ? '✓' : '≠'),
        displayToken(tokenOf(report, top1)),
      );
      // Excluded specials keep the theme's background and muted text: dimmed, readable in every theme.
      if (!excluded && !none) paint(td, scaleOf(stat, value, domain));
      row.appendChild(td);
    }
    body.appendChild(row);
  });
  table.appendChild(body);
  // Where the final answer first appears: the first layer from which the final top-1 stays top-1.
  const settle = settleLayers(layers);
  table.appendChild(h('tfoot', {}, h('tr', { role: 'row', 'aria-rowindex': layers.length + 2, class: 'settle-row' },
    h('th', { scope: 'row', role: 'rowheader', class: 'layer', title: 'The first layer from which the final top-1 stays top-1' }, 'settles'),
    ...settle.map((l, p) => h('td', { role: 'gridcell', class: 'settle', 'data-p': p, 'data-settle': l }, typeof layers[l]?.top1[p] === 'number' && !Number.isNaN(layers[l].top1[p]) ? (labels[l] ?? `h${l}`) : '–')))));
  const first = body.querySelector<HTMLElement>('td');
  if (first) first.tabIndex = 0;
  wireGrid(table, report, sentence, layers, labels);
  return table;
}

function rowTitle(source: number | null | undefined, sublayer: boolean): string {
  if (source === null || source === undefined) return 'embeddings (after LayerNorm)';
  return sublayer ? `encoder layer ${source} after its attention block, before its MLP` : `output of encoder layer ${source}`;
}

function wireGrid(table: HTMLTableElement, report: ProbeReport, sentence: ProbedSentence, layers: LayerCells[], labels: string[]): void {
  const cellAt = (l: number, p: number) => table.querySelector<HTMLElement>(`td[data-l="${l}"][data-p="${p}"]`);
  const pos = (el: Element) => ({ l: Number(el.getAttribute('data-l')), p: Number(el.getAttribute('data-p')) });
  const move = (from: HTMLElement, to: HTMLElement | null) => {
    if (!to) return;
    from.tabIndex = -1;
    to.tabIndex = 0;
    to.focus();
  };
  table.addEventListener('keydown', (e) => {
    const cell = (e.target as HTMLElement).closest('td.cell') as HTMLElement | null;
    if (!cell) return;
    const { l, p } = pos(cell);
    const L = layers.length;
    const P = sentence.ids.length;
    let next: HTMLElement | null = null;
    switch (e.key) {
      case 'ArrowUp': next = cellAt(Math.max(0, l - 1), p); break;
      case 'ArrowDown': next = cellAt(Math.min(L - 1, l + 1), p); break;
      case 'ArrowLeft': next = cellAt(l, Math.max(0, p - 1)); break;
      case 'ArrowRight': next = cellAt(l, Math.min(P - 1, p + 1)); break;
      case 'Home': next = e.ctrlKey ? cellAt(0, 0) : cellAt(l, 0); break;
      case 'End': next = e.ctrlKey ? cellAt(L - 1, P - 1) : cellAt(l, P - 1); break;
      case 'PageUp': next = cellAt(0, p); break;
      case 'PageDown': next = cellAt(L - 1, p); break;
      case 'Escape': hideTip(); return;
      default: return;
    }
    e.preventDefault();
    move(cell, next);
  });
  table.addEventListener('focusin', (e) => {
    const cell = (e.target as HTMLElement).closest('td.cell') as HTMLElement | null;
    if (cell) showTip(cell, report, sentence, layers, labels);
  });
  table.addEventListener('focusout', () => hideTip());
  table.addEventListener('mouseover', (e) => {
    const cell = (e.target as HTMLElement).closest('td.cell') as HTMLElement | null;
    if (cell) showTip(cell, report, sentence, layers, labels);
  });
  table.addEventListener('mouseleave', () => {
    if (!table.contains(document.activeElement)) hideTip();
  });
  table.addEventListener('click', (e) => {
    const cell = (e.target as HTMLElement).closest('td.cell') as HTMLElement | null;
    const current = table.querySelector<HTMLElement>('td[tabindex="0"]');
    if (cell && current) move(current, cell);
  });
}

let tip: HTMLElement | undefined;

function tooltip(): HTMLElement {
  if (!tip) {
    tip = h('div', { id: 'tooltip', role: 'tooltip', class: 'tooltip', hidden: true });
    document.body.appendChild(tip);
  }
  return tip;
}

export function hideTip(): void {
  if (tip) tip.hidden = true;
}

function showTip(cell: HTMLElement, report: ProbeReport, sentence: ProbedSentence, layers: LayerCells[], labels: string[]): void {
  const l = Number(cell.getAttribute('data-l'));
  const p = Number(cell.getAttribute('data-p'));
  const layer = layers[l];
  const label = labels[l] ?? `h${l}`;
  const input = targetOf(sentence, p);
  const m = maskAt(sentence, p);
  const what = m ? (m.gold !== undefined ? 'gold' : 'target unknown') : 'input';
  const t = tooltip();
  while (t.firstChild) t.removeChild(t.firstChild);
  t.appendChild(h('div', { class: 'tip-title' }, `${label} · input `, h('b', {}, displayToken(sentence.tokens[p])), ` (position ${p})`));
  const list = h('ol', { class: 'topk' });
  layer.topKIds[p].forEach((id, k) => {
    const pr = prob(layer.topKLogProbs[p][k]);
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--w', `${Math.max(1, Math.round(pr * 100))}%`);
    list.appendChild(
      h('li', { class: id === input ? 'is-input' : '' }, h('span', { class: 'tk' }, displayToken(tokenOf(report, id))), bar, h('span', { class: 'pr' }, fmtPct(pr))),
    );
  });
  t.appendChild(list);
  t.appendChild(
    h(
      'div',
      { class: 'tip-foot' },
      `${what === 'target unknown' ? 'masked: target unknown' : `${what} rank ${layer.rank[p]} · p(${what}) ${fmtPct(prob(layer.inputLogProb[p]))} · log p ${fmtNum(layer.inputLogProb[p])}`} · entropy ${fmtNum(layer.entropy[p])} · KL→final ${fmtNum(layer.kl[p], 3)}`,
    ),
  );
  t.hidden = false;
  const r = cell.getBoundingClientRect();
  const tw = t.offsetWidth;
  const th = t.offsetHeight;
  let x = r.left + window.scrollX;
  let y = r.bottom + window.scrollY + 4;
  if (x + tw > window.scrollX + document.documentElement.clientWidth - 4) x = Math.max(4, window.scrollX + document.documentElement.clientWidth - tw - 4);
  if (r.bottom + th + 8 > window.innerHeight) y = r.top + window.scrollY - th - 4;
  t.style.left = `${x}px`;
  t.style.top = `${y}px`;
  cell.setAttribute('aria-describedby', 'tooltip');
}
