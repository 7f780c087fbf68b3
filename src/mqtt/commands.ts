// MQTT command → Ampio command frames. Pure: the house file says which entity a command
// topic names and which output it drives; the ampio encoders build the frames. Sending (and
// the TX guards) is the service's job.
//
// Which command drives which entity follows aioampio (kstaniek/aioampio):
//   - controllers/switch.py: a switch whose id names a flag sets the flag, any other switch
//     switches a binary output;
//   - controllers/lights.py: by the module's model: MRGBW drives all four channels; MLED,
//     MINOC4P, MDIM and MREL8S take `15 <level> <index−1> 00`; any other model the
//     multi-frame 30 F9 (on/off) and 36 F9 (level); a light is dimmable when it has aout states;
//   - controllers/covers.py: open/close/stop and a 0–100 position;
//   - controllers/utils.py (get_entity_index): the output index is the entity id's trailing
//     number (light3 → 3), not the state channel.
import type { CanFrame } from '../core/frame.js';
import type { CommandEncoders, House, HouseEntity } from '../ampio/types.js';
import { type CommandPart, safeId } from './topics.js';

/**
 * Models whose lights take the single-frame `15 <level> <index−1> 00` (aioampio
 * controllers/lights.py: MLED, MINOC4P, MDIM, MREL8S); any other model takes the
 * multi-frame `30 F9` / `36 F9` commands.
 */
const SINGLE_FRAME_LIGHT_MODELS = new Set(['MLED', 'MINOC4P', 'MDIM', 'MREL8S']);

export type CommandOutcome = { ok: true; frames: CanFrame[]; entity: HouseEntity } | { ok: false; reason: CommandRefusal; detail: string };

/** Why a command was not turned into frames (counted per reason, logged once each). */
export type CommandRefusal = 'unknown_entity' | 'bad_payload' | 'not_controllable' | 'retained';

function findEntity(house: House, module: number, entityId: string): HouseEntity | undefined {
  const device = house.devices.find((d) => d.address === module);
  return device?.entities.find((e) => safeId(e.id) === entityId);
}

function onOff(payload: string): boolean | null {
  const p = payload.trim().toUpperCase();
  if (p === 'ON' || p === '1' || p === 'TRUE') return true;
  if (p === 'OFF' || p === '0' || p === 'FALSE') return false;
  return null;
}

function number(payload: string, min: number, max: number): number | null {
  const t = payload.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const n = Math.round(Number(t));
  return n >= min && n <= max ? n : null;
}

export function commandFrames(
  house: House,
  enc: CommandEncoders,
  target: { module: number; entityId: string; part: CommandPart },
  payload: string,
): CommandOutcome {
  const entity = findEntity(house, target.module, target.entityId);
  if (!entity) return { ok: false, reason: 'unknown_entity', detail: `no entity ${target.entityId} on module ${target.module.toString(16)} in the house file` };
  const first = entity.states[0];
  const index = entity.index ?? first?.channel ?? null;
  if (index === null) return { ok: false, reason: 'not_controllable', detail: `${entity.id} names no output (no trailing number, no states)` };
  const bad = (expected: string): CommandOutcome => ({
    ok: false,
    reason: 'bad_payload',
    detail: `${entity.id}: "${payload.slice(0, 32)}" is not ${expected}`,
  });
  const m = target.module;

  if (entity.platform === 'switches' && target.part === 'state') {
    const on = onOff(payload);
    if (on === null) return bad('ON or OFF');
    const flag = first?.kind === 'flag' || /flag/i.test(entity.id);
    return { ok: true, entity, frames: flag ? enc.encodeFlag(m, index, on) : enc.encodeBinaryOutput(m, index, on) };
  }
  if (entity.platform === 'lights') {
    // By the module's model, as aioampio's lights controller does (set_state, `match device.model`).
    const model = house.devices.find((d) => d.address === m)?.model?.toUpperCase() ?? null;
    const dimmable = entity.states.some((s) => s.kind === 'aout');
    if (model === 'MRGBW' || first?.kind === 'rgb') {
      if (target.part !== 'state') return { ok: false, reason: 'not_controllable', detail: `${entity.id}: an RGBW light takes on/off only here` };
      const on = onOff(payload);
      if (on === null) return bad('ON or OFF');
      const v = on ? 255 : 0;
      return { ok: true, entity, frames: enc.encodeRgbw(m, [v, v, v, v]) };
    }
    const singleFrame = model !== null && SINGLE_FRAME_LIGHT_MODELS.has(model);
    if (target.part === 'brightness') {
      if (!dimmable) return { ok: false, reason: 'not_controllable', detail: `${entity.id} has no aout state: not dimmable` };
      const v = number(payload, 0, 255);
      if (v === null) return bad('a brightness 0–255');
      return { ok: true, entity, frames: singleFrame ? enc.encodeAnalogOutput(m, index, v) : enc.encodeLightLevel(m, index, v) };
    }
    if (target.part === 'state') {
      const on = onOff(payload);
      if (on === null) return bad('ON or OFF');
      return { ok: true, entity, frames: singleFrame ? enc.encodeAnalogOutput(m, index, on ? 255 : 0) : enc.encodeLightSwitch(m, index, on) };
    }
  }
  if (entity.platform === 'covers') {
    if (target.part === 'state') {
      const p = payload.trim().toUpperCase();
      if (p !== 'OPEN' && p !== 'CLOSE' && p !== 'STOP') return bad('OPEN, CLOSE or STOP');
      return { ok: true, entity, frames: enc.encodeCover(m, index, p.toLowerCase() as 'open' | 'close' | 'stop') };
    }
    if (target.part === 'position') {
      const v = number(payload, 0, 100);
      return v === null ? bad('a position 0–100') : { ok: true, entity, frames: enc.encodeCoverPosition(m, index, v, null) };
    }
  }
  return { ok: false, reason: 'not_controllable', detail: `${entity.id} (${entity.platform}) takes no ${target.part} command` };
}
