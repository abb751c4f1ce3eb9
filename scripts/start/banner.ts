/** What every start prints once the API answers: where things are and how to get in. */
export interface BannerFacts {
  baseUrl: string;
  adminKeyFile: string;
  adminKeyCreated: boolean;
  database: string;
  /** Set when the database is the embedded one: the file holding its URL, for `npm run apikey`. */
  databaseUrlFile: string | null;
  queue: string;
  storage: string;
  startupMs: number;
}

export function banner(f: BannerFacts): string {
  const env = f.databaseUrlFile ? `DATABASE_URL="$(cat ${f.databaseUrlFile})" ` : '';
  const lines = [
    '',
    `bootlun is running (started in ${(f.startupMs / 1000).toFixed(1)} s)`,
    `  API         ${f.baseUrl}/api/v1`,
    `  Docs        ${f.baseUrl}/docs`,
    `  Dashboard   ${f.baseUrl}/admin/queues   (user: anything, password: the admin key)`,
    `  Admin key   ${f.adminKeyFile}${f.adminKeyCreated ? '   (created now)' : ''}`,
    `              curl -H "Authorization: Bearer $(cat ${f.adminKeyFile})" ${f.baseUrl}/api/v1/storage/backends`,
    `  More keys   ${env}npm run apikey -- create --role admin --name NAME`,
    `  Database    ${f.database}`,
    `  Queue       ${f.queue}`,
    `  Storage     ${f.storage}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  return lines.join('\n');
}
