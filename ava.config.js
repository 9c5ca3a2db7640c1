// The test runner's settings. Test files run two at a time (ava's default on two cores,
// and always under CI=true), so a long end-to-end file that happens to start late sets
// the end of the whole run: the longest files start first, the rest follow in name order.
// Durations measured on this project's 2-core machine, 2026-12-03.
const LONGEST_FIRST = [
  'test/simulator/grid.test.ts', // two simulated days, one after the other (~3.4 min)
  'test/flows/dashboards.test.ts', // real Node-RED and Chromium (~2.5 min)
  'test/firmware/mcsim.test.ts', // builds the firmware with mcconfig, then mcsim (~2 min cold)
  'test/docs/walkthroughs.test.ts', // every walkthrough on fresh grids (~2 min)
  'test/security/chaos.test.ts', // 20 SIGKILLs under load (~1.7 min)
  'test/firmware/mcsim-powercut.test.ts', // 10 kill -9s of the real firmware (~1.5 min)
  'test/simulator/scenario.test.ts', // the every-fault scenario (~1 min)
];
const rank = (file) => {
  const i = LONGEST_FIRST.findIndex((f) => file.endsWith(f));
  return i < 0 ? LONGEST_FIRST.length : i;
};

export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  require: ['./test/helpers/fastCheckSeed.ts'],
  timeout: '2m',
  workerThreads: false,
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
