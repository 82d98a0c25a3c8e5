// Details of one follow-up: its whole configuration, what it did (counts, reply rate) and
// its deliveries; activate/deactivate, edit, delete with confirmation.
import { h, focus } from './dom.js';
import { api, ApiError } from './api.js';
import { t } from './i18n.js';
import {
  colorChip, delayText, duration, platformName, percent, templateName, timeEl, costText,
  warningText, templateWarnings, templateStatusText,
} from './format.js';

export async function renderDetails(root, app, id) {
  const [item, stats, deliveries] = await Promise.all([
    api.getFollowUp(id), api.stats(id), api.deliveries(id),
  ]);
  // A template that cannot be sent now: the catalogue tells its status (PAUSED, …).
  const warned = templateWarnings(item);
  const catalogue = warned.length
    ? await api.templates().then((data) => data.items, () => [])
    : [];
  if (!app.isCurrent(root)) return;
  app.title(item.name);

  const alert = h('div', { class: 'alert', role: 'alert', id: 'details-alert', hidden: true });
  const showAlert = (text) => { alert.textContent = text; alert.hidden = !text; };

  const toggle = h('button', { type: 'button', class: 'button secondary', id: 'toggle-active' },
    item.active ? t('details.deactivate') : t('details.activate'));
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    showAlert('');
    try {
      if (item.active) await api.deactivate(id);
      else await api.activate(id);
      app.flash(t(item.active ? 'notice.deactivated' : 'notice.activated', { name: item.name }));
      app.rerender();
    } catch (error) {
      toggle.disabled = false;
      showAlert(error instanceof ApiError && error.type === 'active-limit-reached'
        ? t('error.activeLimit', { max: 5 })
        : app.describeError(error));
    }
  });

  const dialog = deleteDialog(item, async () => {
    try {
      await api.deleteFollowUp(id);
      app.flash(t('notice.deleted', { name: item.name }));
      app.go('#/');
    } catch (error) {
      showAlert(app.describeError(error));
    }
  });
  const remove = h('button', { type: 'button', class: 'button danger', id: 'delete-follow-up', onclick: () => dialog.showModal() },
    t('details.delete'));

  const tpl = item.whatsapp_template;
  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/' }, t('details.back'))),
    h('div', { class: 'page-head' },
      h('h1', { id: 'page-title', tabindex: '-1' }, item.name),
      h('div', { class: 'actions' },
        h('a', { class: 'button secondary', href: `#/f/${encodeURIComponent(id)}/edit`, id: 'edit-follow-up' }, t('details.edit')),
        toggle, remove)),
    h('p', { class: 'status-line' },
      colorChip(h, item.color), ' ',
      h('span', { class: item.active ? 'badge on' : 'badge', id: 'status-badge' },
        item.active ? t('status.active') : t('status.inactive')), ' ',
      h('span', { class: 'muted' }, t('details.revision', { n: item.revision }), ' · ',
        t('details.updated'), ' ', timeEl(h, item.updated_at))),
    alert,
    warned.length ? templateWarningBox(item, warned, catalogue) : null,
    dialog,
    h('section', { 'aria-labelledby': 'config-title', class: 'panel' },
      h('h2', { id: 'config-title' }, t('details.configuration')),
      h('dl', { class: 'config' },
        row(t('field.delay'), h('div', {}, delayText(item.delay), effectiveTable(item))),
        row(t('field.description'), h('p', { class: 'prewrap' }, item.description)),
        row(t('field.stopTrigger'), h('p', { class: 'prewrap' }, item.stop_trigger)),
        row(t('field.message'), item.message.mode === 'custom'
          ? h('div', {}, t('message.custom'), h('blockquote', { class: 'prewrap' }, item.message.text))
          : t('message.ai')),
        row(t('field.template'), tpl
          ? h('div', {}, templateName(h, tpl.name), ` (${tpl.language})`,
            tpl.parameters.length
              ? h('ol', { class: 'plain' }, tpl.parameters.map((p, i) => h('li', {},
                `{{${i + 1}}} = `, p.type === 'text' ? h('q', {}, p.text) : t('template.paramProfile'))))
              : h('p', { class: 'muted' }, t('template.noParameters')))
          : t('template.none')),
        row(t('cost.label'), h('span', { id: 'cost' }, costText(item.cost))),
        row(t('details.created'), timeEl(h, item.created_at)))),
    statsSection(stats),
    deliveriesSection(deliveries.items));
}

/** Why the follow-up's WhatsApp template cannot be sent now, and what to do. */
function templateWarningBox(item, warned, catalogue) {
  const tpl = item.whatsapp_template;
  const entry = catalogue.find((e) => e.name === tpl.name && e.language === tpl.language && !e.usable);
  return h('div', { class: 'warning-box', id: 'template-warnings' },
    h('h2', {}, h('span', { 'aria-hidden': 'true' }, '⚠ '), t('warning.title')),
    h('ul', { class: 'plain' }, warned.map((w) => h('li', { 'data-code': w.code }, warningText(w, item),
      w.code === 'template_not_approved' && entry ? h('span', { class: 'block' }, t('warning.status', { status: templateStatusText(entry) })) : null))),
    h('p', {}, h('a', { href: `#/f/${encodeURIComponent(item.id)}/edit` }, t('warning.fix'))));
}

function row(label, value) {
  return h('div', { class: 'config-row' }, h('dt', {}, label), h('dd', {}, value));
}

function effectiveTable(item) {
  if (!item.effective_delays?.length) return h('p', { class: 'hint' }, t('details.aiDelayNote'));
  return h('table', { class: 'compact stack', id: 'effective-delays' },
    h('caption', {}, t('details.effectiveCaption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('platform.platform')),
      h('th', { scope: 'col' }, t('details.effectiveDelay')),
      h('th', { scope: 'col' }, t('details.sendsAs')))),
    h('tbody', {}, item.effective_delays.map((p) => h('tr', { class: p.clamped ? 'clamped' : '' },
      h('th', { scope: 'row' }, platformName(p.platform)),
      h('td', { 'data-label': t('details.effectiveDelay') }, duration(p.effective_minutes),
        p.clamped ? h('span', { class: 'block hint' }, t('details.clampedNote')) : null),
      h('td', { 'data-label': t('details.sendsAs') }, p.send_as === 'template' ? t('details.asTemplate') : t('details.asText'))))));
}

function statsSection(stats) {
  const tile = (label, value, id) => h('div', { class: 'tile', id },
    h('dt', {}, label), h('dd', {}, String(value)));
  const reasons = (kind, map) => Object.entries(map || {}).map(([reason, n]) =>
    h('li', {}, t(`stats.${kind}.${reason}`, {}, reason), ': ', h('strong', {}, String(n))));
  const notSent = [
    ...reasons('cancelled', stats.cancelled),
    ...reasons('skipped', stats.skipped),
    ...reasons('dropped', stats.dropped),
    stats.stopped ? h('li', {}, t('stats.stopped'), ': ', h('strong', {}, String(stats.stopped))) : null,
    stats.failed ? h('li', {}, t('stats.failed'), ': ', h('strong', {}, String(stats.failed))) : null,
    stats.outcome_unknown ? h('li', {}, t('stats.unknown'), ': ', h('strong', {}, String(stats.outcome_unknown))) : null,
  ].filter(Boolean);
  return h('section', { 'aria-labelledby': 'stats-title', class: 'panel' },
    h('h2', { id: 'stats-title' }, t('details.results')),
    h('dl', { class: 'tiles' },
      tile(t('stats.scheduledLabel'), stats.scheduled, 'stat-scheduled'),
      tile(t('stats.sentLabel'), stats.sent, 'stat-sent'),
      tile(t('stats.repliedLabel'), stats.replied, 'stat-replied'),
      tile(t('stats.replyRate'), stats.reply_rate === null ? '–' : percent(stats.reply_rate), 'stat-reply-rate')),
    h('p', { class: 'hint' }, t('stats.replyRateHint')),
    notSent.length ? h('div', {}, h('h3', {}, t('stats.notSentTitle')), h('ul', { class: 'plain' }, notSent)) : null);
}

function deliveriesSection(items) {
  const body = items.length === 0
    ? h('p', { class: 'muted' }, t('deliveries.none'))
    : h('table', { class: 'stack', id: 'deliveries' },
      h('thead', {}, h('tr', {}, ['when', 'to', 'channel', 'status', 'sentAs', 'replied'].map((k) =>
        h('th', { scope: 'col' }, t(`deliveries.${k}`))))),
      h('tbody', {}, items.map((d) => h('tr', {},
        cell('when', timeEl(h, d.sent_at || d.created_at)),
        cell('to', h('a', { href: `#/c/${encodeURIComponent(d.conversation_id)}` }, d.customer_id)),
        cell('channel', platformName(d.platform)),
        cell('status', h('span', { class: `status status-${d.status}` }, t(`deliveryStatus.${d.status}`, {}, d.status)),
          d.detail ? h('span', { class: 'block hint' }, t(`reason.${d.detail}`, {}, d.detail)) : null),
        cell('sentAs', d.sent_as === 'template' ? h('span', {}, t('details.asTemplate'), ' ', templateName(h, d.template_name || ''),
          d.billed ? h('span', { class: 'badge billed', 'data-billed': 'true' }, t('deliveries.billed')) : null)
          : d.sent_as === 'text' ? t('details.asText') : '–'),
        cell('replied', d.replied_at ? timeEl(h, d.replied_at) : t('deliveries.notReplied'))))));
  return h('section', { 'aria-labelledby': 'deliveries-title', class: 'panel' },
    h('h2', { id: 'deliveries-title' }, t('details.deliveries')), body);
}

function cell(key, ...content) {
  return h('td', { 'data-label': t(`deliveries.${key}`) }, content);
}

function deleteDialog(item, onConfirm) {
  const titleId = 'delete-title';
  const confirm = h('button', { type: 'button', class: 'button danger', id: 'confirm-delete' }, t('details.deleteConfirm'));
  const cancel = h('button', { type: 'button', class: 'button secondary', id: 'cancel-delete' }, t('form.cancel'));
  const dialog = h('dialog', { 'aria-labelledby': titleId, 'aria-describedby': 'delete-text', class: 'dialog' },
    h('h2', { id: titleId }, t('details.deleteTitle', { name: item.name })),
    h('p', { id: 'delete-text' }, t('details.deleteText')),
    h('div', { class: 'form-actions' }, cancel, confirm));
  cancel.addEventListener('click', () => dialog.close());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    await onConfirm();
    dialog.close();
  });
  // The safe choice has focus when the dialog opens.
  dialog.addEventListener('keydown', (e) => { if (e.key === 'Escape') dialog.close(); });
  const open = dialog.showModal.bind(dialog);
  dialog.showModal = () => { open(); focus(cancel); };
  return dialog;
}

