import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program.command('demo').description('a newcomer\'s first run (not ready yet)');
}
