import { defineConfig } from 'vitest/config';

// Test lanes. `npm test` runs all four (CI runs exactly that); `npm run test:<lane>` runs one.
// A file's lane follows from its path, so a new test file lands in a lane without editing
// this file:
//   vm           test/vm/**                      boots QEMU (real kernel SocketCAN)
//   e2e          test/e2e/**                     the built CLI, tmux, npm pack, stress
//   integration  test/integration/**, *.integration.test.ts, and the tests of the I/O
//                edges: test/src/{backends,bus,capture,control,metrics,protocols,server,
//                system,web}/**, test/src/daemon*, test/src/cli/commands/**, test/tui/App.test.tsx
//                and test/tui/source/** (real sockets, PTYs, namespaces, helper processes)
//   unit         everything else under test/: pure code (core, config, cli, tui formatting
//                and components, provisioning against fixture roots), fake timers, and a
//                short timeout so a hung test fails in seconds, not half a minute.
const TESTS = '*.test.{ts,tsx}';
const VM = [`test/vm/**/${TESTS}`];
const E2E = [`test/e2e/**/${TESTS}`];
const INTEGRATION = [
  `test/integration/**/${TESTS}`,
  `test/**/*.integration.test.{ts,tsx}`,
  `test/src/{backends,bus,capture,control,metrics,protocols,server,system,web}/**/${TESTS}`,
  `test/src/daemon*.test.{ts,tsx}`,
  `test/src/daemon/**/${TESTS}`,
  `test/src/cli/commands/**/${TESTS}`,
  'test/tui/App.test.tsx',
  `test/tui/source/**/${TESTS}`,
];

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [`test/**/${TESTS}`],
          exclude: [...VM, ...E2E, ...INTEGRATION],
          testTimeout: 5_000,
          hookTimeout: 10_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // Real sockets and PTYs on a 2-core box: give them room. These files mostly wait on
        // I/O and timers, so more workers than cores finish sooner; a lane with its own
        // worker count runs as its own group, after the unit lane.
        test: { name: 'integration', include: INTEGRATION, testTimeout: 30_000, hookTimeout: 60_000, maxWorkers: 4, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'e2e', include: E2E, testTimeout: 30_000, hookTimeout: 120_000, sequence: { groupOrder: 2 } },
      },
      {
        extends: true,
        // Last and alone: QEMU without KVM needs every cycle the box has.
        test: { name: 'vm', include: VM, testTimeout: 30_000, hookTimeout: 120_000, sequence: { groupOrder: 3 } },
      },
    ],
  },
});
