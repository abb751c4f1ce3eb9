/** Replaces every occurrence of each secret with `***`. Empty strings are ignored. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const live = secrets.filter((s) => s.length > 0);
  return (text) => live.reduce((out, secret) => out.split(secret).join('***'), text);
}
