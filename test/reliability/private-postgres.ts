// A Postgres server of the test's own (initdb in a temp dir, started with pg_ctl on a free
// port), so a test can really stop and restart the server without disturbing the shared one on
// 5432 that other test files use at the same time.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../helpers/services.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The folder of initdb and pg_ctl: `pg_config --bindir`, else what PATH finds. */
function binDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  } catch {
    // no pg_config: try PATH below
  }
  try {
    const initdb = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    return initdb ? initdb.replace(/\/initdb$/, '') : undefined;
  } catch {
    return undefined;
  }
}

export class PrivatePostgres {
  private constructor(
    private readonly dir: string,
    private readonly bin: string,
    /** Postgres refuses to run as root: then its commands run as the `postgres` user. */
    private readonly asUser: string[],
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts a fresh server, or resolves with the reason it cannot here. */
  static async start(): Promise<PrivatePostgres | string> {
    const bin = binDir();
    if (!bin) return 'no initdb/pg_ctl on this machine (pg_config --bindir, PATH)';
    const root = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
    try {
      if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
      const pg = new PrivatePostgres(
        dir,
        bin,
        root ? ['runuser', '-u', 'postgres', '--'] : [],
        await freePort(),
      );
      await pg.cmd('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
      await pg.up();
      return pg;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      return `cannot run a private Postgres here: ${(e as Error).message.split('\n')[0]}`;
    }
  }

  private async cmd(tool: string, args: string[]): Promise<void> {
    const [exe, ...pre] = [...this.asUser, join(this.bin, tool)];
    await run(exe!, [...pre, ...args], { timeout: 60_000 });
  }

  /** Starts the server (again) and waits until it accepts connections. */
  async up(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.cmd('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-o',
      opts,
      '-l',
      join(this.dir, 'log'),
      '-w',
      'start',
    ]);
  }

  /** Stops the server: 'fast' (what a restart does: sessions told, then closed) or 'immediate' (a crash). */
  async down(mode: 'fast' | 'immediate'): Promise<void> {
    await this.cmd('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.down('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
