// SPDX-License-Identifier: MIT
// node-http.js: an http server on 127.0.0.1 (port 0: the kernel picks
// one) answering 2,000 requests from a client in the same process, 25 in
// flight at a time over a keep-alive agent of at most 10 sockets.  Every
// other request is a POST whose body the server sums; each answer is
// checked.  Prints deterministic lines (never the port, or how many
// sockets the agent opened); exits 0 only when every check passed.  With
// --kthreads FILE, samples the kernel threads when request 1,000 is
// served, with requests in flight.
'use strict';
const http = require('node:http');

const REQUESTS = 2000;
const IN_FLIGHT = 25;

// --kthreads FILE (first arguments): tests/progs/node-kthreads.js.
const { sample } = require('./node-kthreads.js');

let failures = 0;
function check(ok, what) {
    if (!ok) {
        if (failures < 10) console.error(`node-http.js: ${what}`);
        failures++;
    }
}

let served = 0;
const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        served++;
        if (served === REQUESTS / 2) sample('http-mid-run');
        const n = Number(req.url.slice(1));
        let body = `echo ${n}`;
        if (req.method === 'POST') {
            const nums = Buffer.concat(chunks).toString().split(',').map(Number);
            body += ` sum ${nums.reduce((a, b) => a + b, 0)}`;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(body);
    });
});

function request(agent, port, n) {
    return new Promise((resolve, reject) => {
        const post = n % 2 === 0;
        const payload = post
            ? Array.from({ length: 100 }, (_, i) => n + i).join(',') : null;
        const req = http.request({
            host: '127.0.0.1', port, path: `/${n}`, agent,
            method: post ? 'POST' : 'GET',
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({
                status: res.statusCode, body: Buffer.concat(chunks).toString(),
            }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
    });
}

server.listen(0, '127.0.0.1', async () => {
    try {
        const { port } = server.address();
        const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
        let next = 1;
        let ok = 0;
        let total = 0;
        async function client() {
            while (next <= REQUESTS) {
                const n = next++;
                const r = await request(agent, port, n);
                let want = `echo ${n}`;
                if (n % 2 === 0) want += ` sum ${100 * n + 4950}`;
                check(r.status === 200, `request ${n}: status ${r.status}`);
                check(r.body === want, `request ${n}: body '${r.body}', expected '${want}'`);
                if (r.status === 200 && r.body === want) ok++;
                total += n;
            }
        }
        await Promise.all(Array.from({ length: IN_FLIGHT }, client));
        agent.destroy();
        server.close();
        console.log(`http: ${ok} of ${REQUESTS} answers right, ${served} served, ` +
            `${IN_FLIGHT} in flight, request numbers summing to ${total}`);
        process.exitCode = failures ? 1 : 0;
    } catch (e) {
        console.error(`node-http.js: ${e && e.stack || e}`);
        process.exitCode = 1;
        server.close();
    }
});
