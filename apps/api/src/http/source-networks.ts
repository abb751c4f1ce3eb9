import { BlockList, isIP } from 'node:net';

/** An IPv4 address in IPv6 clothing (`::ffff:10.0.0.1`, what a dual-stack socket reports) as plain IPv4. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * The networks allowed to reach an endpoint, from a comma-separated CIDR list
 * ("10.0.0.0/8, fd00::/8, 192.0.2.7"), or "any" for every address. An empty list is
 * refused rather than read as "any": opening the endpoint has to be spelled out.
 * Throws naming the first entry that is not a CIDR.
 */
export class SourceNetworks {
  private readonly list = new BlockList();
  readonly any: boolean;

  constructor(readonly spec: string) {
    const entries = spec.split(',').map((e) => e.trim()).filter(Boolean);
    if (entries.length === 0) throw new Error('BOOT_ALLOWED_NETWORKS is empty: list the allowed networks like 10.0.0.0/8, or write "any"');
    this.any = entries.some((e) => e.toLowerCase() === 'any');
    if (this.any && entries.length > 1) throw new Error('BOOT_ALLOWED_NETWORKS: "any" stands alone; it cannot be combined with networks');
    if (this.any) return;
    for (const entry of entries) {
      const [address = '', prefixText, ...rest] = entry.split('/');
      const family = isIP(address);
      const max = family === 6 ? 128 : 32;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (family === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
        throw new Error(`BOOT_ALLOWED_NETWORKS: "${entry}" is not an IPv4 or IPv6 network like 10.0.0.0/8`);
      }
      this.list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  allows(address: string | undefined): boolean {
    if (this.any) return true;
    if (!address) return false;
    const plain = plainAddress(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}
