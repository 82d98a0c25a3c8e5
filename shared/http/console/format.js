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
