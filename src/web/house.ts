// The house page and its API (/api/modules, /api/state): placeholder until the decoder lands.
import type http from 'node:http';
import type { Raw } from './pages/layout.js';

export interface HousePages {
  main(params: URLSearchParams): Raw;
  /** Answers /api/<name>; false when the name is not the house's. */
  api(name: string, params: URLSearchParams, res: http.ServerResponse, head: boolean): boolean;
}
