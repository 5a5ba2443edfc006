import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Debian's python3 carries python3-oauthlib; a pyenv python on PATH usually does not. */
const PYTHON = process.env.OAUTHLIB_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.resolve(import.meta.dirname, 'oauthlib_sign.py');

export function oauthlibAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import oauthlib'], { stdio: 'ignore' }).status === 0;
}

export interface OauthlibRequest {
  method: string;
  url: string;
  client_key: string;
  client_secret: string;
  resource_owner_key?: string;
  resource_owner_secret?: string;
  verifier?: string;
  body?: string;
  content_type?: string;
}

export function oauthlibSign(req: OauthlibRequest): { url: string; authorization: string } {
  const out = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(req), encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`oauthlib signing failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as { url: string; authorization: string };
}
