/**
 * npm run services -- up | down | status | logs <name> [-n lines] [-f]
 *   up      bring Redis, Kafka, Cassandra and S3 up (reuse, docker compose, or native), apply schema and topics
 *           options: --only redis,kafka   --no-schema   --mode auto|native|docker
 *   down    stop what `up` started (never a service it found running)
 *   status  mode, address, pid and health of each service (--json for machines)
 *   logs    the tail of a service's log (-n 200 lines, -f to follow)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseCommandLine, usageFailure } from '@chat/kit/cli';
import {
  type ManagerOptions,
  SERVICE_NAMES,
  type ServiceName,
  type ServiceStatus,
  serviceLogFile,
  servicesDown,
  servicesStatus,
  servicesUp,
} from './manager.ts';
import { tailFile } from './support.ts';

const USAGE = [
  'usage: npm run services -- up [--only a,b] [--no-schema] [--mode auto|native|docker]',
  '       npm run services -- down [--only a,b]',
  '       npm run services -- status [--json]',
  `       npm run services -- logs <${SERVICE_NAMES.join('|')}> [-n lines] [-f]`,
].join('\n');

function usage(code: number): never {
  if (code === 0) console.log(USAGE);
  else console.error(USAGE);
  process.exit(code);
}

function printStatus(list: readonly ServiceStatus[]): void {
  const rows = list.map((s) => [
    s.name,
    s.mode,
    s.address,
    s.pid ? String(s.pid) : '-',
    s.healthy ? 'healthy' : 'DOWN',
    s.detail,
  ]);
  const head = ['service', 'mode', 'address', 'pid', 'health', 'detail'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
}

const parse = (argv: string[]) =>
  parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        only: { type: 'string' },
        mode: { type: 'string' },
        'no-schema': { type: 'boolean' },
        json: { type: 'boolean' },
        lines: { type: 'string', short: 'n' },
        follow: { type: 'boolean', short: 'f' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    usageFailure('services', USAGE),
  );

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [cmd, ...rest] = positionals;
  if (values.help) usage(0);
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) as ServiceName[] | undefined;
  const opts: ManagerOptions = {
    services: only,
    mode: values.mode as ManagerOptions['mode'],
    applySchema: !values['no-schema'],
  };

  switch (cmd) {
    case 'up': {
      const t0 = Date.now();
      await servicesUp(opts);
      console.log(`all services up in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      printStatus(await servicesStatus(opts));
      return 0;
    }
    case 'down':
      await servicesDown(opts);
      return 0;
    case 'status': {
      const list = await servicesStatus(opts);
      if (values.json) console.log(JSON.stringify(list, null, 2));
      else printStatus(list);
      return list.every((s) => s.healthy) ? 0 : 3;
    }
    case 'logs': {
      const name = rest[0] as ServiceName | undefined;
      if (!name || !SERVICE_NAMES.includes(name)) usage(2);
      const file = serviceLogFile(name);
      if (!existsSync(file)) {
        console.error(`no log yet: ${file} (is ${name} running natively? see: npm run services -- status)`);
        return 1;
      }
      const lines = Number(values.lines ?? 200);
      if (values.follow) {
        const child = spawn('tail', ['-n', String(lines), '-F', file], { stdio: 'inherit' });
        return new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 0)));
      }
      process.stdout.write(`${tailFile(file, lines)}\n`);
      return 0;
    }
    case 'help':
      usage(0);
      break;
    default:
      usage(2);
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
