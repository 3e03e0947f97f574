// SPDX-License-Identifier: MIT
// node-workers.js: worker_threads talking to the main thread over a
// MessageChannel of their own and over parentPort, in both directions.
// 4 workers each get port2 of a new MessageChannel in workerData; main
// sends each 500 numbers on port1, the worker answers each with
// n * n + id on its port, and afterwards reports the sum of what it was
// sent, through parentPort.  Main sums every answer; each line printed
// is deterministic.  Exits 0 only when every sum is the one computed
// here, and every worker ended with exit code 0.  With --kthreads FILE,
// samples the kernel threads once every worker has answered everything
// (all 4 alive, waiting for 'end').
'use strict';
const { Worker, MessageChannel, isMainThread, parentPort, workerData } =
    require('node:worker_threads');

const WORKERS = 4;
const MESSAGES = 500;

if (!isMainThread) {
    const { id, port } = workerData;
    let got = 0;
    let sum = 0;
    port.on('message', (n) => {
        if (n === 'end') {
            parentPort.postMessage({ id, got, sum });
            port.close();
            return;
        }
        got++;
        sum += n;
        port.postMessage(n * n + id);
    });
    return;
}

// --kthreads FILE (first arguments): tests/progs/node-kthreads.js.
const { sample } = require('./node-kthreads.js');

let failures = 0;
function check(ok, what) {
    if (!ok) {
        console.error(`node-workers.js: ${what}`);
        failures++;
    }
}

// allAnswered(end): called by each worker's channel once it has all its
// answers; the last call samples, then sends every worker its 'end'.
const ends = [];
function allAnswered(end) {
    ends.push(end);
    if (ends.length === WORKERS) {
        sample('workers-all-alive');
        for (const e of ends) e();
    }
}

function runWorker(id) {
    return new Promise((resolve, reject) => {
        const { port1, port2 } = new MessageChannel();
        const w = new Worker(__filename, {
            workerData: { id, port: port2 },
            transferList: [port2],
        });
        let answers = 0;
        let answerSum = 0;
        let report = null;
        port1.on('message', (v) => {
            answers++;
            answerSum += v;
            if (answers === MESSAGES) {
                allAnswered(() => port1.postMessage('end'));
            }
        });
        w.on('message', (m) => { report = m; });
        w.on('error', reject);
        w.on('exit', (code) => {
            port1.close();
            resolve({ id, code, answers, answerSum, report });
        });
        for (let n = 1; n <= MESSAGES; n++) {
            port1.postMessage(n);
        }
    });
}

(async () => {
    const results = await Promise.all(
        Array.from({ length: WORKERS }, (_, i) => runWorker(i + 1)));
    let total = 0;
    for (const r of results) {
        let want = 0;
        for (let n = 1; n <= MESSAGES; n++) want += n * n + r.id;
        check(r.code === 0, `worker ${r.id} exit code ${r.code}`);
        check(r.answers === MESSAGES, `worker ${r.id}: ${r.answers} answers`);
        check(r.answerSum === want, `worker ${r.id}: sum ${r.answerSum} != ${want}`);
        check(r.report && r.report.got === MESSAGES &&
            r.report.sum === MESSAGES * (MESSAGES + 1) / 2,
            `worker ${r.id}: report ${JSON.stringify(r.report)}`);
        console.log(`worker ${r.id}: exit ${r.code}, ${r.answers} answers, sum ${r.answerSum}, ` +
            `it got ${r.report && r.report.got} summing ${r.report && r.report.sum}`);
        total += r.answerSum;
    }
    console.log(`workers: ${WORKERS} x ${MESSAGES} messages each way, total ${total}`);
    process.exitCode = failures ? 1 : 0;
})().catch((e) => {
    console.error(`node-workers.js: ${e && e.stack || e}`);
    process.exitCode = 1;
});
