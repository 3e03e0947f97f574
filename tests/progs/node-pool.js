// SPDX-License-Identifier: MIT
// node-pool.js DIR: work that node hands to libuv's thread pool (4 kernel
// threads natively), several requests at once.  fs.promises: 20 files of
// 64 kB written concurrently under a new directory in DIR, listed, stat'ed
// and read back; crypto.pbkdf2: 8 derivations at once; zlib: gzip then
// gunzip of 1 MB, 4 at once; dns.lookup('localhost'), 10 of them
// (getaddrinfo on the pool; /etc/hosts answers, no DNS server is asked).
// Prints deterministic lines; exits 0 only when every check passed.  With
// --kthreads FILE (before DIR), samples the kernel threads while the
// first requests are on the pool, and again at the end.
'use strict';
const fsp = require('node:fs/promises');
const path = require('node:path');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const dns = require('node:dns');
const { promisify } = require('node:util');

// --kthreads FILE (first arguments): tests/progs/node-kthreads.js.
const { sample } = require('./node-kthreads.js');

let failures = 0;
function check(ok, what) {
    if (!ok) {
        console.error(`node-pool.js: ${what}`);
        failures++;
    }
}

// Deterministic bytes: a counter through sha256, chained.
function bytes(seed, len) {
    const out = Buffer.alloc(len);
    let block = Buffer.from(String(seed));
    for (let off = 0; off < len; off += 32) {
        block = crypto.createHash('sha256').update(block).digest();
        block.copy(out, off, 0, Math.min(32, len - off));
    }
    return out;
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

async function fsSection(say, dir) {
    const top = await fsp.mkdtemp(path.join(dir, 'node-pool-'));
    const N = 20;
    const datas = Array.from({ length: N }, (_, i) => bytes(`file${i}`, 65536 + i));
    await Promise.all(datas.map((d, i) =>
        fsp.writeFile(path.join(top, `f${String(i).padStart(2, '0')}`), d)));
    const names = (await fsp.readdir(top)).sort();
    check(names.length === N, `readdir: ${names.length} names`);
    const sizes = await Promise.all(names.map(async (n) =>
        (await fsp.stat(path.join(top, n))).size));
    const back = await Promise.all(names.map((n) => fsp.readFile(path.join(top, n))));
    let same = 0;
    back.forEach((b, i) => { if (b.equals(datas[i])) same++; });
    check(same === N, `fs: ${same} of ${N} files read back equal`);
    // One file appended to by many writes through one handle.
    const fh = await fsp.open(path.join(top, 'log'), 'w');
    for (let i = 0; i < 100; i++) await fh.write(`line ${i}\n`);
    await fh.close();
    const log = await fsp.readFile(path.join(top, 'log'), 'utf8');
    const lines = log.split('\n').filter(Boolean);
    check(lines.length === 100 && lines[99] === 'line 99', `log: ${lines.length} lines`);
    await fsp.rm(top, { recursive: true });
    say(`fs: ${names.length} files, ${sizes.reduce((a, b) => a + b, 0)} bytes, ` +
        `${same} read back equal, sha256 of all ${sha(Buffer.concat(back)).slice(0, 16)}; ` +
        `log of ${lines.length} lines`);
}

async function pbkdf2Section(say) {
    const pbkdf2 = promisify(crypto.pbkdf2);
    const keys = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        pbkdf2(`password ${i}`, `salt ${i}`, 20000, 32, 'sha256')));
    keys.forEach((k, i) => {
        const again = crypto.pbkdf2Sync(`password ${i}`, `salt ${i}`, 20000, 32, 'sha256');
        check(k.equals(again), `pbkdf2 ${i}: async and sync differ`);
        say(`pbkdf2 ${i}: ${k.toString('hex')}`);
    });
}

async function zlibSection(say) {
    const gzip = promisify(zlib.gzip);
    const gunzip = promisify(zlib.gunzip);
    // Compressible: text lines, each with a pseudo-random number in hex.
    const inputs = Array.from({ length: 4 }, (_, j) => {
        const parts = [];
        let x = j;
        for (let i = 0, len = 0; len < 1 << 20; i++) {
            x = (x * 1103515245 + 12345) % 2147483648;
            parts.push(`${j} line ${i} ${x.toString(16)}\n`);
            len += parts[i].length;
        }
        return Buffer.from(parts.join('')).subarray(0, 1 << 20);
    });
    const zipped = await Promise.all(inputs.map((b) => gzip(b)));
    const back = await Promise.all(zipped.map((z) => gunzip(z)));
    back.forEach((b, j) => {
        check(b.equals(inputs[j]), `zlib ${j}: round trip differs`);
        check(zipped[j].length < inputs[j].length, `zlib ${j}: did not compress`);
        say(`zlib ${j}: ${inputs[j].length} bytes, round trip ` +
            `${b.equals(inputs[j]) ? 'equal' : 'DIFFERENT'}, sha256 ${sha(b).slice(0, 16)}`);
    });
}

async function dnsSection(say) {
    const all = await dns.promises.lookup('localhost', { all: true });
    const addrs = all.map((a) => `${a.address}/${a.family}`).sort();
    check(addrs.includes('127.0.0.1/4'), `dns: ${addrs.join(' ')}`);
    const v4 = await dns.promises.lookup('localhost', { family: 4 });
    check(v4.address === '127.0.0.1', `dns family 4: ${v4.address}`);
    // Several lookups at once.
    const many = await Promise.all(Array.from({ length: 8 }, () =>
        dns.promises.lookup('localhost', { family: 4 })));
    check(many.every((r) => r.address === '127.0.0.1'), 'dns: 8 lookups at once');
    say(`dns: localhost is ${addrs.join(' ')}; family 4 ${v4.address}; ` +
        `8 at once: ${[...new Set(many.map((r) => r.address))].join(' ')}`);
}

(async () => {
    const dir = process.argv[2];
    if (!dir) throw new Error('usage: node-pool.js [--kthreads FILE] DIR');
    // All four at once, so that the pool has requests of every kind
    // queued together; each section's lines are printed afterwards, in a
    // fixed order.
    const sections = [
        (say) => fsSection(say, dir), pbkdf2Section, zlibSection, dnsSection,
    ];
    const lines = sections.map(() => []);
    const all = Promise.all(sections.map((f, i) => f((l) => lines[i].push(l))));
    sample('pool-busy');
    await all;
    sample('pool-done');
    for (const l of lines.flat()) console.log(l);
    process.exitCode = failures ? 1 : 0;
})().catch((e) => {
    console.error(`node-pool.js: ${e && e.stack || e}`);
    process.exitCode = 1;
});
