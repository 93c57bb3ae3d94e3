// The relayed BOOTREQUESTs perfdhcp sends in bench/dora.sh (options 53, 55 and, for a REQUEST, 50
// and 54), as templates for the in-process cost scripts (codec-engine-cost.ts, packet-path-cost.ts).

/** 10.77.0.2, perfdhcp's address in bench/dora.sh, as giaddr. */
export const PERFDHCP_RELAY = 0x0a4d0002;
/** Offset of option 50's value (the requested address) in a REQUEST template. */
export const REQUESTED_ADDRESS_AT = 240 + 9 + 2;

/** A 300-byte relayed request of DHCP message `type` (1 DISCOVER, 3 REQUEST) to `serverIdentifier`. */
export function perfdhcpTemplate(type: number, serverIdentifier: number): Buffer {
  const p = Buffer.alloc(300);
  p[0] = 1; // BOOTREQUEST
  p[1] = 1; // Ethernet
  p[2] = 6;
  p[3] = 1; // one hop: relayed
  p.writeUInt32BE(PERFDHCP_RELAY, 24);
  p[28] = 0x02;
  p[29] = 0xfe;
  p.writeUInt32BE(0x63825363, 236);
  const options = [53, 1, type, 55, 4, 1, 3, 6, 15];
  if (type === 3) {
    const s = serverIdentifier >>> 0;
    options.push(50, 4, 0, 0, 0, 0, 54, 4, s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255);
  }
  Buffer.from([...options, 255]).copy(p, 240);
  return p;
}
