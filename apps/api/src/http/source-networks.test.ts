import { plainAddress, SourceNetworks } from './source-networks';

describe('SourceNetworks', () => {
  it('allows everything only when "any" is spelled out; an empty list is refused', () => {
    const any = new SourceNetworks(' any ');
    expect(any.any).toBe(true);
    expect(any.allows('203.0.113.9')).toBe(true);
    expect(() => new SourceNetworks(' ')).toThrow(/BOOT_ALLOWED_NETWORKS is empty/);
    expect(() => new SourceNetworks('any, 10.0.0.0/8')).toThrow(/"any" stands alone/);
  });

  it('matches IPv4 and IPv6 networks and single addresses', () => {
    const nets = new SourceNetworks('10.0.0.0/8, 192.0.2.7,fd00::/8');
    expect(nets.allows('10.1.2.3')).toBe(true);
    expect(nets.allows('11.0.0.1')).toBe(false);
    expect(nets.allows('192.0.2.7')).toBe(true);
    expect(nets.allows('192.0.2.8')).toBe(false);
    expect(nets.allows('fd12::1')).toBe(true);
    expect(nets.allows('fe80::1')).toBe(false);
    expect(nets.allows(undefined)).toBe(false);
    expect(nets.allows('garbage')).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 source as IPv4', () => {
    expect(plainAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(new SourceNetworks('127.0.0.0/8').allows('::ffff:127.0.0.1')).toBe(true);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'example.com/24', '10.0.0.0/8/1', '10.0.0.0/x'])('refuses %j naming it', (spec) => {
    expect(() => new SourceNetworks(spec)).toThrow(`"${spec}" is not an IPv4 or IPv6 network`);
  });
});
