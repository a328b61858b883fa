import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from './errors.js';
import type { Checkpoint, CheckpointStore } from './interfaces.js';

/**
 * Checkpoints as one JSON file per pipeline, replaced atomically (write a temp file, fsync,
 * rename, fsync the directory), so a crash leaves either the old checkpoint or the new one.
 *
 * @example
 * const run = myPipeline.run({ checkpoints: new FileCheckpointStore('./data/checkpoints') });
 */
export class FileCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(pipeline: string): string {
    return join(this.dir, `${pipeline}.checkpoint.json`);
  }

  async load(pipeline: string): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = readFileSync(this.path(pipeline), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as Checkpoint;
    } catch (e) {
      throw new SluiceError(
        'SLUICE_CHECKPOINT',
        `checkpoint ${this.path(pipeline)} is not valid JSON (${(e as Error).message}); it cannot be half-written by Sluice, so check what else wrote it`,
      );
    }
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    const target = this.path(checkpoint.pipeline);
    const tmp = `${target}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(checkpoint));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
