// SPDX-License-Identifier: MIT
// The --kthreads FILE option of the node test programs: when the first
// arguments are `--kthreads FILE`, they are taken out of process.argv,
// and sample(LABEL) appends "LABEL N" to FILE, N being Threads: in
// /proc/self/status (tests/node.bats compares the native run's samples
// with libgreen's).
'use strict';

const fs = require('node:fs');

let file = null;
if (process.argv[2] === '--kthreads') {
    file = process.argv[3];
    process.argv.splice(2, 2);
}

function sample(label) {
    if (!file) return;
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^Threads:\s+(\d+)/m.exec(status);
    fs.appendFileSync(file, `${label} ${m ? m[1] : '?'}\n`);
}

module.exports = { sample };
