// The live timeline: events pushed by the controller, newest first, filtered by text.
import { h, fill } from '../dom.js';
import { eventItem } from './vm.js';

const SHOWN = 200;

export function renderEvents(main, { feed }) {
  const filter = h('input', { id: 'event-filter', type: 'search', placeholder: 'type, host, VM, words…' });
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  fill(main, h('h1', {}, 'Events'),
    h('div', { class: 'toolbar' }, h('label', { for: 'event-filter' }, 'Filter'), filter,
      h('span', { class: 'muted' }, 'Newest first; new events appear as the controller records them.')),
    list);

  const matches = (e) => {
    const q = filter.value.trim().toLowerCase();
    return !q || [e.type, e.host, e.vm, e.message].some((f) => f && f.toLowerCase().includes(q));
  };
  function draw() {
    const shown = feed.events.filter(matches).slice(0, SHOWN);
    fill(list, shown.length ? shown.map(eventItem) : h('li', { class: 'muted' }, 'No events yet.'));
  }
  filter.addEventListener('input', draw);
  const unsubscribe = feed.subscribe((e) => {
    if (!matches(e)) return;
    if (list.firstChild && list.firstChild.classList.contains('muted')) list.replaceChildren();
    const item = eventItem(e);
    item.classList.add('new');
    list.prepend(item);
    while (list.children.length > SHOWN) list.lastChild.remove();
  });
  draw();
  return { dispose: unsubscribe };
}
