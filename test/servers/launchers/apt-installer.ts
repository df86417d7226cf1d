// Installer for services that come from Debian packages.
import { spawnSync } from 'node:child_process';
import { log, type Installer } from './definition.ts';
import { isRoot, which } from './machine.ts';

let aptUpdated = false;

/** Installer for services that come from Debian packages: `{ binary: package }`. */
export function aptInstaller(binaries: Readonly<Record<string, string>>): Installer {
  const packages = [...new Set(Object.values(binaries))];
  const installMissing = (): void => {
    const missing = [
      ...new Set(
        Object.entries(binaries)
          .filter(([binary]) => which(binary) === undefined)
          .map(([, pkg]) => pkg),
      ),
    ];
    if (missing.length === 0) return;
    const install = () =>
      run('apt-get', [
        '-o',
        'DPkg::Lock::Timeout=300',
        'install',
        '-y',
        '--no-install-recommends',
        ...missing,
      ]);
    if (install() === 0) return;
    if (!aptUpdated) {
      log(`apt-get install failed; running apt-get update once and retrying`);
      aptUpdated = true;
      if (run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update']) !== 0) {
        throw new Error('apt-get update failed (see above)');
      }
      if (install() === 0) return;
    }
    throw new Error(`apt-get install ${missing.join(' ')} failed (see above)`);
  };
  return {
    describe: `apt-get install ${packages.join(' ')}, as root`,
    isInstalled: () => Object.keys(binaries).every((binary) => which(binary) !== undefined),
    canInstall: () => isRoot() && which('apt-get') !== undefined,
    install: () => Promise.resolve().then(installMissing),
  };
}

/** Runs a command with its output on our stderr (stdout is reserved for env lines). */
function run(command: string, args: string[]): number {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    log(`${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}
