import type { WorkerEvent } from '../../connectors/index.js';
import type { HealthCheck } from '../../observe/index.js';

/**
 * A `sluice run` worker's own `/readyz` conditions, followed from its events: it has joined
 * the group and holds an assignment, and no partition's state is being restored.
 * (The pipelines' own checks, ticking and lag, come from the dashboard server.)
 *
 * @example
 * const ready = new WorkerReadiness();
 * ready.see({ event: 'assigned', member: 'w1', generation: 1, partitions: [0, 1], revoked: [] });
 * ready.checks(); // [{ name: 'assigned', ok: true }, { name: 'restored', ok: true }]
 */
export class WorkerReadiness {
  private partitions: number[] | undefined;
  private readonly restoring = new Set<number>();

  see(e: WorkerEvent): void {
    if (e.event === 'assigned') {
      this.partitions = e.partitions;
      // A partition given up is no longer restored here.
      for (const p of this.restoring) if (!e.partitions.includes(p)) this.restoring.delete(p);
    } else if (e.event === 'restore') {
      if (e.done) this.restoring.delete(e.partition);
      else this.restoring.add(e.partition);
    }
  }

  checks(): HealthCheck[] {
    const assigned: HealthCheck =
      this.partitions === undefined
        ? { name: 'assigned', ok: false, reason: 'not in the consumer group yet (no assignment)' }
        : { name: 'assigned', ok: true };
    const restored: HealthCheck =
      this.restoring.size === 0
        ? { name: 'restored', ok: true }
        : {
            name: 'restored',
            ok: false,
            reason: `restoring the state of partition(s) ${[...this.restoring].sort((a, b) => a - b).join(', ')}`,
          };
    return [assigned, restored];
  }
}
