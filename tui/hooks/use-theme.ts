// The theme travels by context so every panel gets NO_COLOR right without prop drilling.

import { createContext, useContext } from 'react';
import { COLOR_THEME, type Theme } from '../theme.js';

export const ThemeContext = createContext<Theme>(COLOR_THEME);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
