// The MCP conformance suite against `airlock serve`, relaying to the Go SDK's conformance
// everything-server over stdio. Runs only when CONFORMANCE_SERVER names that binary, built with
//   go build -o X github.com/modelcontextprotocol/go-sdk/conformance/everything-server
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AIRLOCK, AIRLOCK_HOME, HERE, deferred, within } from './lib.mjs';

const SERVER = process.env.CONFORMANCE_SERVER;

// runSuite runs conformance.sh against url and returns its summary: scenarios and checks.
async function runSuite(url) {
  const r = await new Promise((resolve) => {
    execFile('bash', [join(HERE, 'conformance.sh'), url], { timeout: 170000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
  });
  const last = r.out.trim().split('\n').at(-1);
  const m = /^conformance: all (\d+) scenarios passed for \S+; checks (\d+) passed, (\d+) failed$/.exec(last);
  return { ...r, last, scenarios: m ? +m[1] : -1, passed: m ? +m[2] : -1, failed: m ? +m[3] : -1 };
}

// freePort returns a loopback port nothing listens on (the Go server prints the address
// it was given, so it cannot be asked for port 0).
async function freePort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

test('conformance suite through airlock serve (Go everything-server over stdio), as against the server itself',
  { skip: SERVER ? false : 'set CONFORMANCE_SERVER to the Go conformance everything-server binary', timeout: 360000 }, async () => {
    // The same server on its own HTTP endpoint: what the suite reports there is the bar.
    const port = await freePort();
    const direct = spawn(SERVER, ['-http', `127.0.0.1:${port}`, '-stateless=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let baseline;
    try {
      const up = deferred();
      let said = '';
      const hear = (d) => { said += d; if (said.includes('listening')) up.resolve(); };
      direct.stdout.on('data', hear);
      direct.stderr.on('data', hear);
      direct.on('exit', (c) => up.reject(new Error(`everything-server exited (${c}): ${said}`)));
      await within(up.promise, 15000, 'the everything-server to listen');
      baseline = await runSuite(`http://127.0.0.1:${port}/mcp`);
      console.log(`directly: ${baseline.last}`);
      assert.equal(baseline.code, 0, baseline.out);
    } finally {
      direct.kill('SIGTERM');
    }

    const home = mkdtempSync(join(tmpdir(), 'airlock-conf-'));
    copyFileSync(join(AIRLOCK_HOME, 'policy.toml'), join(home, 'policy.toml')); // allow-all, see lib.mjs
    writeFileSync(join(home, 'servers.json'), JSON.stringify({ mcpServers: { conf: { command: SERVER, args: [] } } }));
    const env = { ...process.env, AIRLOCK_HOME: home };
    await promisify(execFile)(AIRLOCK, ['trust', 'conf'], { env });

    const serve = spawn(AIRLOCK, ['serve', '--addr', '127.0.0.1:0', '--no-token'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const listening = deferred();
      let said = '';
      const hear = (d) => { said += d; const m = /(http:\/\/127\.0\.0\.1:\d+)\/mcp\/conf/.exec(said); if (m) listening.resolve(`${m[1]}/mcp/conf`); };
      serve.stdout.on('data', hear);
      serve.stderr.on('data', hear);
      serve.on('exit', (c) => listening.reject(new Error(`airlock serve exited (${c}): ${said}`)));
      const url = await within(listening.promise, 15000, 'airlock serve to listen');

      const r = await runSuite(url);
      console.log(`through airlock serve: ${r.last}`);
      assert.equal(r.code, 0, r.out);
      assert.match(r.last, /^conformance: all \d+ scenarios passed/);
      // Every check that passes against the server passes through Airlock: none turns into
      // a mere information (as SSE checks do when a bridge answers with plain JSON).
      assert.deepEqual({ scenarios: r.scenarios, passed: r.passed, failed: r.failed },
        { scenarios: baseline.scenarios, passed: baseline.passed, failed: 0 }, r.out);
    } finally {
      serve.kill('SIGTERM');
    }
  });
