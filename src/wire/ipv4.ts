// IPv4 addresses travel through the cores as unsigned 32-bit numbers (network order value),
// and as dotted strings only at the edges (config, API, logs).

export type Ipv4 = number;

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return DOTTED.test(text);
}

/** Parses a dotted quad; throws on anything else (callers validate first at boundaries). */
export function parseIpv4(text: string): Ipv4 {
  if (!DOTTED.test(text)) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

export function formatIpv4(address: Ipv4): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

export function prefixToMask(prefixLength: number): Ipv4 {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function maskToPrefix(mask: Ipv4): number {
  let n = 0;
  for (let m = mask >>> 0; m & 0x80000000; m = (m << 1) >>> 0) n++;
  return n;
}

export interface Ipv4Subnet {
  network: Ipv4;
  prefixLength: number;
  mask: Ipv4;
}

/** "10.0.0.0/8" → subnet; throws on malformed input or host bits set. */
export function parseSubnet(text: string): Ipv4Subnet {
  const [addr, len, extra] = text.split('/');
  const prefixLength = Number(len);
  if (extra !== undefined || addr === undefined || !/^\d{1,2}$/.test(len ?? '') || prefixLength > 32) {
    throw new Error(`not a subnet in CIDR form: ${JSON.stringify(text)}`);
  }
  const mask = prefixToMask(prefixLength);
  const network = parseIpv4(addr);
  if ((network & mask) >>> 0 !== network) {
    throw new Error(
      `subnet ${text} has host bits set (did you mean ${formatIpv4((network & mask) >>> 0)}/${len}?)`,
    );
  }
  return { network, prefixLength, mask };
}

export function subnetContains(subnet: Ipv4Subnet, address: Ipv4): boolean {
  return (address & subnet.mask) >>> 0 === subnet.network;
}

export function subnetBroadcast(subnet: Ipv4Subnet): Ipv4 {
  return (subnet.network | (~subnet.mask >>> 0)) >>> 0;
}

export function formatSubnet(subnet: Ipv4Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefixLength}`;
}

/** Lower-case hex with no separators: the canonical in-core form of hardware addresses and client ids. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[:\-.\s]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean))
    throw new Error(`not hex: ${JSON.stringify(hex)}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** "001122334455" → "00:11:22:33:44:55" (display form for MAC addresses). */
export function formatMac(hex: string): string {
  return hex.replace(/(..)(?!$)/g, '$1:');
}
