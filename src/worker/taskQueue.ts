/** The engine worker's request queue: one task at a time, in arrival order. */
export type Task = () => Promise<void>;

export class TaskQueue {
  private readonly tasks: Task[] = [];
  private pumping = false;
  /** Bumped when a lost context strands the running task: its pump stops taking work. */
  private epoch = 0;

  schedule(task: Task, first = false): void {
    if (first) this.tasks.unshift(task);
    else this.tasks.push(task);
    if (!this.pumping) void this.pump();
  }

  /** Abandons the running task (it may wait forever on a lost context) and runs `task` before the rest. */
  restart(task: Task): void {
    this.epoch++;
    this.pumping = false;
    this.schedule(task, true);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    const epoch = this.epoch;
    while (this.tasks.length > 0 && epoch === this.epoch) await this.tasks.shift()!();
    if (epoch === this.epoch) this.pumping = false;
  }
}
