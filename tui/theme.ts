// Semantic colours for `top`. Components ask for a meaning (ok, warn, error, muted…), never
// for a colour, so NO_COLOR and plain terminals are handled here once. Only the 16 basic
// ANSI names are used: they look right on any 256-colour terminal over SSH and on the
// Linux console of a Pi.

import type { Severity } from './format.js';

export interface Theme {
  /** True when colours are off (NO_COLOR): meaning is carried by bold/inverse/markers. */
  noColor: boolean;
  ok: string | undefined;
  warn: string | undefined;
  error: string | undefined;
  info: string | undefined;
  muted: string | undefined;
  accent: string | undefined;
  /** Footer key caps and panel titles. */
  key: string | undefined;
}

export const COLOR_THEME: Theme = {
  noColor: false,
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  info: 'cyan',
  muted: 'gray',
  accent: 'cyan',
  key: 'cyan',
};

export const NO_COLOR_THEME: Theme = {
  noColor: true,
  ok: undefined,
  warn: undefined,
  error: undefined,
  info: undefined,
  muted: undefined,
  accent: undefined,
  key: undefined,
};

/** https://no-color.org: any non-empty NO_COLOR turns colours off. */
export function themeFor(env: Record<string, string | undefined>): Theme {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return noColor ? NO_COLOR_THEME : COLOR_THEME;
}

export function severityColor(theme: Theme, severity: Severity): string | undefined {
  return theme[severity];
}

/**
 * Without colour, a warning or error still has to stand out: make it bold. Muted text is
 * dimmed (a style, not a colour, which NO_COLOR allows).
 */
export function severityStyle(theme: Theme, severity: Severity): { color?: string; bold?: boolean; dimColor?: boolean } {
  if (!theme.noColor) {
    const color = severityColor(theme, severity);
    return { ...(color ? { color } : {}), ...(severity === 'error' ? { bold: true } : {}) };
  }
  if (severity === 'warn' || severity === 'error') return { bold: true };
  if (severity === 'muted') return { dimColor: true };
  return {};
}

/** A text marker so state never depends on colour alone (colour-blind users, NO_COLOR). */
export function severityGlyph(severity: Severity): string {
  switch (severity) {
    case 'ok':
      return '●';
    case 'warn':
      return '▲';
    case 'error':
      return '✖';
    case 'info':
      return '●';
    case 'muted':
      return '○';
  }
}
