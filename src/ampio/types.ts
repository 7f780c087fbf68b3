// The public shape of the Ampio house layer: what the decoder produces, what the module
// inventory and the state store hold, what the house file says, and the command encoders'
// signatures. The MQTT publisher and the web page build on these types; change them only
// compatibly (add optional fields), never rename.
//
// Facts about the Ampio wire format come from the public `kstaniek/aioampio` library
// (aioampio/codec/ampio.py, aioampio/models/config.py, aioampio/controllers/*.py); each
// table row in decode-table.ts cites its line of origin.
import type { CanFrame } from '../core/frame.js';

/**
 * A state kind: the first half of a state reference such as `bout.3`. The names are
 * aioampio's topic names (aioampio/codec/ampio.py and the `state_value_types` set in
 * aioampio/models/config.py), so an existing house file's `states:` lists resolve as they are.
 */
export type StateKind =
  | 'diagnostics' // FE 4F: {voltage, temperature} of the module itself
  | 'temperature' // FE 06: a temperature sensor, °C
  | 'temperature_int' // FE 05: the module's internal temperature sensor, °C (same layout as 06)
  | 'aout' // FE 0C/0D/0E: analog outputs 1–18, 0–255
  | 'bin' // FE 1B/1C/1D: binary inputs 1–144
  | 'bout' // FE 1E/1F/20: binary outputs 1–144
  | 'binout' // FE 0F: binout 1–48
  | 'flag' // FE 80: flags 1–32
  | 's16b' // FE 44/45/46: raw 16-bit values 1–9
  | 's16b10000' // FE 21–25: (u16 − 10000) / 10, values 1–15
  | 'rgb' // FE 49: {red, green, blue, white}
  | 'datetime' // FE 10: {year, month, day, weekday, daytime, hour, minute}
  | 'heating' // FE C9–D8: heating zone 1–16 {current_temperature, target_temperature, …}
  | 'zone' // FE C8: heating zones 1–16 active bits
  | 'armed' // FE 19: SATEL zones 1–8 armed
  | 'alarm' // FE 1A: SATEL zones 1–8 in alarm
  | 'breached' // FE 38: SATEL zones 1–8 breached
  | 'arming' // FE 39: SATEL zones 1–8 arming
  | 'arming_10s' // FE 3A: SATEL zones 1–8 arming, under 10 s left
  | 'response' // 10 EF xx: SATEL command response {status, response}
  | 'aint'; // analog inputs: house files may name them (aioampio config), no decoded type carries them

/** A decoded value: a number, an on/off bit, or a small record (diagnostics, rgb, datetime, heating, response). */
export type StateData = number | boolean | string | { readonly [field: string]: number | boolean | string };

/** One value the decoder found in a frame. */
export interface DecodedValue {
  kind: StateKind;
  /** 1-based, as in `bout.3`. */
  channel: number;
  value: StateData;
  /** '°C', 'V', or null (bits, raw numbers, records). */
  unit: string | null;
}

/** What the decoder made of one frame. */
export interface DecodeResult {
  /** Sending module's address (the 29-bit extended id). */
  module: number;
  /** The state type byte (data[1] of an `FE` frame; 0xEF for the SATEL `10 EF xx` response). */
  type: number;
  /** 'decoded' = values (maybe fewer than a full frame carries); 'truncated' = a known type too short for any value; 'unknown' = a type we have no row for. */
  status: 'decoded' | 'truncated' | 'unknown';
  values: DecodedValue[];
}

/** `kind.channel`, e.g. `bout.3`: the form house files use in `states:`. */
export type StateRef = `${StateKind}.${number}`;

/** A value in the state store. */
export interface AmpioState {
  /** Module address. */
  module: number;
  kind: StateKind;
  channel: number;
  value: StateData;
  unit: string | null;
  /** ms since the epoch when the value last changed (first seen counts as a change). */
  changedAt: number;
  /** ms since the epoch when the value was last broadcast (changed or not). */
  seenAt: number;
}

/** A change in the store, handed to subscribers synchronously after it is applied. */
export interface StateChange {
  state: AmpioState;
  /** The value before; undefined the first time a value is seen. */
  previous: StateData | undefined;
}

export type Unsubscribe = () => void;

/** Read side of the state store (the MQTT publisher and the web page use this). */
export interface StateReader {
  get(module: number, kind: StateKind, channel: number): AmpioState | undefined;
  /** Every value of one module, in kind then channel order. */
  ofModule(module: number): AmpioState[];
  /** Every value, in module, kind, channel order. */
  all(): AmpioState[];
  /** Calls `listener` for every change (optionally of one module only). Listeners must be cheap: they run on the tap's drain, not the bus's hot path, but still in the daemon's thread. */
  subscribe(listener: (change: StateChange) => void, filter?: { module?: number }): Unsubscribe;
}

// ---------------------------------------------------------------- house file

/** Entity lists of a device in the house file (aioampio/models/config.py, DeviceCfg). */
export type EntityPlatform = 'lights' | 'switches' | 'binary_sensors' | 'sensors' | 'covers' | 'valves' | 'climates' | 'texts' | 'alarm_control_panels';

export interface HouseEntity {
  /** As written in the file: `light1`, `input2`, … (unique within its device and list). */
  id: string;
  name: string;
  platform: EntityPlatform;
  /** Parsed `states:` references, lower case, in file order. */
  states: Array<{ kind: StateKind; channel: number; ref: StateRef }>;
  /** The entity's own area, else its device's, else null. */
  area: string | null;
  /** `device_class` when the file gives one. */
  deviceClass: string | null;
  /**
   * The output index commands address: the trailing number of `id` (light3 → 3), 1-based;
   * null when the id ends in no number (aioampio/controllers/utils.py, get_entity_index).
   */
  index: number | null;
  /** The owning device's address. */
  module: number;
}

export interface HouseDevice {
  /** `can_id`: the module's address. */
  address: number;
  name: string;
  /** Model name (MRGBW, MDIM, …) when `model:` is a known code or name; else the raw text or null. */
  model: string | null;
  /** The numeric model code when known (aioampio DeviceType). */
  modelCode: number | null;
  area: string | null;
  entities: HouseEntity[];
}

export interface House {
  /** The file it came from; null = no file (modules show under their address). */
  path: string | null;
  devices: HouseDevice[];
  /** ms since the epoch when it was read. */
  loadedAt: number;
}

// ---------------------------------------------------------------- module inventory

export interface ModuleEntry {
  address: number;
  /** Lower-case 8-digit hex without 0x (aioampio's topic form, `%08x`): stable ids for MQTT and the web. */
  key: string;
  /** From the house file; null without one. */
  name: string | null;
  model: string | null;
  area: string | null;
  /** The bus it was heard on (the last one, if heard on several). */
  bus: string;
  /** ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
  frames: number;
  /** Frames per second over the last few seconds. */
  rate: number;
  /** State type bytes it broadcasts, ascending. */
  types: number[];
  /** From its last `FE 4F` diagnostics frame; null before one. */
  supplyVolts: number | null;
  temperatureC: number | null;
  /** false once silent longer than the offline threshold (AmpioSnapshot.offlineAfterMs). */
  online: boolean;
  /** true when the house file names it (a module the file lists but the bus never heard is also listed, with frames 0 and online false). */
  known: boolean;
}

/** Decoder figures since the daemon started. */
export interface DecodeCounters {
  /** Ampio state frames seen (FE… and 10 EF …). */
  frames: number;
  decoded: number;
  truncated: number;
  unknown: number;
  /** Frames per state type, key = two hex digits ('4f'). */
  byType: Record<string, number>;
  /** Frames of types without a row, key = two hex digits. */
  unknownTypes: Record<string, number>;
}

/** The `ampio` section of the control-socket snapshot and of `modules --json`. */
export interface AmpioSnapshot {
  house: { path: string | null; devices: number; entities: number; loadedAt: number | null; error: string | null };
  offlineAfterMs: number;
  /** Supply voltage below which `doctor` warns. */
  lowSupplyVolts: number;
  modules: ModuleEntry[];
  decode: DecodeCounters;
}

/** One value for `state --json` and the control request `ampio_state`. */
export interface StateView {
  module: number;
  moduleKey: string;
  moduleName: string | null;
  kind: StateKind;
  channel: number;
  ref: StateRef;
  /** Names of house-file entities that reference this value (`Salon / LED Salon`). */
  names: string[];
  value: StateData;
  unit: string | null;
  changedAt: number;
  seenAt: number;
}

// ---------------------------------------------------------------- commands

/**
 * Commands go to one id, 0x0F000000 (extended), whose data starts with the target's
 * address as a big-endian u32 (aioampio/controllers/base.py: CTRL_CAN_ID, _send_command).
 * Encoders only build frames; sending is the caller's choice (the TX path, when asked).
 */
export interface CommandEncoders {
  /** `15 FF|00 <index−1>`: switch binary output `index` (1-based) of `module`. */
  encodeBinaryOutput(module: number, index: number, on: boolean): CanFrame[];
  /** `15 <value> <index−1> 00`: set dimmer/analog output `index` to 0–255. */
  encodeAnalogOutput(module: number, index: number, value: number): CanFrame[];
  /** MRGBW: four `15 <v> <i>` frames, channels R, G, B, W. */
  encodeRgbw(module: number, rgbw: readonly [number, number, number, number]): CanFrame[];
  /** Multi-frame `30 F9 01|00 <index−1>`: a light on a model without the single-frame form (relay modules …). */
  encodeLightSwitch(module: number, index: number, on: boolean): CanFrame[];
  /** Multi-frame `36 F9 <value> <index−1>`: a dimmable light on such a model. */
  encodeLightLevel(module: number, index: number, value: number): CanFrame[];
  /** Multi-frame `2F F9 01|00 <index−1>`: set flag `index`. */
  encodeFlag(module: number, index: number, on: boolean): CanFrame[];
  /** Multi-frame `31 F9 <2 open|1 close|0 stop> <index−1>`. */
  encodeCover(module: number, index: number, action: 'open' | 'close' | 'stop'): CanFrame[];
  /** Multi-frame `31 03 <index−1> 00 00 <pos> <tilt>`: 0–100, null = leave as is (0x65). */
  encodeCoverPosition(module: number, index: number, position: number | null, tilt: number | null): CanFrame[];
  /** Any payload in the multi-frame form (function 16). */
  encodeMultiFrame(module: number, payload: Uint8Array): CanFrame[];
}

// ---------------------------------------------------------------- the service's face

/**
 * What the ampio service offers the other services (MQTT, web) in the daemon: read-only
 * views of the house, the modules and the state store. Obtained from the service object
 * (`createAmpioService(...).view`).
 */
export interface AmpioView {
  readonly state: StateReader;
  /** The house file in force (the previous one stays when a reload fails). */
  house(): House;
  /** Called after a house file (re)load took effect. */
  onHouseChange(listener: (house: House) => void): Unsubscribe;
  /** The inventory, address order. */
  modules(): ModuleEntry[];
  /** Called when a module turns online or offline (and when first heard). */
  onModuleChange(listener: (module: ModuleEntry) => void): Unsubscribe;
  snapshot(): AmpioSnapshot;
  /** Values with names; `filter` = a module address (0x1a1e, 1a1e, 6686) or a module/entity name; absent = all. */
  stateViews(filter?: string): StateView[];
}
