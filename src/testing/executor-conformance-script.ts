// The executor suite's commands, and the script that lets the memory executor answer them.
import type { ScriptedCommand } from '../runtime/executor/scripted-types.ts';

/** The suite's commands: small Node programs, run as `node -e <program> args…`. */
export const programs = {
  echoArgs: 'process.stdout.write(JSON.stringify(process.argv.slice(1)))',
  cat: 'process.stdin.pipe(process.stdout)',
  exit: 'process.stderr.write("exiting " + process.argv[1]); process.exitCode = Number(process.argv[1])',
  env: 'process.stdout.write(JSON.stringify(process.env))',
  cwd: 'process.stdout.write(process.cwd())',
  hang: 'setInterval(() => {}, 1 << 30)',
  flood: [
    'const chunk = Buffer.alloc(65536, 120); let left = Number(process.argv[1]) - 8;',
    'process.stdout.write("HEAD");',
    'const go = () => { while (left > 0) { const c = left >= chunk.length ? chunk : chunk.subarray(0, left);',
    'left -= c.length; if (!process.stdout.write(c)) return process.stdout.once("drain", go); }',
    'process.stdout.write("TAIL"); }; go();',
  ].join(' '),
} as const;
// With `shell: true`: prints each positional parameter on its own line.
export const printArgsScript = 'printf "%s\\n" "$@"';

/**
 * A script for `createMemoryExecutor` that answers the suite's commands as the real programs
 * would, so the memory executor can run the suite too.
 */
export function executorConformanceScript(node: string = process.execPath): ScriptedCommand[] {
  const program = (source: string) => (args: readonly string[]) => args[0] === '-e' && args[1] === source;
  return [
    {
      command: node,
      args: program(programs.echoArgs),
      result: (call) => ({ stdout: JSON.stringify(call.args.slice(2)) }),
    },
    {
      command: node,
      args: program(programs.cat),
      result: async (_call, context) => ({ stdout: await context.input() }),
    },
    {
      command: node,
      args: program(programs.exit),
      result: (call) => ({ exitCode: Number(call.args[2]), stderr: `exiting ${call.args[2]}` }),
    },
    { command: node, args: program(programs.env), result: (call) => ({ stdout: JSON.stringify(call.env) }) },
    { command: node, args: program(programs.cwd), result: (call) => ({ stdout: call.cwd ?? process.cwd() }) },
    { command: node, args: program(programs.hang), result: { delayMs: Infinity } },
    {
      command: node,
      args: program(programs.flood),
      result: (call) => ({ stdout: `HEAD${'x'.repeat(Number(call.args[2]) - 8)}TAIL` }),
    },
    {
      command: printArgsScript,
      result: (call) => ({ stdout: call.args.map((arg) => `${arg}\n`).join('') }),
    },
  ];
}
