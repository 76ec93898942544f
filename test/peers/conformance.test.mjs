// The MCP conformance suite against `airlock serve`, relaying to the Go SDK's conformance
// everything-server over stdio. Runs only when CONFORMANCE_SERVER names that binary, built with
//   go build -o X github.com/modelcontextprotocol/go-sdk/conformance/everything-server
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AIRLOCK, AIRLOCK_HOME, HERE, deferred, within } from './lib.mjs';

const SERVER = process.env.CONFORMANCE_SERVER;

test('conformance suite through airlock serve (Go everything-server over stdio)',
  { skip: SERVER ? false : 'set CONFORMANCE_SERVER to the Go conformance everything-server binary', timeout: 180000 }, async () => {
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

      const r = await new Promise((resolve) => {
        execFile('bash', [join(HERE, 'conformance.sh'), url], { timeout: 170000, maxBuffer: 16 << 20 },
          (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
      });
      const last = r.out.trim().split('\n').at(-1);
      console.log(last);
      assert.equal(r.code, 0, r.out);
      assert.match(last, /^conformance: all \d+ scenarios passed/);
    } finally {
      serve.kill('SIGTERM');
    }
  });
