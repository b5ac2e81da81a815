/**
 * The only way the panel builds DOM. Strings always become text nodes (textContent); attributes
 * go through setAttribute. Nothing is ever parsed as HTML, so a token like
 * `<img src=x onerror=alert(1)>` or `</script>` stays text.
 */
import type { SvgNode } from '../src/shared/chart';

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  [attr: string]: string | number | boolean | undefined | ((e: Event) => void);
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: Props, ...children: Child[]): HTMLElement;
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

function applyProps(el: Element, props: Props): void {
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') {
      el.addEventListener(k.replace(/^on/, '').toLowerCase(), v as EventListener);
    } else if (k === 'class') {
      el.setAttribute('class', String(v));
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svgToDom(node: SvgNode): SVGElement {
  const el = document.createElementNS(SVG_NS, node.tag);
  for (const [k, v] of Object.entries(node.attrs)) {
    if (k === 'xmlns') continue;
    el.setAttribute(k, String(v));
  }
  if (node.text !== undefined) el.textContent = node.text;
  for (const c of node.children ?? []) el.appendChild(svgToDom(c));
  return el;
}
