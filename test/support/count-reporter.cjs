// Mocha's spec reporter for the log, plus the run's exact counts written as
// JSON to the file named by --reporter-option counts=FILE, so .ci/run can add
// up several suites without parsing mocha's human summary.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountReporter extends Spec {
  constructor(runner, options = {}) {
    super(runner, options);
    const file = options.reporterOption?.counts;
    if (!file) throw new Error('count-reporter needs --reporter-option counts=FILE');
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending, tests } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }) + '\n');
    });
  }
}

module.exports = CountReporter;
