/// <reference lib="dom" />
// Pieces every view uses: the view contract, focus kept across redraws, the confirmation dialog.

import { h } from './dom.js';

export interface View {
  el: HTMLElement;
  title: string;
  /** The store changed (or a second passed). */
  update(): void;
  destroy?(): void;
}

/** Redraws `container` and puts the focus back on the element with the same data-key. */
export function keepFocus(container: Element, redraw: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const key = active !== null && container.contains(active) ? active.dataset.key : undefined;
  redraw();
  if (key !== undefined) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

export function confirmDialog(o: {
  title: string;
  body: string[];
  confirm: string;
  danger: boolean;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const returnTo = document.activeElement as HTMLElement | null;
    const cancel = h('button', { class: 'btn secondary', type: 'button', value: 'cancel' }, 'Cancel');
    const ok = h(
      'button',
      { class: `btn${o.danger ? ' danger' : ''}`, type: 'button', value: 'ok', 'data-confirm': 'yes' },
      o.confirm,
    );
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'dlg-title', 'aria-describedby': 'dlg-body' },
      h('h2', { id: 'dlg-title' }, o.title),
      h(
        'div',
        { id: 'dlg-body' },
        o.body.map((p) => h('p', null, p)),
      ),
      h('div', { class: 'actions' }, cancel, ok),
    );
    const finish = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      returnTo?.focus();
      resolve(answer);
    };
    cancel.addEventListener('click', () => finish(false));
    ok.addEventListener('click', () => finish(true));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
