// What every source (flags, env, config file) hands to the loader: the text a flag would
// hold, and where it came from. One parser per option then validates all sources alike.
import type { ValueSource } from '../errors.js';

export interface RawValue {
  text: string;
  source: ValueSource;
}
