// The SocketCAN addon as this host can check it: the loader's messages, the real addon
// loading (through node-gyp-build) and failing clearly where the kernel has no AF_CAN, and
// the batch decoder against an independent encoder, property-based.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatch, errnoName, loadCanBinding, RECORD_SIZE } from '../../../../src/backends/socketcan/binding.js';
import { BackendError } from '../../../../src/backends/types.js';
import { type CanFrame, CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG } from '../../../../src/core/frame.js';
import { packBatch, type BatchEntry } from '../../../support/can-batch.js';

describe('loadCanBinding', () => {
  it('no prebuilt binary for this platform → BackendError saying how to build one', () => {
    const err = new Error('No native build was found for platform=linux arch=riscv64 runtime=node abi=115 uv=1 libc=glibc node=20.20.2');
    const e = (() => {
      try {
        loadCanBinding(() => {
          throw err;
        });
      } catch (x) {
        return x;
      }
    })() as BackendError;
    expect(e).toBeInstanceOf(BackendError);
    expect(e.code).toBe('socketcan_binding_missing');
    expect(e.hint).toMatch(/npx node-gyp rebuild/);
    expect(e.cause).toBe(err);
  });

  it('a binary that does not load, or an unexpected module → socketcan_binding_broken', () => {
    const broken = () =>
      loadCanBinding(() => {
        throw new Error('/x/prebuilds/linux-x64/ampio-can.glibc.napi.node: invalid ELF header');
      });
    expect(broken).toThrow(BackendError);
    expect(broken).toThrow(/invalid ELF header/);
    // biome-ignore lint/correctness/noComponentHookFactories: a fake native binding, not a React component
    expect(() => loadCanBinding(() => ({ CanSocket: () => 0, probe: () => 0, RECORD_SIZE: 16 }))).toThrow(/not the one this version/);
  });

  it('loads the real addon; where the kernel has no CAN, opening fails with the errno by name', () => {
    const b = loadCanBinding();
    const probe = b.probe();
    // 0 where AF_CAN exists (the VM), EAFNOSUPPORT on this host's kernel
    expect([0, 97]).toContain(probe);
    let err: NodeJS.ErrnoException | null = null;
    try {
      b.open('ampiotest9', { fd: false, errorMask: 0, recvOwn: false, rcvbuf: 0 }, () => {}).close();
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    // no such interface where CAN exists; no CAN at all here
    expect(err?.code).toBe(probe === 0 ? 'ENODEV' : 'EAFNOSUPPORT');
    expect(err?.message).toMatch(probe === 0 ? /SIOCGIFINDEX on ampiotest9/ : /socket\(PF_CAN/);
    expect(errnoName(105)).toBe('ENOBUFS');
  });
});

const arbFrame: fc.Arbitrary<BatchEntry> = fc
  .record({
    ext: fc.boolean(),
    id: fc.integer({ min: 0, max: 0x1fffffff }),
    kind: fc.constantFrom('data', 'rtr', 'fd', 'err'),
    data: fc.uint8Array({ maxLength: 64 }),
    brs: fc.boolean(),
    esi: fc.boolean(),
    own: fc.boolean(),
    ts: fc.option(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 999_999_999 })), { nil: undefined }),
  })
  .map((r): BatchEntry => {
    const fd = r.kind === 'fd';
    const base = r.ext ? (r.id | CAN_EFF_FLAG) >>> 0 : r.id & 0x7ff;
    const id = r.kind === 'rtr' ? (base | CAN_RTR_FLAG) >>> 0 : r.kind === 'err' ? ((r.id & 0x1fffffff) | CAN_ERR_FLAG) >>> 0 : base;
    const data = fd ? r.data : r.data.subarray(0, 8);
    const frame: CanFrame = {
      id,
      len: r.kind === 'rtr' ? data.length : data.length,
      data: r.kind === 'rtr' ? new Uint8Array(0) : data,
      fd,
      fdFlags: fd ? (r.brs ? 1 : 0) | (r.esi ? 2 : 0) : 0,
      timestamp: 0,
    };
    return { frame, own: r.own, ts: r.ts };
  });

describe('decodeBatch', () => {
  it('decodes every record the addon packs: id, length, data, FD and its flags, own-frame mark, kernel time', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 40 }), (entries) => {
        const batch = packBatch(entries);
        expect(batch.length).toBe(entries.length * RECORD_SIZE);
        const out: { frame: CanFrame; own: boolean }[] = [];
        decodeBatch(
          batch,
          entries.length,
          () => 42,
          (frame, own) => out.push({ frame, own }),
        );
        expect(out).toHaveLength(entries.length);
        out.forEach(({ frame, own }, i) => {
          const e = entries[i];
          expect(frame.id).toBe(e.frame.id);
          expect(frame.len).toBe(e.frame.len);
          expect([...frame.data]).toEqual([...e.frame.data]);
          expect(frame.fd).toBe(e.frame.fd);
          expect(frame.fdFlags).toBe(e.frame.fdFlags);
          expect(own).toBe(e.own ?? false);
          expect(frame.timestamp).toBe(e.ts ? e.ts[0] * 1000 + e.ts[1] / 1e6 : 42);
        });
      }),
    );
  });
});
