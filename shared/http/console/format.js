// Formatting shared by the views: delays, times, colours, platforms.
import { t, currentLanguage } from './i18n.js';

export const COLORS = ['gray', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink'];
export const PLATFORMS = ['whatsapp', 'messenger', 'instagram'];
export const ACTIVE_LIMIT = 5;
/** Meta's messaging window for free-form text, in minutes. */
export const WINDOW_MINUTES = 24 * 60;

const PLATFORM_NAMES = { whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram' };
export const platformName = (p) => PLATFORM_NAMES[p] || p;

export const colorName = (c) => (c ? t(`color.${c}`) : t('color.none'));

/** 240 → "4 h", 90 → "1 h 30 min", 4320 → "3 days". */
export function duration(minutes) {
  if (minutes >= 2 * 1440 && minutes % 1440 === 0) return t('unit.days', { n: minutes / 1440 });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const parts = [];
  if (hours) parts.push(t('unit.hours', { n: hours }));
  if (rest || !hours) parts.push(t('unit.minutes', { n: rest }));
  return parts.join(' ');
}

export function delayText(delay) {
  if (!delay || delay.mode === 'ai') return t('delay.ai');
  return duration(delay.minutes);
}

/** Plain date and time in the console's language, in the browser's time zone. */
export function dateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium', timeStyle: 'short' })
    .format(date);
}

export function percent(share) {
  return new Intl.NumberFormat(currentLanguage(), { style: 'percent', maximumFractionDigits: 1 })
    .format(share);
}

/** A <time> element. */
export function timeEl(h, iso) {
  return h('time', { datetime: iso }, dateTime(iso));
}

/** The colour label: a swatch and the colour's name (never colour alone). */
export function colorChip(h, color) {
  return h('span', { class: `chip chip-${color || 'none'}` },
    h('span', { class: 'swatch', 'aria-hidden': 'true' }),
    colorName(color));
}

/** A template name in <code>, breakable after its underscores on narrow screens. */
export function templateName(h, name) {
  const parts = String(name).split('_');
  return h('code', {}, parts.flatMap((part, i) => (i ? ['_', h('wbr'), part] : [part])));
}

// ---- WhatsApp templates --------------------------------------------------------------------

/** Meta's template category (`UTILITY`, …) in words; `null` → "unknown category". */
export const categoryName = (c) => (c ? t(`templateCategory.${c}`, {}, c) : t('templateCategory.unknown'));

/** The distinct numbered placeholders of a template text, ascending: "Hi {{1}} {{2}}" → [1, 2]. */
export function placeholderNumbers(text) {
  const found = new Set();
  for (const match of String(text || '').matchAll(/\{\{\s*(\d+)\s*\}\}/g)) found.add(Number(match[1]));
  return [...found].sort((a, b) => a - b);
}

/** Whether Meta accepts sends of a template in this status. */
export const sendableStatus = (status) => status === 'APPROVED' || status === 'FLAGGED';

/**
 * Why a catalogue entry cannot be picked, in words ("PAUSED – Meta paused it…"), or its
 * status when it can ("APPROVED").
 */
export function templateStatusText(entry) {
  if (entry.missing) return t('template.notInCatalogue');
  if (sendableStatus(entry.status) && entry.unsupported) return t('template.unsupported', { why: entry.unsupported });
  const status = t(`templateStatus.${entry.status}`, {}, entry.status);
  return entry.status_reason && entry.status_reason !== 'NONE'
    ? t('template.withReason', { status, reason: entry.status_reason })
    : status;
}

/** When Meta bills a send of a template (`billing` of the catalogue entry). */
export function billingText(billing) {
  return t(`templateBilling.${billing || 'unknown'}`, {}, t('templateBilling.unknown'));
}

/**
 * A template's body text with its placeholders marked; `values` (1-based, optional)
 * replaces them: "Hi {{1}}" → "Hi " <mark>{{1}}</mark>.
 */
export function bodyPreview(h, text, values = null) {
  const parts = String(text || '').split(/(\{\{\s*\d+\s*\}\})/);
  return h('span', { class: 'template-text' }, parts.map((part, i) => {
    if (i % 2 === 0) return part;
    const n = Number(part.replace(/[{}\s]/g, ''));
    const value = values?.[n];
    return value
      ? h('mark', { class: 'placeholder-value' }, value)
      : h('mark', { class: 'placeholder' }, part);
  }));
}

/** The one-line cost of a follow-up: `cost` as the API answers it (or built by the form). */
export function costText(cost) {
  if (!cost || cost.billed_sends === 'none') return t('cost.none');
  return cost.template_category
    ? t('cost.template', { category: categoryName(cost.template_category) })
    : t('cost.templateUnknown');
}

/** A follow-up's warning (`warnings[]` of the API) in words. */
export function warningText(warning, followUp) {
  const tpl = followUp?.whatsapp_template;
  const vars = { platform: platformName(warning.platform), name: tpl?.name || '', language: tpl?.language || '' };
  if (warning.code === 'delay_clamped') return t('warning.clamped', vars);
  return t(`warning.${warning.code}`, vars, warning.message);
}

/** Warnings about the follow-up's WhatsApp template (Meta paused it, it is gone, …). */
export const templateWarnings = (followUp) => (followUp?.warnings || []).filter((w) => w.field === 'whatsapp_template');
