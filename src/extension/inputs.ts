/** Where sentences come from: an input box with recent entries, the editor selection, a corpus file. */
import * as vscode from 'vscode';
import type { ProbeInput } from '../core/probe/engine';
import { PAIR_SEPARATOR, parseInputLine } from './corpus';

export { parseCorpus, parseInputLine } from './corpus';

const RECENT_KEY = 'layer-lens.recentInputs';
const MAX_RECENT = 20;

export function recentInputs(state: vscode.Memento): string[] {
  const v = state.get<unknown>(RECENT_KEY, []);
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

export async function rememberInput(state: vscode.Memento, text: string): Promise<void> {
  const list = [text, ...recentInputs(state).filter((s) => s !== text)].slice(0, MAX_RECENT);
  await state.update(RECENT_KEY, list);
}

interface InputItem extends vscode.QuickPickItem {
  text: string;
}

/**
 * An input box that also offers recent entries and the default sentences. What is typed is always
 * the first item, so Enter probes exactly the typed text even when a longer recent entry matches.
 */
export function askSentence(state: vscode.Memento, defaults: string[], title: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<InputItem>();
    qp.title = title;
    qp.placeholder = `A sentence to probe (or "first ${PAIR_SEPARATOR} second" for a pair); Enter to run`;
    qp.ignoreFocusOut = true;
    qp.matchOnDetail = false;
    const recents = recentInputs(state);
    const fixed: InputItem[] = [
      ...recents.map((t) => ({ label: t, description: 'recent', text: t })),
      ...defaults.filter((d) => !recents.includes(d)).map((t) => ({ label: t, description: 'default', text: t })),
    ];
    const refresh = () => {
      const typed = qp.value.trim();
      const first: InputItem[] = typed ? [{ label: typed, description: 'probe this text', alwaysShow: true, text: typed }] : [];
      qp.items = [...first, ...fixed.filter((i) => i.text !== typed)];
      if (first.length) qp.activeItems = [qp.items[0]];
    };
    refresh();
    let done = false;
    const finish = (value: string | undefined) => {
      if (done) return;
      done = true;
      resolve(value);
      qp.dispose();
    };
    qp.onDidChangeValue(refresh);
    qp.onDidAccept(() => {
      const item = qp.activeItems[0] ?? qp.selectedItems[0];
      const text = item?.text ?? qp.value.trim();
      if (text) finish(text);
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}

/** The selection's lines as inputs, or the current line when nothing is selected. */
export function selectionInputs(editor: vscode.TextEditor): ProbeInput[] {
  const texts = editor.selections.map((s) => (s.isEmpty ? editor.document.lineAt(s.active.line).text : editor.document.getText(s)));
  return texts.flatMap((t) => t.split(/\r?\n/)).map((l) => l.trim()).filter((l) => l !== '').map(parseInputLine);
}
