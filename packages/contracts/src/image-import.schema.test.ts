import { httpUrlProblem, importLunBody, redactUrl } from './image-import.schema';

const DIGEST = 'A'.repeat(64);

describe('POST /storage/luns/{id}/import body', () => {
  it('takes an http(s) URL, defaults the format to raw and lower-cases the digest', () => {
    expect(importLunBody.parse({ url: 'https://images.example/debian.raw' })).toEqual({ url: 'https://images.example/debian.raw', format: 'raw' });
    expect(importLunBody.parse({ url: ' http://10.0.0.5:8080/a.qcow2 ', format: 'qcow2', sha256: DIGEST })).toEqual({ url: 'http://10.0.0.5:8080/a.qcow2', format: 'qcow2', sha256: 'a'.repeat(64) });
  });

  const fieldsOf = (body: unknown) => {
    const result = importLunBody.safeParse(body);
    expect(result.success).toBe(false);
    return result.error!.issues.map((i) => ({ field: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(',') : ''), message: i.message }));
  };

  it.each(['ftp://images.example/a.raw', 'file:///etc/shadow', 'javascript:alert(1)', 'images.example/a.raw', '/a.raw', '', 'http://exa mple/a', 'http://a\u0000b/x'])('refuses the URL %j, naming the field', (url) => {
    const fields = fieldsOf({ url });
    expect(fields.map((f) => f.field)).toEqual(['url']);
    // The message never repeats what was sent.
    if (url) expect(fields[0]!.message).not.toContain(url);
  });

  it.each(['abc', 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 42])('refuses the sha256 %j, naming the field', (sha256) => {
    expect(fieldsOf({ url: 'https://x.example/a', sha256 })).toEqual([{ field: 'sha256', message: expect.stringMatching(/SHA-256|string/) }]);
  });

  it('refuses an unknown format and unknown fields', () => {
    expect(fieldsOf({ url: 'https://x.example/a', format: 'vmdk' })).toEqual([{ field: 'format', message: 'must be one of raw, qcow2' }]);
    expect(fieldsOf({ url: 'https://x.example/a', size: 1 }).map((f) => f.field)).toEqual(['size']);
    expect(fieldsOf({}).map((f) => f.field)).toEqual(['url']);
  });

  it('refuses an overlong URL', () => {
    expect(httpUrlProblem(`https://x.example/${'a'.repeat(5000)}`)).toMatch(/at most 4096/);
  });
});

describe('redactUrl', () => {
  it('drops user name, password, query string and fragment, keeping where the image is', () => {
    expect(redactUrl('https://alice:s3cr%40t@images.example:8443/os/debian.raw?X-Amz-Signature=abc&x=1#frag')).toBe('https://***@images.example:8443/os/debian.raw?***');
    expect(redactUrl('http://token@images.example/a.qcow2')).toBe('http://***@images.example/a.qcow2');
    expect(redactUrl('http://images.example/a.raw')).toBe('http://images.example/a.raw');
  });

  it('never echoes a value that does not parse', () => {
    expect(redactUrl('not a url with secret')).toBe('<invalid URL>');
  });
});
