/**
 * API key administration from a shell on the API host (the way to get the first admin key):
 *   npm run apikey -- create --role admin --name NAME   (prints the key alone on the last line)
 *   npm run apikey -- list
 *   npm run apikey -- revoke --name NAME
 */
import { parseArgs } from 'node:util';
import { createApiKeyBody } from '@bootlun/contracts';
import { loadConfigOrExit } from '@bootlun/config';
import { createApiKey } from '@bootlun/core';
import { createPrismaClient, createRepositories } from '@bootlun/db';
import { requireDatabaseUrl } from '@bootlun/runtime';

async function main(): Promise<number> {
  const env = loadConfigOrExit();
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { role: { type: 'string' }, name: { type: 'string' } } });
  const prisma = createPrismaClient(requireDatabaseUrl(env));
  const repo = createRepositories(prisma).apiKeys;
  try {
    switch (positionals[0]) {
      case 'create': {
        const input = createApiKeyBody.safeParse({ name: values.name, role: values.role });
        if (!input.success) {
          process.stderr.write(`usage: apikey create --role viewer|operator|admin --name NAME (${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})\n`);
          return 2;
        }
        const { key, token } = await createApiKey(repo, input.data);
        process.stdout.write(`created ${key.role} key "${key.name}" (${key.id}); it is shown only once:\n${token}\n`);
        return 0;
      }
      case 'list': {
        const page = await repo.list({ limit: 1000, offset: 0 });
        for (const k of page.items) process.stdout.write(`${k.name}\t${k.role}\t${k.revokedAt ? 'revoked' : 'active'}\t${k.createdAt.toISOString()}\n`);
        return 0;
      }
      case 'revoke': {
        const key = (await repo.list({ limit: 1000, offset: 0 })).items.find((k) => k.name === values.name);
        if (!key) {
          process.stderr.write(`no API key named ${values.name}\n`);
          return 1;
        }
        await repo.revoke(key.id);
        process.stdout.write(`revoked ${key.name}\n`);
        return 0;
      }
      default:
        process.stderr.write('usage: apikey create --role viewer|operator|admin --name NAME | list | revoke --name NAME\n');
        return 2;
    }
  } catch (err) {
    process.stderr.write(`apikey: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await prisma.$disconnect();
  }
}

void main().then((code) => process.exit(code));
