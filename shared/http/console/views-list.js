// Main view: the chatbot's follow-ups with colour, active switch, delay and message mode.
import { h, clear, uid } from './dom.js';
import { api, ApiError } from './api.js';
import { t } from './i18n.js';
import {
  COLORS, colorChip, colorName, delayText, duration, platformName, templateName, warningText,
  templateWarnings,
} from './format.js';

// Filters survive navigating away and back within the tab.
const filter = { color: '', active: '' };

export async function renderList(root, app) {
  app.title(t('list.title'));
  const alert = h('div', { class: 'alert', role: 'alert', id: 'list-alert', hidden: true });
  const limit = h('div', { class: 'limit', id: 'active-limit' });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite', id: 'list-summary' });
  const list = h('ul', { class: 'cards', id: 'follow-up-list', 'aria-labelledby': 'page-title' });

  const colorId = uid('filter-color');
  const activeId = uid('filter-active');
  const colorSelect = h('select', { id: colorId, name: 'color', value: filter.color },
    h('option', { value: '' }, t('filter.allColors')),
    COLORS.map((c) => h('option', { value: c }, colorName(c))));
  const activeSelect = h('select', { id: activeId, name: 'active', value: filter.active },
    h('option', { value: '' }, t('filter.all')),
    h('option', { value: 'true' }, t('filter.activeOnly')),
    h('option', { value: 'false' }, t('filter.inactiveOnly')));
  colorSelect.value = filter.color;
  activeSelect.value = filter.active;
  const onFilter = () => {
    filter.color = colorSelect.value;
    filter.active = activeSelect.value;
    load();
  };
  colorSelect.addEventListener('change', onFilter);
  activeSelect.addEventListener('change', onFilter);

  root.append(
    h('div', { class: 'page-head' },
      h('h1', { id: 'page-title', tabindex: '-1' }, t('list.title')),
      h('a', { class: 'button primary', href: '#/new', id: 'create-follow-up' }, t('list.create'))),
    limit,
    alert,
    h('form', { class: 'filters', role: 'search', 'aria-label': t('filter.label'), onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field inline' }, h('label', { for: colorId }, t('filter.color')), colorSelect),
      h('div', { class: 'field inline' }, h('label', { for: activeId }, t('filter.status')), activeSelect)),
    summary,
    list,
  );

  function showAlert(text) {
    alert.textContent = text;
    alert.hidden = !text;
  }

  function renderLimit(count, max) {
    const full = count >= max;
    clear(limit, 
      h('p', { class: 'limit-count' },
        h('strong', { id: 'active-count' }, t('list.activeCount', { count, max })),
        h('span', { class: 'segments', 'aria-hidden': 'true' },
          Array.from({ length: max }, (_, i) => h('span', { class: i < count ? 'on' : '' })))),
      h('p', { class: full ? 'limit-note full' : 'limit-note' },
        full ? t('list.limitReached', { max }) : t('list.limitExplained', { max })));
  }

  async function toggle(item, button) {
    button.disabled = true;
    showAlert('');
    try {
      if (item.active) await api.deactivate(item.id);
      else await api.activate(item.id);
      app.announce(t(item.active ? 'notice.deactivated' : 'notice.activated', { name: item.name }));
      await load(item.id);
    } catch (error) {
      button.disabled = false;
      if (error instanceof ApiError && error.type === 'active-limit-reached') {
        showAlert(t('error.activeLimit', { max: 5 }));
      } else {
        showAlert(app.describeError(error));
      }
    }
  }

  function card(item) {
    const nameId = uid('fu-name');
    const labelId = uid('fu-switch');
    const switchButton = h('button', {
      type: 'button',
      role: 'switch',
      class: 'switch',
      'aria-checked': String(item.active),
      'aria-labelledby': `${labelId} ${nameId}`,
      'data-id': item.id,
    },
    h('span', { class: 'track', 'aria-hidden': 'true' }, h('span', { class: 'thumb' })),
    h('span', { class: 'switch-label', id: labelId }, t('field.active')));
    switchButton.addEventListener('click', () => toggle(item, switchButton));

    return h('li', { class: item.active ? 'card' : 'card inactive', 'data-id': item.id, 'data-color': item.color || '' },
      h('div', { class: 'card-head' }, colorChip(h, item.color), switchButton),
      h('h2', { class: 'card-title', id: nameId }, h('a', { href: `#/f/${encodeURIComponent(item.id)}` }, item.name)),
      item.active ? null : h('p', { class: 'card-status' }, h('span', { class: 'badge' }, t('status.inactive')), ' ', t('list.inactiveNote')),
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, t('field.delay')), h('dd', {}, delayFacts(item))),
        h('div', {}, h('dt', {}, t('field.message')), h('dd', {}, t(`message.${item.message.mode}`))),
        item.whatsapp_template
          ? h('div', {}, h('dt', {}, t('field.template')),
            h('dd', {}, templateName(h, item.whatsapp_template.name), ` (${item.whatsapp_template.language})`))
          : null),
      templateWarnings(item).map((w) => h('p', { class: 'card-warning', 'data-code': w.code },
        h('span', { 'aria-hidden': 'true' }, '⚠ '), warningText(w, item))));
  }

  let latest = 0;
  async function load(focusId) {
    // Filters can change faster than answers come back: only the newest request counts.
    latest += 1;
    const mine = latest;
    let data;
    try {
      data = await api.listFollowUps({ color: filter.color, active: filter.active });
    } catch (error) {
      if (mine === latest) showAlert(app.describeError(error));
      return;
    }
    if (!app.isCurrent(root) || mine !== latest) return;
    renderLimit(data.active_count, data.active_limit);
    clear(list, ...data.items.map(card));
    const filtered = filter.color || filter.active;
    if (data.items.length === 0) {
      summary.textContent = filtered ? t('list.noneMatch') : t('list.empty');
    } else {
      summary.textContent = t('list.showing', { n: data.items.length });
    }
    if (focusId) list.querySelector(`button[data-id="${CSS.escape(focusId)}"]`)?.focus();
  }

  await load();
}

/** "4 h", or "24 h" with the platforms where it is shortened or sent as a template. */
export function delayFacts(item) {
  const base = delayText(item.delay);
  const special = (item.effective_delays || []).filter((p) => p.clamped || p.send_as === 'template');
  if (!special.length) return base;
  return h('span', {}, base,
    h('ul', { class: 'effective' }, special.map((p) => h('li', {},
      p.clamped
        ? t('delay.clampedOn', { platform: platformName(p.platform), delay: duration(p.effective_minutes) })
        : t('delay.templateOn', { platform: platformName(p.platform), delay: duration(p.effective_minutes) })))));
}
